#include "store/ingest.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "mime/address.hpp"
#include "mime/printable.hpp"
#include "mime/strings.hpp"
#include "store/outbox.hpp"

namespace casemail::store {
namespace {

matching::CaseRef read_case_ref(Statement& st) {
    matching::CaseRef c;
    c.id = st.int64(0);
    c.token = st.text(1);
    c.status = read_state<matching::CaseStatus>(st, 2);
    if (auto r = st.opt_text(3)) c.resolved_at = parse_time(*r);
    c.customer_contact_id = st.int64(4);
    c.work_order_system = st.opt_text(5);
    return c;
}

// matching::Lookups answered from SQLite; every query is one indexed lookup.
class SqliteLookups final : public matching::Lookups {
public:
    explicit SqliteLookups(Database& db, std::string planned_message_id = {})
        : db_(db), planned_message_id_(std::move(planned_message_id)) {}

    std::optional<matching::CaseRef> case_by_token(const std::string& token) override {
        auto st = db_.cached(
            R"(SELECT id, token, status, resolved_at, customer_contact_id,
                      (SELECT system FROM work_order WHERE case_id = "case".id AND open = 1)
               FROM "case" WHERE token = ?1)");
        st->bind(1, token);
        if (!st->step()) return std::nullopt;
        return read_case_ref(*st);
    }

