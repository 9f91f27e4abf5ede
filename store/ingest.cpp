#include "store/ingest.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "mime/address.hpp"
#include "matching/ingest.hpp"
#include "mime/decode.hpp"
#include "mime/digest.hpp"
#include "mime/printable.hpp"
#include "mime/strings.hpp"

namespace casemail::store {
namespace {

matching::CaseRef read_case_ref(Statement& st) {
    matching::CaseRef c;
    c.id = st.int64(0);
    c.token = st.text(1);
    c.status = st.text(2);
    if (auto r = st.opt_text(3)) c.resolved_at = parse_time(*r);
    c.customer_contact_id = st.int64(4);
    return c;
}

// matching::Lookups answered from SQLite; every query is one indexed lookup.
class SqliteLookups final : public matching::Lookups {
public:
    explicit SqliteLookups(Database& db) : db_(db) {}

    std::optional<matching::CaseRef> case_by_token(const std::string& token) override {
        auto st = db_.cached(
            R"(SELECT id, token, status, resolved_at, customer_contact_id FROM "case" WHERE token = ?1)");
        st->bind(1, token);
        if (!st->step()) return std::nullopt;
        return read_case_ref(*st);
    }

    std::vector<std::optional<matching::CaseRef>> cases_by_message_id(const std::string& message_id) override {
        auto st = db_.cached(
            R"(SELECT c.id, c.token, c.status, c.resolved_at, c.customer_contact_id
               FROM (SELECT DISTINCT case_id FROM email WHERE message_id = ?1 LIMIT 3) e
               LEFT JOIN "case" c ON c.id = e.case_id)");
        st->bind(1, message_id);
        std::vector<std::optional<matching::CaseRef>> out;
        while (st->step()) out.push_back(st->is_null(0) ? std::nullopt : std::optional(read_case_ref(*st)));
        return out;
    }

    std::vector<matching::ContactRef> active_contacts(const std::string& address_norm) override {
        std::vector<matching::ContactRef> out;
        if (address_norm.empty()) return out;
        auto st = db_.cached(
            "SELECT id, is_guest, is_registered FROM contact WHERE email_norm = ?1 "
            "AND archived_at IS NULL AND merged_into IS NULL ORDER BY id");
        st->bind(1, address_norm);
        while (st->step()) out.push_back({st->int64(0), st->int64(1) != 0, st->int64(2) != 0});
        return out;
    }

    std::optional<matching::QueueRef> queue_by_address(const std::string& address_norm) override {
        auto st = db_.cached("SELECT id, name, mailbox FROM queue WHERE mailbox_norm = ?1");
        st->bind(1, address_norm);
        if (!st->step()) return std::nullopt;
        return matching::QueueRef{st->int64(0), st->text(1), st->text(2)};
    }

    int acks_since(const std::string& address_norm, matching::TimePoint since) override {
        auto st = db_.cached(
            "SELECT count(*) FROM outbox WHERE to_address_norm = ?1 AND kind = 'ack' AND created_at >= ?2");
        st->bind_all(address_norm, format_time(since));
        st->step();
        return static_cast<int>(st->int64(0));
    }

private:
    Database& db_;
};

}  // namespace

std::unique_ptr<matching::Lookups> make_lookups(Database& db) { return std::make_unique<SqliteLookups>(db); }

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += (out.empty() ? "" : "\n") + mime::printable(l, 300);
    return out;
}

