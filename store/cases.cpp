// The Store's cases (tokens, reading, listing, editing, reactivation), the emails on them and
// the audit log; contacts, accounts and queues are in store.cpp.
#include <fmt/format.h>

#include "matching/token.hpp"
#include "mime/address.hpp"
#include "mime/digest.hpp"
#include "mime/printable.hpp"
#include "mime/strings.hpp"
#include "store/random.hpp"
#include "store/sla.hpp"
#include "store/store.hpp"

namespace casemail::store {
namespace {

// The columns read_case() expects, in order.
// The email count only where a listing shows it: counting is a scan of the case's emails, and
// the relay and ingest read a case for every message (a case with thousands of emails made
// each reply to it slower than the last).
std::string case_select_sql(bool with_email_count) {
    return fmt::format(R"sql(SELECT
    c.id, c.token, c.title, c.description, c.status, c.origin, c.priority,
    c.customer_contact_id, c.property_account_id, c.business_account_id, c.queue_id,
    c.parent_case_id, q.name, c.request_type, c.category, c.owner, c.anonymous,
    c.wants_updates, c.confidential, c.needs_review, c.acknowledged_at, c.resolved_at,
    c.resolution, c.created_at, c.updated_at,
    {}, c.resolution_type, c.time_spent_minutes, c.route_rule
  FROM "case" c LEFT JOIN queue q ON q.id = c.queue_id )sql",
                       with_email_count ? "(SELECT count(*) FROM email e WHERE e.case_id = c.id)" : "NULL");
}

const std::string& case_select(bool with_email_count) {
    static const std::string with = case_select_sql(true), without = case_select_sql(false);
    return with_email_count ? with : without;
}

}  // namespace

// ---- cases ------------------------------------------------------------------------------

std::string Store::draw_token() {
    std::array<unsigned char, matching::token_suffix_length> suffix{};
    std::size_t filled = 0;
    while (filled < suffix.size()) {
        std::array<unsigned char, 16> buf{};
        random_bytes(buf);
        // Rejection sampling: 252 = 7 * 36, so r % 36 is uniform for r < 252.
        for (std::size_t i = 0; i < buf.size() && filled < suffix.size(); ++i)
            if (buf[i] < 252) suffix[filled++] = buf[i];
    }
    auto st = db_.cached(
        "UPDATE sequence SET value = value + 1 WHERE name = 'case_token' RETURNING value");
    if (!st->step()) throw Error(0, "case token sequence is missing from the store");
    auto seq = static_cast<std::uint64_t>(st->int64(0));
    return matching::format_token(options_.token_prefix, seq, suffix);
}

Store::OpenedCase Store::open_case(const NewCase& c, const std::string& actor) {
    if (c.customer_contact_id <= 0) throw Refused("a case needs a customer contact");
    Savepoint sp(db_, "create_case");
    auto token = draw_token();
    auto parts = matching::parse_token(token);
    if (!parts) throw std::logic_error("draw_token made a token parse_token refuses: " + token);
    auto seq = parts->sequence;
    auto now = now_text();
    auto st = db_.cached(
        R"sql(INSERT INTO "case"(token, token_sequence, title, description, customer_contact_id,
              property_account_id, business_account_id, origin, request_type, category, priority,
              queue_id, anonymous, wants_updates, confidential, parent_case_id, created_at,
              updated_at, needs_review, opened_by, opened_by_domain, route_rule)
              VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, ?18,
                      nullif(?19, ''), nullif(substr(?19, instr(?19, '@') + 1), ''), nullif(?20, '')))sql");
    st->bind_all(token, static_cast<std::int64_t>(seq), c.title, BorrowedText{c.description},
                c.customer_contact_id, c.property_account_id, c.business_account_id, c.origin,
                c.request_type, c.category, c.priority, c.queue_id, c.anonymous, c.wants_updates,
                c.confidential, c.parent_case_id, now, c.needs_review, c.opened_by, c.route_rule);
    st->run();
    Id id = db_.last_insert_rowid();
    record_event(actor, "created", id, c.customer_contact_id, std::nullopt,
                 fmt::format("origin={}", c.origin));
    sp.release();
    return {id, std::move(token)};
}

CaseRecord Store::create_case(const NewCase& c, const std::string& actor) {
    auto opened = open_case(c, actor);
    auto created = find_case(opened.id);
    if (!created) throw Error(0, fmt::format("case {} vanished after its insert", opened.id));
    return *created;
}