    std::vector<std::optional<matching::CaseRef>> cases_by_message_id(const std::string& message_id) override {
        auto st = db_.cached(
            R"(SELECT c.id, c.token, c.status, c.resolved_at, c.customer_contact_id,
                      (SELECT system FROM work_order WHERE case_id = c.id AND open = 1)
               FROM (SELECT DISTINCT case_id FROM email WHERE message_id = ?1 LIMIT 3) e
               LEFT JOIN "case" c ON c.id = e.case_id)");
        st->bind(1, message_id);
        std::vector<std::optional<matching::CaseRef>> out;
        while (st->step()) out.push_back(st->is_null(0) ? std::nullopt : std::optional(read_case_ref(*st)));
        bool on_no_case = std::find(out.begin(), out.end(), std::nullopt) != out.end();
        if (!planned_message_id_.empty() && message_id == planned_message_id_ && !on_no_case && out.size() < 3)
            out.push_back(std::nullopt);  // the planned email itself, not inserted yet
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

    std::optional<matching::QueueRef> queue_by_name(const std::string& name) override {
        auto st = db_.cached("SELECT id, name, mailbox FROM queue WHERE name = ?1");
        st->bind(1, name);
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

    bool sender_on_case(matching::Id case_id, const std::string& address_norm) override {
        auto st = db_.cached(
            R"(SELECT EXISTS(SELECT 1 FROM "case" c JOIN contact k ON k.id = c.customer_contact_id
                             WHERE c.id = ?1 AND k.email_norm = ?2)
                   OR EXISTS(SELECT 1 FROM email e JOIN email_party p ON p.email_id = e.id
                             WHERE e.case_id = ?1 AND p.address_norm = ?2))");
        st->bind_all(case_id, address_norm);
        st->step();
        return st->int64(0) != 0;
    }

    OpenedCases cases_opened_by(const std::string& key, bool domain, matching::TimePoint since) override {
        auto st = db_.cached(domain ? R"(SELECT count(*), max(id) FROM "case" WHERE opened_by_domain = ?1 AND created_at >= ?2)"
                                    : R"(SELECT count(*), max(id) FROM "case" WHERE opened_by = ?1 AND created_at >= ?2)");
        st->bind_all(key, format_time(since));
        st->step();
        OpenedCases out;
        out.count = static_cast<int>(st->int64(0));
        if (st->is_null(1)) return out;
        Id latest = st->int64(1);
        st->reset();
        auto c = db_.cached(R"(SELECT id, token, status, resolved_at, customer_contact_id FROM "case" WHERE id = ?1)");
        c->bind(1, latest);
        if (c->step()) out.latest = read_case_ref(*c);
        auto noted = db_.cached(
            "SELECT EXISTS(SELECT 1 FROM email WHERE case_id = ?1 AND correlation = 'flood' AND received_at >= ?2)");
        noted->bind_all(latest, format_time(since));
        noted->step();
        out.flood_noted = noted->int64(0) != 0;
        return out;
    }

private:
    Database& db_;
    std::string planned_message_id_;
};

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += (out.empty() ? "" : "\n") + mime::printable(l, 300);
    return out;
}

// The case a plan creates, with its guest customer when the plan says so (its audit event is
// recorded once the email is in: see record_guest).
AppliedPlan create_planned_case(Store& store, const matching::IngestPlan& plan, const std::string& actor,
                                std::optional<Id>& guest_id) {
    Id customer = 0;
    if (plan.create_guest) {
        NewContact guest;
        guest.name = plan.guest_name;
        guest.email = plan.guest_address;
        guest.is_guest = true;
        customer = *(guest_id = store.add_contact(guest));
    } else if (plan.customer_contact_id) {
        customer = *plan.customer_contact_id;
    } else {
        throw std::logic_error("ingest plan creates a case without a customer");
    }
    NewCase c;
    c.title = plan.title;
    c.description = plan.description;
    c.customer_contact_id = customer;
    c.origin = "email";
    c.queue_id = plan.queue_id;
    c.parent_case_id = plan.parent_case_id;
    if (c.parent_case_id) {  // one level of children: a follow-up of a child follows its parent
        auto st = store.db().cached(R"(SELECT coalesce(parent_case_id, id) FROM "case" WHERE id = ?1)");
        st->bind(1, *c.parent_case_id);
        if (st->step()) c.parent_case_id = st->int64(0);
    }
    c.needs_review = plan.flag_needs_review;
    c.opened_by = plan.opened_by;
    c.category = plan.category;
    c.request_type = plan.request_type;
    if (plan.priority) c.priority = *plan.priority;
    c.route_rule = plan.route;
    auto opened = store.open_case(c, actor);
    return {0, opened.id, std::move(opened.token), customer};
}

AppliedPlan link_planned_case(Store& store, const matching::IngestPlan& plan, const std::string& actor) {
    if (!plan.linked_case) throw std::logic_error("ingest plan links to no case");
    const auto& c = *plan.linked_case;
    if (plan.reactivate) {
        store.reactivate_case(c.token, actor);
    } else {
        auto st = store.db().cached(R"(UPDATE "case" SET needs_review = max(needs_review, ?2), updated_at = ?3 WHERE id = ?1)");
        st->bind_all(c.id, plan.flag_needs_review, store.now_text());
        st->run();
    }
    return {0, c.id, c.token, c.customer_contact_id};
}

void record_guest(Store& store, Id email_id, const matching::IngestPlan& plan, Id guest_id, const std::string& actor) {
    store.record_event(actor, "guest-created", std::nullopt, guest_id, email_id,
                       plan.ambiguous_sender ? "sender address shared by several registered contacts"
                                             : "no single registered contact with this address");
}

// The email with its outcome: inserted, or (stored before) updated.
Id record_planned_email(Store& store, const PlannedEmail& email, std::optional<Id> case_id,
                        const matching::IngestPlan& plan, const std::vector<std::string>& defects) {
    auto status = matching::email_status(plan.action);
    if (!email.insert) {
        set_email_outcome(store, email.stored, case_id, status, plan.reason, defects, plan.evidence, plan.review_reason);
        return email.stored;
    }
    NewEmail& e = *email.insert;
    e.case_id = case_id;
    e.status = status;
    e.status_reason = plan.reason;
    e.defects = join_lines(defects);
    e.evidence = plan.evidence;
    e.review_reason = plan.review_reason;
    return store.insert_email(e);
}

void add_planned_parties(Store& store, Id email_id, const matching::IngestPlan& plan, std::optional<Id> guest_id) {
    for (const auto& p : plan.parties) {
        Party party;
        party.role = p.role;
        party.name = p.name;
        party.address = p.address;
        party.contact_id = p.is_new_guest ? guest_id : p.contact_id;
        party.queue_id = p.queue_id;
        party.resolved = p.resolved && (party.contact_id || party.queue_id);
        party.candidate_count = static_cast<int>(p.candidates.size());
        store.add_party(email_id, party);
    }
    for (Id contact : plan.history_contact_ids) store.link_email_contact(email_id, contact);
    if (guest_id && plan.link_history_to_new_guest) store.link_email_contact(email_id, *guest_id);
}

}  // namespace

std::unique_ptr<matching::Lookups> make_lookups(Database& db, std::string planned_message_id) {
    return std::make_unique<SqliteLookups>(db, std::move(planned_message_id));
}

matching::QueueRef queue_for_mailbox(Store& store, const std::string& mailbox) {
    SqliteLookups lookups(store.db());
    if (auto q = lookups.queue_by_address(mime::normalize_address(mailbox))) return *q;
    throw Refused(fmt::format("no queue has the mailbox '{}' (add one with: casemail queue add "
                              "--name NAME --mailbox {})",
                              mime::printable(mailbox, 100), mime::printable(mailbox, 100)));
}

std::optional<Id> inbound_email_with_sha256(Store& store, const std::string& raw_sha256, Id exclude) {
    auto st = store.db().cached(
        "SELECT id FROM email WHERE direction = 'in' AND raw_sha256 = ?1 AND message_id IS NULL AND id <> ?2 "
        "ORDER BY id LIMIT 1");
    st->bind_all(raw_sha256, exclude);
    if (!st->step()) return std::nullopt;
    return st->int64(0);
}

std::vector<MessageIdCarrier> inbound_emails_with_message_id(Store& store, const std::string& message_id, Id exclude) {
    std::vector<MessageIdCarrier> out;
    auto st = store.db().cached(
        "SELECT id, fingerprint FROM email WHERE direction = 'in' AND message_id = ?1 AND id <> ?2 ORDER BY id");
    st->bind_all(message_id, exclude);
    while (st->step()) out.push_back({st->int64(0), st->opt_text(1)});
    return out;
}

void set_fingerprint(Store& store, Id email_id, const std::string& fingerprint) {
    auto st = store.db().cached("UPDATE email SET fingerprint = ?2 WHERE id = ?1");
    st->bind_all(email_id, fingerprint);
    st->run();
}

std::string email_raw(Store& store, Id email_id) {
    auto st = store.db().cached("SELECT raw FROM email_raw WHERE email_id = ?1");
    st->bind(1, email_id);
    if (!st->step()) throw Refused(fmt::format("no email with id {}", email_id));
    return st->blob(0);
}

EmailCase email_case(Store& store, Id email_id) {
    auto st = store.db().cached(
        R"(SELECT c.token, c.customer_contact_id FROM email e JOIN "case" c ON c.id = e.case_id WHERE e.id = ?1)");
    st->bind(1, email_id);
    if (!st->step()) return {};
    return {st->text(0), st->int64(1)};
}

void set_email_outcome(Store& store, Id email_id, std::optional<Id> case_id, matching::EmailStatus status,
                       const std::string& reason, const std::vector<std::string>& defects,
                       const matching::Evidence& evidence, const std::string& review_reason) {
    auto st = store.db().cached(
        "UPDATE email SET case_id = ?2, status = ?3, status_reason = ?4, defects = ?5, correlation = ?6, "
        "correlation_detail = ?7, review_reason = nullif(?8, '') WHERE id = ?1");
    st->bind_all(email_id, case_id, matching::name(status), mime::printable(reason, 500), join_lines(defects),
                 evidence.method, mime::printable(evidence.detail, 500), mime::printable(review_reason, 500));
    st->run();
}

AppliedPlan apply_ingest(Store& store, const PlannedEmail& email, const matching::IngestPlan& plan,
                         const std::vector<AttachmentRecord>& attachments, const std::vector<std::string>& defects,
                         const std::string& actor) {
    AppliedPlan applied;
    std::optional<Id> guest_id;
    if (plan.action == matching::Action::created) applied = create_planned_case(store, plan, actor, guest_id);
    else if (plan.action == matching::Action::linked) applied = link_planned_case(store, plan, actor);
    Id email_id = applied.email_id = record_planned_email(store, email, applied.case_id, plan, defects);
    if (guest_id) record_guest(store, email_id, plan, *guest_id, actor);
    if (applied.case_id)
        store.record_event(actor, plan.action == matching::Action::created ? "email-opened-case" : "email-linked",
                           applied.case_id, std::nullopt, email_id, plan.reason);
    add_planned_parties(store, email_id, plan, guest_id);
    store_attachments(store.db(), email_id, attachments);
    if (plan.queue_ack && applied.case_id) {
        NewOutboxEntry ack;
        ack.kind = matching::OutboxKind::ack;
        ack.case_id = applied.case_id;
        ack.reply_to_email_id = email_id;
        ack.to_address = plan.ack_address;
        enqueue_outbox(store, ack);  // rendered from its template by the outbox worker
    }
    return applied;
}

void quarantine_email(Store& store, Id email_id, const std::string& mailbox, const std::string& reason) {
    set_email_outcome(store, email_id, std::nullopt, matching::EmailStatus::quarantined, reason, {});
    auto st = store.db().cached(
        "INSERT INTO quarantine(email_id, mailbox, reason, created_at) VALUES (?1, ?2, ?3, ?4)");
    st->bind_all(email_id, mailbox, reason, store.now_text());
    st->run();
}

QuarantinedMessage quarantined_message(Store& store, Id quarantine_id) {
    auto st = store.db().cached(
        "SELECT q.email_id, q.mailbox, r.raw, q.released_at FROM quarantine q JOIN email_raw r ON r.email_id = q.email_id "
        "WHERE q.id = ?1");
    st->bind(1, quarantine_id);
    if (!st->step()) throw Refused(fmt::format("no quarantined message with id {}", quarantine_id));
    if (!st->is_null(3)) throw Refused(fmt::format("quarantined message {} was already released", quarantine_id));
    return {st->int64(0), st->text(1), st->blob(2)};
}

void requarantine(Store& store, Id quarantine_id, const std::string& reason) {
    auto st = store.db().cached("UPDATE quarantine SET reason = ?2, retried_at = ?3 WHERE id = ?1");
    st->bind_all(quarantine_id, reason, store.now_text());
    st->run();
}

void release_quarantine(Store& store, Id quarantine_id) {
    auto st = store.db().cached("UPDATE quarantine SET retried_at = ?2, released_at = ?2 WHERE id = ?1");
    st->bind_all(quarantine_id, store.now_text());
    st->run();
}

void set_parsed_fields(Store& store, Id email_id, const ParsedFields& f) {
    auto st = store.db().cached(
        "UPDATE email SET message_id = ?2, in_reply_to = ?3, refs = ?4, subject = ?5, body_text = ?6, fingerprint = ?7 "
        "WHERE id = ?1");
    st->bind_all(email_id, f.message_id, mime::join(f.in_reply_to, " "), mime::join(f.references, " "), f.subject,
                 f.body_text, f.fingerprint);
    st->run();
}

std::vector<QuarantineEntry> quarantine_list(Store& store) {
    std::vector<QuarantineEntry> out;
    auto st = store.db().cached(
        "SELECT q.id, q.email_id, coalesce(q.mailbox, ''), q.reason, q.created_at, q.retried_at, length(r.raw) "
        "FROM quarantine q JOIN email_raw r ON r.email_id = q.email_id WHERE q.released_at IS NULL ORDER BY q.id");
    while (st->step())
        out.push_back({st->int64(0), st->int64(1), st->text(2), st->text(3), st->text(4), st->opt_text(5),
                       static_cast<std::size_t>(st->int64(6))});
    return out;
}

}  // namespace casemail::store