std::string extension_of(const std::string& filename) {
    auto dot = filename.rfind('.');
    if (dot == std::string::npos) return {};
    std::string ext = filename.substr(dot + 1);
    // "invoice.pdf.exe " and "invoice.exe." are the same trick
    while (!ext.empty() && (ext.back() == ' ' || ext.back() == '.')) ext.pop_back();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

void store_attachments(Database& db, Id email_id, const mime::ParsedMessage& msg,
                       const std::vector<std::string>& blocked_extensions) {
    for (const auto& a : msg.attachments) {
        bool blocked = std::find(blocked_extensions.begin(), blocked_extensions.end(),
                                 extension_of(a.filename)) != blocked_extensions.end();
        if (!blocked) {
            auto blob = db.cached("INSERT OR IGNORE INTO attachment_blob(sha256, content) VALUES (?1, ?2)");
            blob->bind_all(a.sha256, std::span<const unsigned char>(
                                        reinterpret_cast<const unsigned char*>(a.data.data()), a.data.size()));
            blob->run();
        }
        auto st = db.cached(
            "INSERT INTO attachment(email_id, filename, content_type, size, sha256, stored, blocked) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        st->bind_all(email_id, a.filename, a.content_type, static_cast<std::int64_t>(a.size), a.sha256,
                    !blocked, blocked);
        st->run();
    }
}

// An earlier inbound email that is this same message.
struct PriorCopy {
    Id email_id = 0;
    std::string reason;
};

std::optional<Id> same_bytes(Database& db, const std::string& raw_sha256, Id exclude) {
    auto st = db.cached("SELECT id FROM email WHERE direction = 'in' AND raw_sha256 = ?1 AND id <> ?2 ORDER BY id LIMIT 1");
    st->bind_all(raw_sha256, exclude);
    if (!st->step()) return std::nullopt;
    return st->int64(0);
}

// Emails stored before fingerprints existed get theirs when their Message-ID comes again.
std::optional<std::string> backfill_fingerprint(Database& db, Id email_id, const mime::Limits& limits) {
    auto st = db.cached("SELECT raw FROM email WHERE id = ?1");
    st->bind(1, email_id);
    if (!st->step()) return std::nullopt;
    auto bytes = st->blob(0);
    st->reset();
    auto parsed = mime::parse_message(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), limits);
    if (!parsed) return std::nullopt;
    auto fingerprint = matching::message_fingerprint(*parsed);
    auto up = db.cached("UPDATE email SET fingerprint = ?2 WHERE id = ?1");
    up->bind_all(email_id, fingerprint);
    up->run();
    return fingerprint;
}

// The copy of this message stored before (same bytes; or same Message-ID and fingerprint),
// if any. A different message reusing a known Message-ID is not a copy: it gets a defect.
std::optional<PriorCopy> find_prior_copy(Database& db, const std::string& raw_sha256, const std::string& message_id,
                                         const std::optional<std::string>& fingerprint, Id exclude,
                                         const mime::Limits& limits, std::vector<std::string>& defects) {
    if (auto id = same_bytes(db, raw_sha256, exclude)) return PriorCopy{*id, "identical message already ingested"};
    if (message_id.empty() || !fingerprint) return std::nullopt;
    std::vector<std::pair<Id, std::optional<std::string>>> carriers;
    {
        auto st = db.cached(
            "SELECT id, fingerprint FROM email WHERE direction = 'in' AND message_id = ?1 AND id <> ?2 ORDER BY id");
        st->bind_all(message_id, exclude);
        while (st->step()) carriers.emplace_back(st->int64(0), st->opt_text(1));
    }
    for (auto& [id, print] : carriers) {
        if (!print) print = backfill_fingerprint(db, id, limits);
        if (print == fingerprint)
            return PriorCopy{id, "the same message (Message-ID, sender, date, subject and content) already ingested"};
    }
    if (!carriers.empty())
        mime::add_defect(defects, fmt::format("Message-ID reused by a different message (email {} has it)",
                                              carriers.front().first));
    return std::nullopt;
}

void set_email_outcome(Database& db, Id email_id, std::optional<Id> case_id, const std::string& status,
                       const std::string& reason, const std::vector<std::string>& defects) {
    auto st = db.cached(
        "UPDATE email SET case_id = ?2, status = ?3, status_reason = ?4, defects = ?5 WHERE id = ?1");
    st->bind_all(email_id, case_id, status, mime::printable(reason, 500), join_lines(defects));
    st->run();
}

}  // namespace

Ingestor::Ingestor(Store& store, IngestOptions options) : store_(store), options_(std::move(options)) {}

matching::QueueRef Ingestor::queue_for(const std::string& mailbox) {
    SqliteLookups lookups(store_.db());
    if (auto q = lookups.queue_by_address(mime::normalize_address(mailbox))) return *q;
    throw Refused(fmt::format("no queue has the mailbox '{}' (add one with: casemail queue add "
                              "--name NAME --mailbox {})",
                              mime::printable(mailbox, 100), mime::printable(mailbox, 100)));
}

IngestResult Ingestor::ingest(std::string_view raw, const std::string& mailbox) {
    auto parsed = mime::parse_message(raw, options_.limits);
    return store_and_process(raw, mailbox, parsed ? &*parsed : nullptr, parsed ? std::string() : parsed.error());
}

IngestResult Ingestor::quarantine(std::string_view raw, const std::string& mailbox, const std::string& reason) {
    return store_and_process(raw, mailbox, nullptr, reason);
}