CaseRecord Store::read_case(Statement& st) {
    CaseRecord r;
    r.id = st.int64(0);
    r.token = st.text(1);
    r.title = st.text(2);
    r.description = st.text(3);
    r.status = read_state<matching::CaseStatus>(st, 4);
    r.origin = st.text(5);
    r.priority = st.text(6);
    r.customer_contact_id = st.int64(7);
    r.property_account_id = st.opt_int64(8);
    r.business_account_id = st.opt_int64(9);
    r.queue_id = st.opt_int64(10);
    r.parent_case_id = st.opt_int64(11);
    r.queue_name = st.opt_text(12);
    r.request_type = st.opt_text(13);
    r.category = st.opt_text(14);
    r.owner = st.opt_text(15);
    r.anonymous = st.int64(16) != 0;
    r.wants_updates = st.int64(17) != 0;
    r.confidential = st.int64(18) != 0;
    r.needs_review = st.int64(19) != 0;
    r.acknowledged_at = st.opt_text(20);
    r.resolved_at = st.opt_text(21);
    r.resolution = st.opt_text(22);
    r.created_at = st.text(23);
    r.updated_at = st.text(24);
    r.email_count = st.opt_int64(25);
    r.resolution_type = st.opt_text(26);
    r.time_spent_minutes = st.opt_int64(27);
    r.route_rule = st.opt_text(28);
    return r;
}

std::optional<CaseRecord> Store::find_case(const std::string& token) {
    // Tokens are compared upper-cased: citizens retype them in any case.
    auto parts = matching::parse_token(token);
    if (!parts) return std::nullopt;
    auto canonical = fmt::format("{}-{:0{}}-{}", parts->prefix, parts->sequence,
                                 matching::token_min_digits, parts->suffix);
    auto st = db_.cached(case_select(false) + "WHERE c.token = ?1");
    st->bind(1, canonical);
    if (!st->step()) return std::nullopt;
    return read_case(*st);
}

std::optional<CaseRecord> Store::find_case(Id id) {
    auto st = db_.cached(case_select(false) + "WHERE c.id = ?1");
    st->bind(1, id);
    if (!st->step()) return std::nullopt;
    return read_case(*st);
}

CaseRecord Store::require_case(const std::string& token) {
    auto c = find_case(token);
    if (!c) throw Refused(fmt::format("no case with token '{}'", token));
    return *c;
}

std::vector<CaseRecord> Store::list_cases(const CaseFilter& filter) {
    std::optional<Id> queue_id;
    if (filter.queue) {
        auto q = find_queue(*filter.queue);
        if (!q) throw Refused(fmt::format("no queue named '{}'", *filter.queue));
        queue_id = q->id;
    }
    auto st = db_.cached(case_select(true) +
                          "WHERE (?1 IS NULL OR c.queue_id = ?1) AND (?2 IS NULL OR c.status = ?2) "
                          "AND (?3 IS NULL OR c.owner = ?3) AND (?4 = 0 OR (c.owner IS NULL AND c.status = 'active')) "
                          "ORDER BY CASE WHEN ?4 = 1 THEN c.created_at END, c.id");
    std::optional<std::string_view> status;
    if (filter.status) status = matching::name(*filter.status);
    st->bind_all(queue_id, status, filter.owner, filter.waiting);
    std::vector<CaseRecord> out;
    while (st->step()) out.push_back(read_case(*st));
    return out;
}

void Store::resolve_case(const std::string& token, const std::string& resolution,
                         const std::string& actor) {
    auto c = require_case(token);
    if (c.status != matching::CaseStatus::active)
        throw Refused(fmt::format("case {} is {}, only an active case can be resolved", c.token,
                                  matching::name(c.status)));
    if (resolution.empty()) throw Refused("a resolution text is required");
    Savepoint sp(db_, "resolve_case");
    auto now = now_text();
    auto st = db_.cached(
        R"sql(UPDATE "case" SET status = 'resolved', resolution = ?2, resolved_at = ?3,
              needs_review = 0, updated_at = ?3 WHERE id = ?1)sql");
    st->bind_all(c.id, resolution, now);
    st->run();
    record_event(actor, "resolved", c.id, std::nullopt, std::nullopt, resolution);
    sp.release();
}

