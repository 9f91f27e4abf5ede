#include "store/store.hpp"

#include <ctime>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <iomanip>
#include <sstream>

#include "matching/token.hpp"
#include "mime/address.hpp"
#include "mime/digest.hpp"
#include "mime/strings.hpp"
#include "store/migrations.hpp"
#include "store/random.hpp"

namespace casemail::store {
namespace {


// The columns read_case() expects, in order.
constexpr const char* case_columns = R"sql(
    c.id, c.token, c.title, c.description, c.status, c.origin, c.priority,
    c.customer_contact_id, c.property_account_id, c.business_account_id, c.queue_id,
    c.parent_case_id, q.name, c.request_type, c.category, c.owner, c.anonymous,
    c.wants_updates, c.confidential, c.needs_review, c.acknowledged_at, c.resolved_at,
    c.resolution, c.created_at, c.updated_at,
    (SELECT count(*) FROM email e WHERE e.case_id = c.id)
  FROM "case" c LEFT JOIN queue q ON q.id = c.queue_id )sql";

Contact read_contact(Statement& st) {
    Contact c;
    c.id = st.int64(0);
    c.name = st.text(1);
    c.email = st.text(2);
    c.email_norm = st.text(3);
    c.phone = st.opt_text(4);
    c.is_guest = st.int64(5) != 0;
    c.is_registered = st.int64(6) != 0;
    c.archived_at = st.opt_text(7);
    c.merged_into = st.opt_int64(8);
    c.created_at = st.text(9);
    return c;
}

constexpr const char* contact_columns =
    "id, full_name, email, email_norm, phone, is_guest, is_registered, archived_at, "
    "merged_into, created_at FROM contact ";

}  // namespace

std::string format_time(std::chrono::system_clock::time_point t) {
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", secs);
}