IngestResult Ingestor::store_and_process(std::string_view raw, const std::string& mailbox,
                                         const mime::ParsedMessage* parsed, const std::string& quarantine_reason) {
    auto queue = queue_for(mailbox);
    auto& db = store_.db();
    Savepoint sp(db, "ingest_message");

    NewEmail e;
    e.direction = "in";
    e.raw = std::string(raw);
    e.raw_sha256 = mime::sha256_hex(raw);
    e.mailbox = queue.mailbox;
    if (parsed) {
        if (!parsed->message_id.empty()) {
            e.message_id = parsed->message_id;
            e.fingerprint = matching::message_fingerprint(*parsed);
        }
        e.in_reply_to = parsed->in_reply_to;
        e.references = parsed->references;
        e.subject = parsed->subject;
        e.body_text = parsed->text;
    }
    IngestResult result;
    result.message_id = parsed ? parsed->message_id : std::string();
    std::vector<std::string> copy_defects;
    if (auto prior = find_prior_copy(db, e.raw_sha256, result.message_id, e.fingerprint, 0, options_.limits,
                                     copy_defects)) {
        // Seen before: report what happened to it the first time. Nothing changes but the
        // fingerprints computed for older copies.
        sp.release();
        return duplicate_of(prior->email_id, prior->reason, result.message_id);
    }
    Id email_id = store_.insert_email(e);

    if (!parsed) {
        set_email_outcome(db, email_id, std::nullopt, "quarantined", quarantine_reason, {});
        auto st = db.cached(
            "INSERT INTO quarantine(email_id, mailbox, reason, created_at) VALUES (?1, ?2, ?3, ?4)");
        st->bind_all(email_id, queue.mailbox, quarantine_reason, store_.now_text());
        st->run();
        sp.release();
        result.action = "quarantined";
        result.email_id = email_id;
        result.reason = quarantine_reason;
        return result;
    }
    result = process(email_id, *parsed, queue, copy_defects);
    sp.release();
    return result;
}

IngestResult Ingestor::duplicate_of(Id prior_email_id, const std::string& why, const std::string& message_id) {
    IngestResult result;
    result.action = "duplicate";
    result.message_id = message_id;
    result.reason = fmt::format("{} (email {})", why, prior_email_id);
    result.email_id = prior_email_id;
    auto st = store_.db().cached(R"(SELECT c.token, c.customer_contact_id FROM email e JOIN "case" c ON c.id = e.case_id
                                   WHERE e.id = ?1)");
    st->bind(1, prior_email_id);
    if (st->step()) {
        result.case_token = st->text(0);
        result.customer_id = st->int64(1);
    }
    return result;
}

IngestResult Ingestor::process(Id email_id, const mime::ParsedMessage& msg, const matching::QueueRef& queue,
                               const std::vector<std::string>& copy_defects) {
    auto& db = store_.db();
    SqliteLookups lookups(db);
    auto plan = matching::plan_ingest(msg, queue, options_.rules, lookups, store_.now());
    const auto& actor = options_.actor;

    IngestResult result;
    result.action = matching::action_name(plan.action);
    result.message_id = msg.message_id;
    result.email_id = email_id;
    result.reason = plan.reason;
    result.defects = msg.defects;
    result.defects.insert(result.defects.end(), copy_defects.begin(), copy_defects.end());
    result.defects.insert(result.defects.end(), plan.defects.begin(), plan.defects.end());

    std::optional<Id> case_id;
    std::optional<Id> guest_id;
    if (plan.action == matching::Action::created) {
        Id customer = 0;
        if (plan.create_guest) {
            NewContact guest;
            guest.name = plan.guest_name;
            guest.email = plan.guest_address;
            guest.is_guest = true;
            customer = *(guest_id = store_.add_contact(guest));
            store_.record_event(actor, "guest-created", std::nullopt, customer, email_id,
                                plan.ambiguous_sender ? "sender address shared by several registered contacts"
                                                      : "no single registered contact with this address");
        } else {
            customer = *plan.customer_contact_id;
        }
        NewCase c;
        c.title = plan.title;
        c.description = plan.description;
        c.customer_contact_id = customer;
        c.origin = "email";
        c.queue_id = plan.queue_id;
        c.parent_case_id = plan.parent_case_id;
        c.needs_review = plan.flag_needs_review;
        auto rec = store_.create_case(c, actor);
        case_id = rec.id;
        result.case_token = rec.token;
        result.customer_id = customer;
    } else if (plan.action == matching::Action::linked) {
        case_id = plan.linked_case->id;
        result.case_token = plan.linked_case->token;
        result.customer_id = plan.linked_case->customer_contact_id;
        if (plan.reactivate) {
            store_.reactivate_case(plan.linked_case->token, actor);
        } else if (plan.flag_needs_review) {
            auto st = db.cached(R"(UPDATE "case" SET needs_review = 1, updated_at = ?2 WHERE id = ?1)");
            st->bind_all(*case_id, store_.now_text());
            st->run();
        } else {
            auto st = db.cached(R"(UPDATE "case" SET updated_at = ?2 WHERE id = ?1)");
            st->bind_all(*case_id, store_.now_text());
            st->run();
        }
    }
    set_email_outcome(db, email_id, case_id, result.action, plan.reason, result.defects);
    if (case_id)
        store_.record_event(actor, plan.action == matching::Action::created ? "email-opened-case" : "email-linked",
                            case_id, std::nullopt, email_id, plan.reason);

    for (const auto& p : plan.parties) {
        Party party;
        party.role = p.role;
        party.name = p.name;
        party.address = p.address;
        party.contact_id = p.is_new_guest ? guest_id : p.contact_id;
        party.queue_id = p.queue_id;
        party.resolved = p.resolved && (party.contact_id || party.queue_id);
        party.candidate_count = static_cast<int>(p.candidates.size());
        store_.add_party(email_id, party);
    }
    for (Id contact : plan.history_contact_ids) store_.link_email_contact(email_id, contact);
    if (guest_id && plan.link_history_to_new_guest) store_.link_email_contact(email_id, *guest_id);
    store_attachments(db, email_id, msg, options_.blocked_extensions);

    if (plan.queue_ack && case_id) {
        auto st = db.cached(
            "INSERT INTO outbox(kind, case_id, reply_to_email_id, to_address, to_address_norm, status, created_at) "
            "VALUES ('ack', ?1, ?2, ?3, ?4, 'pending', ?5)");
        st->bind_all(*case_id, email_id, plan.ack_address, mime::normalize_address(plan.ack_address),
                    store_.now_text());
        st->run();
    }
    return result;
}