void Store::reactivate_case(const std::string& token, const std::string& actor) {
    auto c = require_case(token);
    if (c.status != matching::CaseStatus::resolved)
        throw Refused(fmt::format("case {} is {}, only a resolved case can be reactivated",
                                  c.token, matching::name(c.status)));
    Savepoint sp(db_, "reactivate_case");
    auto st = db_.cached(
        R"sql(UPDATE "case" SET status = 'active', resolution = NULL, resolved_at = NULL,
              updated_at = ?2 WHERE id = ?1)sql");
    st->bind_all(c.id, now_text());
    st->run();
    hold_while_resolved(*this, c.id, c.resolved_at.value_or(now_text()), actor);  // SLA clocks skip it
    // The old resolution lives on in the audit log.
    record_event(actor, "reactivated", c.id, std::nullopt, std::nullopt,
                 fmt::format("previous resolution ({}): {}", c.resolved_at.value_or("?"),
                             c.resolution.value_or("")));
    sp.release();
}

std::optional<std::string> Store::open_work_order_system(Id case_id) {
    auto st = db().cached("SELECT system FROM work_order WHERE case_id = ?1 AND open = 1");
    st->bind(1, case_id);
    if (!st->step()) return std::nullopt;
    return st->text(0);
}

void Store::edit_case(const std::string& token, const CaseEdit& edit, const std::string& actor) {
    auto c = require_case(token);
    if (c.status == matching::CaseStatus::resolved)
        throw Refused(fmt::format("case {} is resolved: reactivate it before editing", c.token));
    if (auto system = open_work_order_system(c.id))
        throw Refused(fmt::format("case {} is with the work-order system {}: it changes there", c.token, *system));
    std::vector<std::string> changed;
    auto note = [&](const char* field, const auto& value) {
        if (value) changed.push_back(fmt::format("{}={}", field, *value));
    };
    note("title", edit.title);
    note("priority", edit.priority);
    note("category", edit.category);
    note("request_type", edit.request_type);
    note("owner", edit.owner);
    note("property_account_id", edit.property_account_id);
    note("business_account_id", edit.business_account_id);
    note("anonymous", edit.anonymous);
    note("wants_updates", edit.wants_updates);
    note("confidential", edit.confidential);
    if (changed.empty()) throw Refused("nothing to change");
    Savepoint sp(db_, "edit_case");
    auto st = db_.cached(R"sql(UPDATE "case" SET
        title = coalesce(?2, title), priority = coalesce(?3, priority),
        category = coalesce(?4, category), request_type = coalesce(?5, request_type),
        owner = coalesce(?6, owner), property_account_id = coalesce(?7, property_account_id),
        business_account_id = coalesce(?8, business_account_id),
        anonymous = coalesce(?9, anonymous), wants_updates = coalesce(?10, wants_updates),
        confidential = coalesce(?11, confidential), updated_at = ?12 WHERE id = ?1)sql");
    st->bind_all(c.id, edit.title, edit.priority, edit.category, edit.request_type, edit.owner,
                edit.property_account_id, edit.business_account_id, edit.anonymous,
                edit.wants_updates, edit.confidential, now_text());
    try {
        st->run();
    } catch (const ConstraintError& e) {
        throw Refused(fmt::format("case {} not changed: {}", c.token, e.what()));
    }
    std::string detail;
    for (const auto& ch : changed) detail += (detail.empty() ? "" : " ") + ch;
    record_event(actor, "edited", c.id, std::nullopt, std::nullopt, detail);
    sp.release();
}

// ---- emails -----------------------------------------------------------------------------

// A raw message this big is inserted as zeroblob(N) and written into its pages in place: an
// INSERT of the value itself makes SQLite build a record holding a whole copy of it (28 MB
// more at the peak of one 28 MB message). Opening the blob costs about a statement's prepare,
// so the small messages that are most of the mail take the plain INSERT.
constexpr std::size_t raw_written_in_place_from = 256 * 1024;