std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& iso) {
    std::tm tm{};
    std::istringstream in(iso);
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
    if (in.fail()) return std::nullopt;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Store::Store(Database db, StoreOptions options) : db_(std::move(db)), options_(std::move(options)) {}

Store Store::open(const std::string& path, StoreOptions options) {
    if (!matching::valid_token_prefix(options.token_prefix))
        throw std::invalid_argument(
            fmt::format("invalid token prefix '{}': use 1-16 characters A-Z, 0-9",
                        options.token_prefix));
    Store s(Database::open(path, options.open), std::move(options));
    s.schema_version_ = migrate(s.db_, &s.migration_notes_);
    return s;
}

std::chrono::system_clock::time_point Store::now() const {
    return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

// ---- contacts ---------------------------------------------------------------------------

Id Store::add_contact(const NewContact& c) {
    auto st = db_.cached(
        "INSERT INTO contact(full_name, email, email_norm, phone, is_guest, is_registered, "
        "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    st->bind_all(c.name, c.email, mime::normalize_address(c.email), c.phone, c.is_guest,
                c.is_registered, now_text());
    st->run();
    return db_.last_insert_rowid();
}

std::optional<Contact> Store::find_contact(Id id) {
    auto st = db_.cached(std::string("SELECT ") + contact_columns + "WHERE id = ?1");
    st->bind(1, id);
    if (!st->step()) return std::nullopt;
    return read_contact(*st);
}

std::vector<Contact> Store::list_contacts(const std::optional<std::string>& email) {
    std::vector<Contact> out;
    if (email) {
        auto st =
            db_.cached(std::string("SELECT ") + contact_columns + "WHERE email_norm = ?1 ORDER BY id");
        st->bind(1, mime::normalize_address(*email));
        while (st->step()) out.push_back(read_contact(*st));
    } else {
        auto st = db_.cached(std::string("SELECT ") + contact_columns + "ORDER BY id");
        while (st->step()) out.push_back(read_contact(*st));
    }
    return out;
}

void Store::merge_guest(Id guest_id, Id into_id, const std::string& actor) {
    auto guest = find_contact(guest_id);
    auto into = find_contact(into_id);
    if (!guest) throw Refused(fmt::format("no contact with id {}", guest_id));
    if (!into) throw Refused(fmt::format("no contact with id {}", into_id));
    if (!guest->is_guest) throw Refused(fmt::format("contact {} is not a guest", guest_id));
    if (!into->is_registered) throw Refused(fmt::format("contact {} is not registered: merge guests into a registered contact", into_id));
    if (guest->merged_into) throw Refused(fmt::format("guest {} was already merged into {}", guest_id, *guest->merged_into));
    if (into->archived_at) throw Refused(fmt::format("contact {} is archived", into_id));
    Savepoint sp(db_, "merge_guest");
    auto now = now_text();
    auto st = db_.cached("UPDATE contact SET merged_into = ?2, archived_at = coalesce(archived_at, ?3) WHERE id = ?1");
    st->bind_all(guest_id, into_id, now);
    st->run();
    std::vector<std::pair<Id, std::string>> moved;
    {
        auto cs = db_.cached(R"(SELECT id, token FROM "case" WHERE customer_contact_id = ?1 AND status <> 'resolved')");
        cs->bind(1, guest_id);
        while (cs->step()) moved.emplace_back(cs->int64(0), cs->text(1));
    }
    for (const auto& [case_id, token] : moved) {
        auto up = db_.cached(R"(UPDATE "case" SET customer_contact_id = ?2, updated_at = ?3 WHERE id = ?1)");
        up->bind_all(case_id, into_id, now);
        up->run();
        record_event(actor, "customer-changed", case_id, into_id, std::nullopt,
                     fmt::format("guest {} merged into contact {}", guest_id, into_id));
    }
    auto links = db_.cached(
        "INSERT OR IGNORE INTO email_contact(email_id, contact_id) SELECT email_id, ?2 FROM email_contact WHERE contact_id = ?1");
    links->bind_all(guest_id, into_id);
    links->run();
    record_event(actor, "merged", std::nullopt, guest_id, std::nullopt,
                 fmt::format("guest {} merged into contact {}; {} active case(s) moved", guest_id, into_id, moved.size()));
    sp.release();
}

void Store::archive_contact(Id id, const std::string& actor) {
    auto c = find_contact(id);
    if (!c) throw Refused(fmt::format("no contact with id {}", id));
    if (c->archived_at) throw Refused(fmt::format("contact {} is already archived", id));
    Savepoint sp(db_, "archive_contact");
    mark_archived(id, actor, c->is_guest ? "guest" : "contact");
    sp.release();
}

void Store::mark_archived(Id id, const std::string& actor, const std::string& detail) {
    auto st = db_.cached("UPDATE contact SET archived_at = ?2 WHERE id = ?1");
    st->bind_all(id, now_text());
    st->run();
    record_event(actor, "archived", std::nullopt, id, std::nullopt, detail);
}

int Store::archive_guests_before(std::chrono::system_clock::time_point cutoff, const std::string& actor) {
    Savepoint sp(db_, "archive_guests");
    std::vector<Id> ids;
    {
        auto st = db_.cached(
            "SELECT id FROM contact WHERE is_guest = 1 AND archived_at IS NULL AND merged_into IS NULL "
            "AND created_at < ?1 ORDER BY id");
        st->bind(1, format_time(cutoff));
        while (st->step()) ids.push_back(st->int64(0));
    }
    auto detail = fmt::format("guest created before {}", format_time(cutoff));
    for (Id id : ids) mark_archived(id, actor, detail);
    sp.release();
    return static_cast<int>(ids.size());
}

// ---- accounts ---------------------------------------------------------------------------

Id Store::add_account(const NewAccount& a) {
    auto st = db_.cached(
        "INSERT INTO account(kind, name, civic_address, parcel_id, ward, property_type, "
        "business_license, category, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    st->bind_all(a.kind, a.name, a.civic_address, a.parcel_id, a.ward, a.property_type,
                a.business_license, a.category, now_text());
    st->run();
    return db_.last_insert_rowid();
}

std::optional<Account> Store::find_account(Id id) {
    auto st = db_.cached(
        "SELECT id, kind, name, civic_address, parcel_id, ward, property_type, business_license, "
        "category FROM account WHERE id = ?1");
    st->bind(1, id);
    if (!st->step()) return std::nullopt;
    Account a;
    a.id = st->int64(0);
    a.fields.kind = st->text(1);
    a.fields.name = st->text(2);
    a.fields.civic_address = st->opt_text(3);
    a.fields.parcel_id = st->opt_text(4);
    a.fields.ward = st->opt_text(5);
    a.fields.property_type = st->opt_text(6);
    a.fields.business_license = st->opt_text(7);
    a.fields.category = st->opt_text(8);
    return a;
}

// ---- queues -----------------------------------------------------------------------------

Id Store::add_queue(const std::string& name, const std::string& mailbox,
                    const std::optional<std::string>& display_name) {
    auto st = db_.cached(
        "INSERT INTO queue(name, mailbox, mailbox_norm, display_name, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    st->bind_all(name, mailbox, mime::normalize_address(mailbox), display_name, now_text());
    try {
        st->run();
    } catch (const ConstraintError&) {
        throw Refused(fmt::format("a queue named '{}' or with mailbox '{}' already exists", name,
                                  mailbox));
    }
    return db_.last_insert_rowid();
}

std::vector<Queue> Store::list_queues() {
    std::vector<Queue> out;
    auto st = db_.cached("SELECT id, name, mailbox, display_name FROM queue ORDER BY id");
    while (st->step()) out.push_back({st->int64(0), st->text(1), st->text(2), st->opt_text(3)});
    return out;
}

std::optional<Queue> Store::find_queue(const std::string& name_or_mailbox) {
    auto st = db_.cached(
        "SELECT id, name, mailbox, display_name FROM queue WHERE name = ?1 OR mailbox_norm = ?2 "
        "ORDER BY name = ?1 DESC LIMIT 1");
    st->bind_all(name_or_mailbox, mime::normalize_address(name_or_mailbox));
    if (!st->step()) return std::nullopt;
    return Queue{st->int64(0), st->text(1), st->text(2), st->opt_text(3)};
}

std::optional<Queue> Store::find_queue_by_id(Id id) {
    auto st = db_.cached("SELECT id, name, mailbox, display_name FROM queue WHERE id = ?1");
    st->bind(1, id);
    if (!st->step()) return std::nullopt;
    return Queue{st->int64(0), st->text(1), st->text(2), st->opt_text(3)};
}

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

CaseRecord Store::create_case(const NewCase& c, const std::string& actor) {
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
              updated_at, needs_review)
              VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, ?18))sql");
    st->bind_all(token, static_cast<std::int64_t>(seq), c.title, c.description,
                c.customer_contact_id, c.property_account_id, c.business_account_id, c.origin,
                c.request_type, c.category, c.priority, c.queue_id, c.anonymous, c.wants_updates,
                c.confidential, c.parent_case_id, now, c.needs_review);
    st->run();
    Id id = db_.last_insert_rowid();
    record_event(actor, "created", id, c.customer_contact_id, std::nullopt,
                 fmt::format("origin={}", c.origin));
    sp.release();
    auto created = find_case(id);
    if (!created) throw Error(0, fmt::format("case {} vanished inside its own savepoint", id));
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
    r.email_count = st.int64(25);
    return r;
}