IngestResult Ingestor::retry_quarantined(Id quarantine_id) {
    auto& db = store_.db();
    auto st = db.cached(
        "SELECT q.email_id, q.mailbox, e.raw, q.released_at FROM quarantine q JOIN email e ON e.id = q.email_id "
        "WHERE q.id = ?1");
    st->bind(1, quarantine_id);
    if (!st->step()) throw Refused(fmt::format("no quarantined message with id {}", quarantine_id));
    if (!st->is_null(3)) throw Refused(fmt::format("quarantined message {} was already released", quarantine_id));
    Id email_id = st->int64(0);
    std::string mailbox = st->text(1);
    auto raw_bytes = st->blob(2);
    st->reset();
    std::string raw(raw_bytes.begin(), raw_bytes.end());
    auto queue = queue_for(mailbox);
    auto parsed = mime::parse_message(raw, options_.limits);

    Savepoint sp(db, "retry_quarantined");
    auto now = store_.now_text();
    IngestResult result;
    result.email_id = email_id;
    if (!parsed) {
        auto up = db.cached("UPDATE quarantine SET reason = ?2, retried_at = ?3 WHERE id = ?1");
        up->bind_all(quarantine_id, parsed.error(), now);
        up->run();
        sp.release();
        result.action = "quarantined";
        result.reason = parsed.error();
        return result;
    }
    auto rel = db.cached("UPDATE quarantine SET retried_at = ?2, released_at = ?2 WHERE id = ?1");
    rel->bind_all(quarantine_id, now);
    rel->run();
    std::optional<std::string> message_id, fingerprint;
    if (!parsed->message_id.empty()) {
        message_id = parsed->message_id;
        fingerprint = matching::message_fingerprint(*parsed);
    }
    std::vector<std::string> copy_defects;
    if (auto prior = find_prior_copy(db, mime::sha256_hex(raw), parsed->message_id, fingerprint, email_id,
                                     options_.limits, copy_defects)) {
        // The same message arrived again meanwhile and was processed: this copy is a duplicate.
        auto dup = duplicate_of(prior->email_id, prior->reason, parsed->message_id);
        set_email_outcome(db, email_id, std::nullopt, "duplicate", dup.reason, parsed->defects);
        sp.release();
        return dup;
    }
    auto up = db.cached(
        "UPDATE email SET message_id = ?2, in_reply_to = ?3, refs = ?4, subject = ?5, body_text = ?6, fingerprint = ?7 "
        "WHERE id = ?1");
    up->bind_all(email_id, message_id, mime::join(parsed->in_reply_to, " "), mime::join(parsed->references, " "),
                 parsed->subject, parsed->text, fingerprint);
    up->run();
    result = process(email_id, *parsed, queue, copy_defects);
    sp.release();
    return result;
}

