#include "store/outbox.hpp"

#include <fmt/format.h>

#include "mime/address.hpp"
#include "mime/printable.hpp"
#include "mime/strings.hpp"
#include "store/sla.hpp"

namespace casemail::store {
namespace {

constexpr const char* entry_columns =
    "o.id, o.kind, o.case_id, o.reply_to_email_id, o.email_id, c.token, o.to_address, coalesce(o.envelope_from, ''), "
    "coalesce(o.envelope_to, ''), o.message_id, o.status, o.attempts, o.next_attempt_at, o.last_error, "
    "o.delivered_at, o.hold_reason, o.raw IS NOT NULL OR o.raw_is_email, o.created_at "
    "FROM outbox o LEFT JOIN \"case\" c ON c.id = o.case_id ";

OutboxEntry read_entry(Statement& st) {
    OutboxEntry e;
    e.id = st.int64(0);
    e.kind = read_state<matching::OutboxKind>(st, 1);
    e.case_id = st.opt_int64(2);
    e.reply_to_email_id = st.opt_int64(3);
    e.email_id = st.opt_int64(4);
    e.case_token = st.opt_text(5);
    e.to_address = st.text(6);
    e.envelope_from = st.text(7);
    e.envelope_to = mime::split(st.text(8), '\n');
    e.message_id = st.opt_text(9);
    e.status = read_state<matching::OutboxStatus>(st, 10);
    e.attempts = static_cast<int>(st.int64(11));
    e.next_attempt_at = st.opt_text(12);
    e.last_error = st.opt_text(13);
    e.delivered_at = st.opt_text(14);
    e.hold_reason = st.opt_text(15);
    e.rendered = st.int64(16) != 0;
    e.created_at = st.text(17);
    return e;
}

void set_email_status(Database& db, std::optional<Id> email_id, matching::EmailStatus status, const std::string& reason) {
    if (!email_id) return;
    auto st = db.cached("UPDATE email SET status = ?2, status_reason = ?3 WHERE id = ?1");
    st->bind_all(*email_id, matching::name(status), mime::printable(reason, 500));
    st->run();
}

}  // namespace

Id enqueue_outbox(Store& store, const NewOutboxEntry& e) {
    if (e.raw_is_email && (!e.email_id || e.raw))
        throw std::logic_error("enqueue_outbox: raw_is_email needs the recorded email and no raw of its own");
    auto st = store.db().cached(
        "INSERT INTO outbox(kind, case_id, reply_to_email_id, email_id, to_address, to_address_norm, envelope_from, "
        "envelope_to, message_id, status, hold_reason, raw, raw_is_email, next_attempt_at, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)");
    st->bind_all(matching::name(e.kind), e.case_id, e.reply_to_email_id, e.email_id, e.to_address, mime::normalize_address(e.to_address),
                 e.envelope_from, mime::join(e.envelope_to, "\n"), e.message_id, matching::name(e.status), e.hold_reason,
                 e.raw ? std::optional(as_blob(*e.raw)) : std::nullopt, e.raw_is_email,
                 store.now_text());
    st->run();
    return store.db().last_insert_rowid();
}

std::vector<OutboxEntry> list_outbox(Store& store, std::optional<matching::OutboxStatus> status) {
    std::vector<OutboxEntry> out;
    auto st = store.db().cached(std::string("SELECT ") + entry_columns + "WHERE ?1 IS NULL OR o.status = ?1 ORDER BY o.id");
    if (status) st->bind(1, matching::name(*status));
    while (st->step()) out.push_back(read_entry(*st));
    return out;
}

std::optional<OutboxEntry> find_outbox(Store& store, Id id) {
    auto st = store.db().cached(std::string("SELECT ") + entry_columns + "WHERE o.id = ?1");
    st->bind(1, id);
    if (!st->step()) return std::nullopt;
    return read_entry(*st);
}

OutboxEntry require_outbox(Store& store, Id id) {
    auto e = find_outbox(store, id);
    if (!e) throw Refused(fmt::format("no outbox entry with id {}", id));
    return *e;
}

std::string outbox_raw(Store& store, Id id) {
    auto st = store.db().cached(
        "SELECT CASE WHEN o.raw_is_email THEN r.raw ELSE coalesce(o.raw, x'') END "
        "FROM outbox o LEFT JOIN email_raw r ON r.email_id = o.email_id WHERE o.id = ?1");
    st->bind(1, id);
    if (!st->step()) return {};
    return st->blob(0);
}

std::vector<OutboxEntry> due_outbox(Store& store, std::chrono::system_clock::time_point now, int limit) {
    std::vector<OutboxEntry> out;
    auto st = store.db().cached(std::string("SELECT ") + entry_columns +
                                "WHERE o.status = 'pending' AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?1) "
                                "ORDER BY o.next_attempt_at, o.id LIMIT ?2");
    st->bind_all(format_time(now), limit);
    while (st->step()) out.push_back(read_entry(*st));
    return out;
}

void set_outbox_rendered(Store& store, Id id, const std::string& envelope_from, const std::vector<std::string>& envelope_to,
                         const std::string& message_id, Id email_id) {
    auto st = store.db().cached(
        "UPDATE outbox SET raw = NULL, raw_is_email = 1, envelope_from = ?2, envelope_to = ?3, message_id = ?4, "
        "email_id = ?5 WHERE id = ?1");
    st->bind_all(id, envelope_from, mime::join(envelope_to, "\n"), message_id, email_id);
    st->run();
}

void mark_outbox_delivered(Store& store, Id id, const std::string& server_reply) {
    auto e = find_outbox(store, id);
    if (!e) return;
    auto now = store.now_text();
    auto st = store.db().cached(
        "UPDATE outbox SET status = 'delivered', delivered_at = ?2, attempts = attempts + 1, last_error = NULL, "
        "next_attempt_at = NULL WHERE id = ?1");
    st->bind_all(id, now);
    st->run();
    set_email_status(store.db(), e->email_id, matching::EmailStatus::sent, server_reply);
    if (e->case_id && (e->kind == matching::OutboxKind::ack || e->kind == matching::OutboxKind::reply)) {
        auto ack = store.db().cached(R"(UPDATE "case" SET acknowledged_at = ?2 WHERE id = ?1 AND acknowledged_at IS NULL)");
        ack->bind_all(*e->case_id, now);
        ack->run();
        store.record_event("casemaild", "email-sent", e->case_id, std::nullopt, e->email_id,
                           fmt::format("{} to {} delivered: {}", matching::name(e->kind), mime::printable(e->to_address, 100),
                                       mime::printable(server_reply, 200)));
    }
}

void mark_outbox_retry(Store& store, Id id, const std::string& error, std::chrono::system_clock::time_point next) {
    auto st = store.db().cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1");
    st->bind_all(id, mime::printable(error, 500), format_time(next));
    st->run();
}

void mark_outbox_failed(Store& store, Id id, const std::string& error) {
    auto e = find_outbox(store, id);
    if (!e) return;
    auto st = store.db().cached(
        "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2, next_attempt_at = NULL WHERE id = ?1");
    st->bind_all(id, mime::printable(error, 500));
    st->run();
    set_email_status(store.db(), e->email_id, matching::EmailStatus::failed, error);
    if (e->case_id)
        store.record_event("casemaild", "email-failed", e->case_id, std::nullopt, e->email_id,
                           fmt::format("{} to {} failed: {}", matching::name(e->kind), mime::printable(e->to_address, 100),
                                       mime::printable(error, 300)));
}

void retry_outbox(Store& store, Id id, const std::string& actor) {
    auto e = find_outbox(store, id);
    if (!e) throw Refused(fmt::format("no outbox entry with id {}", id));
    if (e->status != matching::OutboxStatus::failed && e->status != matching::OutboxStatus::held)
        throw Refused(fmt::format("outbox entry {} is {}; only failed or held entries can be retried", id,
                                  matching::name(e->status)));
    auto st = store.db().cached(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?2, hold_reason = NULL, created_at = ?2 WHERE id = ?1");
    st->bind_all(id, store.now_text());
    st->run();
    set_email_status(store.db(), e->email_id, matching::EmailStatus::queued, "retry requested by " + actor);
    if (e->status == matching::OutboxStatus::held && e->kind == matching::OutboxKind::reply && e->case_id)
        record_first_response(store, *e->case_id, actor, fmt::format("held agent's reply released (outbox {})", id));
    store.record_event(actor, "outbox-retry", e->case_id, std::nullopt, e->email_id,
                       fmt::format("outbox entry {} ({}) queued again", id, matching::name(e->status)));
}

}  // namespace casemail::store