Id Store::insert_email(const NewEmail& e) {
    auto st = db_.cached(
        "INSERT INTO email(case_id, direction, message_id, in_reply_to, refs, subject, body_text, "
        "raw_sha256, mailbox, received_at, status, fingerprint, correlation, correlation_detail, status_reason, "
        "defects, review_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
        "nullif(?17, ''))");
    st->bind_all(e.case_id, matching::name(e.direction), e.message_id, mime::join(e.in_reply_to, " "),
                mime::join(e.references, " "), e.subject, BorrowedText{e.body_text},
                e.raw_sha256.empty() ? mime::sha256_hex(e.raw) : std::string(e.raw_sha256),
                e.mailbox, now_text(), matching::name(e.status), e.fingerprint, e.evidence.method,
                mime::printable(e.evidence.detail, 500), mime::printable(e.status_reason, 500), e.defects,
                mime::printable(e.review_reason, 500));
    st->run();
    Id id = db_.last_insert_rowid();
    if (e.raw.size() < raw_written_in_place_from) {
        auto raw = db_.cached("INSERT INTO email_raw(email_id, raw) VALUES (?1, ?2)");
        raw->bind(1, id);
        raw->bind_borrowed(2, as_blob(e.raw));  // e.raw outlives run()
        raw->run();
        return id;
    }
    auto raw = db_.cached("INSERT INTO email_raw(email_id, raw) VALUES (?1, zeroblob(?2))");
    raw->bind_all(id, static_cast<std::int64_t>(e.raw.size()));
    raw->run();
    db_.write_blob("email_raw", "raw", id, e.raw);
    return id;
}

Id Store::add_party(Id email_id, const Party& p) {
    auto st = db_.cached(
        "INSERT INTO email_party(email_id, role, display_name, address, address_norm, contact_id, "
        "queue_id, resolved, candidate_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    st->bind_all(email_id, p.role, p.name, p.address, mime::normalize_address(p.address),
                p.contact_id, p.queue_id, p.resolved, p.candidate_count);
    st->run();
    return db_.last_insert_rowid();
}

void Store::link_email_contact(Id email_id, Id contact_id) {
    auto st = db_.cached(
        "INSERT OR IGNORE INTO email_contact(email_id, contact_id) VALUES (?1, ?2)");
    st->bind_all(email_id, contact_id);
    st->run();
}

std::vector<EmailRecord> Store::case_emails(Id case_id) {
    std::vector<EmailRecord> out;
    {
        auto st = db_.cached(
            "SELECT id, case_id, direction, message_id, subject, received_at, status, status_reason, correlation, "
            "correlation_detail, review_reason FROM email WHERE case_id = ?1 ORDER BY id");
        st->bind(1, case_id);
        while (st->step()) {
            EmailRecord e;
            e.id = st->int64(0);
            e.case_id = st->opt_int64(1);
            e.direction = read_state<matching::Direction>(*st, 2);
            e.message_id = st->opt_text(3);
            e.subject = st->text(4);
            e.received_at = st->text(5);
            e.status = read_state<matching::EmailStatus>(*st, 6);
            e.status_reason = st->text(7);
            e.correlation = st->text(8);
            e.correlation_detail = st->text(9);
            e.review_reason = st->opt_text(10);
            out.push_back(std::move(e));
        }
    }
    for (auto& e : out) {
        auto ps = db_.cached(
            "SELECT id, role, display_name, address, contact_id, queue_id, resolved, "
            "candidate_count FROM email_party WHERE email_id = ?1 ORDER BY id");
        ps->bind(1, e.id);
        while (ps->step())
            e.parties.push_back({ps->int64(0), ps->text(1), ps->text(2), ps->text(3), ps->opt_int64(4),
                                 ps->opt_int64(5), ps->int64(6) != 0,
                                 static_cast<int>(ps->int64(7))});
        auto ls = db_.cached(
            "SELECT contact_id FROM email_contact WHERE email_id = ?1 ORDER BY contact_id");
        ls->bind(1, e.id);
        while (ls->step()) e.linked_contact_ids.push_back(ls->int64(0));
    }
    return out;
}

// ---- audit log --------------------------------------------------------------------------

void Store::record_event(const std::string& actor, const std::string& kind,
                         std::optional<Id> case_id, std::optional<Id> contact_id,
                         std::optional<Id> email_id, const std::string& detail) {
    auto st = db_.cached(
        "INSERT INTO event(at, actor, kind, case_id, contact_id, email_id, detail) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    st->bind_all(now_text(), actor, kind, case_id, contact_id, email_id, detail);
    st->run();
}

std::vector<Event> Store::case_events(Id case_id) {
    std::vector<Event> out;
    auto st = db_.cached(
        "SELECT id, at, actor, kind, detail, case_id, contact_id, email_id FROM event "
        "WHERE case_id = ?1 ORDER BY id");
    st->bind(1, case_id);
    while (st->step())
        out.push_back({st->int64(0), st->text(1), st->text(2), st->text(3), st->text(4),
                       st->opt_int64(5), st->opt_int64(6), st->opt_int64(7)});
    return out;
}

}  // namespace casemail::store