std::vector<ReviewItem> review_items(Store& store) {
    auto& db = store.db();
    std::vector<ReviewItem> out;
    auto st = db.cached(
        R"(SELECT p.id, p.email_id, c.token, p.role, p.address, p.address_norm FROM email_party p
           JOIN email e ON e.id = p.email_id LEFT JOIN "case" c ON c.id = e.case_id
           WHERE p.resolved = 0 AND p.candidate_count >= 2 ORDER BY p.id)");
    std::vector<std::string> norms;
    while (st->step()) {
        out.push_back({st->int64(0), st->int64(1), st->opt_text(2), st->text(3), st->text(4), {}});
        norms.push_back(st->text(5));
    }
    st->reset();
    SqliteLookups lookups(db);
    for (std::size_t i = 0; i < out.size(); ++i)
        for (const auto& c : lookups.active_contacts(norms[i])) out[i].candidate_contact_ids.push_back(c.id);
    return out;
}

void link_party(Store& store, Id party_id, Id contact_id, bool as_customer, const std::string& actor) {
    auto& db = store.db();
    auto st = db.cached(
        R"(SELECT p.email_id, p.role, p.address_norm, p.resolved, e.case_id FROM email_party p
           JOIN email e ON e.id = p.email_id WHERE p.id = ?1)");
    st->bind(1, party_id);
    if (!st->step()) throw Refused(fmt::format("no party with id {}", party_id));
    Id email_id = st->int64(0);
    std::string role = st->text(1), address_norm = st->text(2);
    bool resolved = st->int64(3) != 0;
    auto case_id = st->opt_int64(4);
    st->reset();
    if (resolved) throw Refused(fmt::format("party {} is already resolved", party_id));
    auto contact = store.find_contact(contact_id);
    if (!contact) throw Refused(fmt::format("no contact with id {}", contact_id));
    if (contact->email_norm != address_norm)
        throw Refused(fmt::format("contact {} has the address '{}', not '{}'", contact_id, contact->email,
                                  address_norm));
    if (contact->archived_at || contact->merged_into)
        throw Refused(fmt::format("contact {} is archived or merged", contact_id));

    Savepoint sp(db, "link_party");
    auto up = db.cached("UPDATE email_party SET contact_id = ?2, resolved = 1 WHERE id = ?1");
    up->bind_all(party_id, contact_id);
    up->run();
    store.link_email_contact(email_id, contact_id);
    store.record_event(actor, "party-linked", case_id, contact_id, email_id,
                       fmt::format("{} {} linked to contact {}", role, address_norm, contact_id));
    if (as_customer) {
        if (role != "from") throw Refused("--as-customer applies to the sender (from) party only");
        if (!case_id) throw Refused("this email is not on a case");
        // Only the email that opened the case may decide its customer.
        auto first = db.cached("SELECT min(id) FROM email WHERE case_id = ?1 AND direction = 'in'");
        first->bind(1, *case_id);
        first->step();
        Id first_email = first->int64(0);
        first->reset();
        if (first_email != email_id)
            throw Refused("--as-customer: this email did not open its case; the customer stays");
        auto rec = store.find_case(*case_id);
        if (rec->status != "active") throw Refused(fmt::format("case {} is {}: reactivate it first", rec->token, rec->status));
        auto cu = db.cached(R"(UPDATE "case" SET customer_contact_id = ?2, updated_at = ?3 WHERE id = ?1)");
        cu->bind_all(*case_id, contact_id, store.now_text());
        cu->run();
        store.record_event(actor, "customer-changed", case_id, contact_id, email_id,
                           fmt::format("customer {} -> {} (sender review)", rec->customer_contact_id, contact_id));
    }
    sp.release();
}

std::vector<QuarantineEntry> quarantine_list(Store& store) {
    std::vector<QuarantineEntry> out;
    auto st = store.db().cached(
        "SELECT q.id, q.email_id, coalesce(q.mailbox, ''), q.reason, q.created_at, q.retried_at, length(e.raw) "
        "FROM quarantine q JOIN email e ON e.id = q.email_id WHERE q.released_at IS NULL ORDER BY q.id");
    while (st->step())
        out.push_back({st->int64(0), st->int64(1), st->text(2), st->text(3), st->text(4), st->opt_text(5),
                       static_cast<std::size_t>(st->int64(6))});
    return out;
}

}  // namespace casemail::store