std::optional<CaseRecord> Store::find_case(const std::string& token) {
    // Tokens are compared upper-cased: citizens retype them in any case.
    auto parts = matching::parse_token(token);
    if (!parts) return std::nullopt;
    auto canonical = fmt::format("{}-{:0{}}-{}", parts->prefix, parts->sequence,
                                 matching::token_min_digits, parts->suffix);
    auto st = db_.cached(std::string("SELECT ") + case_columns + "WHERE c.token = ?1");
    st->bind(1, canonical);
    if (!st->step()) return std::nullopt;
    return read_case(*st);
}

std::optional<CaseRecord> Store::find_case(Id id) {
    auto st = db_.cached(std::string("SELECT ") + case_columns + "WHERE c.id = ?1");
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
    auto st = db_.cached(std::string("SELECT ") + case_columns +
                          "WHERE (?1 IS NULL OR c.queue_id = ?1) AND (?2 IS NULL OR c.status = ?2) "
                          "ORDER BY c.id");
    std::optional<std::string_view> status;
    if (filter.status) status = matching::name(*filter.status);
    st->bind_all(queue_id, status);
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
    // The old resolution lives on in the audit log.
    record_event(actor, "reactivated", c.id, std::nullopt, std::nullopt,
                 fmt::format("previous resolution ({}): {}", c.resolved_at.value_or("?"),
                             c.resolution.value_or("")));
    sp.release();
}

void Store::edit_case(const std::string& token, const CaseEdit& edit, const std::string& actor) {
    auto c = require_case(token);
    if (c.status == matching::CaseStatus::resolved)
        throw Refused(fmt::format("case {} is resolved: reactivate it before editing", c.token));
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

Id Store::insert_email(const NewEmail& e) {
    auto st = db_.cached(
        "INSERT INTO email(case_id, direction, message_id, in_reply_to, refs, subject, body_text, "
        "raw_sha256, mailbox, received_at, status, fingerprint) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    st->bind_all(e.case_id, matching::name(e.direction), e.message_id, mime::join(e.in_reply_to, " "),
                mime::join(e.references, " "), e.subject, e.body_text,
                e.raw_sha256.empty() ? mime::sha256_hex(e.raw) : std::string(e.raw_sha256),
                e.mailbox, now_text(), matching::name(e.status), e.fingerprint);
    st->run();
    Id id = db_.last_insert_rowid();
    auto raw = db_.cached("INSERT INTO email_raw(email_id, raw) VALUES (?1, ?2)");
    raw->bind(1, id);
    raw->bind_borrowed(2, as_blob(e.raw));  // e.raw outlives run()
    raw->run();
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
            "SELECT id, case_id, direction, message_id, subject, received_at, status FROM email "
            "WHERE case_id = ?1 ORDER BY id");
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
