#include "store/mailbox_state.hpp"

#include "mime/address.hpp"
#include "mime/printable.hpp"

namespace casemail::store {
namespace {

constexpr const char* state_columns =
    "mailbox, folder, uidvalidity, last_uid, processed, backlog, last_poll_at, last_ok_at, last_error, "
    "last_error_at, failures, (SELECT count(*) FROM imap_pending_ack a WHERE a.mailbox_norm = s.mailbox_norm "
    "AND a.uidvalidity = s.uidvalidity), failing_since, last_mail_at, token_expires_at FROM mailbox_state s ";

MailboxState read_state(Statement& st) {
    MailboxState m;
    m.mailbox = st.text(0);
    m.folder = st.text(1);
    m.uidvalidity = st.opt_int64(2);
    m.last_uid = st.int64(3);
    m.processed = st.int64(4);
    m.backlog = st.opt_int64(5);
    m.last_poll_at = st.opt_text(6);
    m.last_ok_at = st.opt_text(7);
    m.last_error = st.opt_text(8);
    m.last_error_at = st.opt_text(9);
    m.failures = static_cast<int>(st.int64(10));
    m.pending_acks = st.int64(11);
    m.failing_since = st.opt_text(12);
    m.last_mail_at = st.opt_text(13);
    m.token_expires_at = st.opt_text(14);
    return m;
}

}  // namespace

MailboxState mailbox_state(Store& store, const std::string& mailbox, const std::string& folder) {
    auto norm = mime::normalize_address(mailbox);
    {
        auto ins = store.db().cached(
            "INSERT INTO mailbox_state(mailbox_norm, mailbox, folder) VALUES (?1, ?2, ?3) "
            "ON CONFLICT(mailbox_norm) DO UPDATE SET folder = excluded.folder WHERE folder <> excluded.folder");
        ins->bind_all(norm, mailbox, folder);
        ins->run();
    }
    auto st = store.db().cached(std::string("SELECT ") + state_columns + "WHERE mailbox_norm = ?1");
    st->bind(1, norm);
    st->step();
    return read_state(*st);
}

std::vector<MailboxState> all_mailbox_states(Store& store) {
    std::vector<MailboxState> out;
    auto st = store.db().cached(std::string("SELECT ") + state_columns + "ORDER BY mailbox_norm");
    while (st->step()) out.push_back(read_state(*st));
    return out;
}

void reset_uidvalidity(Store& store, const std::string& mailbox, std::int64_t uidvalidity) {
    auto norm = mime::normalize_address(mailbox);
    auto up = store.db().cached("UPDATE mailbox_state SET uidvalidity = ?2, last_uid = 0 WHERE mailbox_norm = ?1");
    up->bind_all(norm, uidvalidity);
    up->run();
    auto del = store.db().cached("DELETE FROM imap_pending_ack WHERE mailbox_norm = ?1 AND uidvalidity <> ?2");
    del->bind_all(norm, uidvalidity);
    del->run();
}

void set_cursor(Store& store, const std::string& mailbox, std::int64_t last_uid, std::int64_t processed_delta) {
    auto up = store.db().cached(
        "UPDATE mailbox_state SET last_uid = max(last_uid, ?2), processed = processed + ?3, "
        "last_mail_at = CASE WHEN ?3 > 0 THEN ?4 ELSE last_mail_at END WHERE mailbox_norm = ?1");
    up->bind_all(mime::normalize_address(mailbox), last_uid, processed_delta, store.now_text());
    up->run();
}

void add_pending_ack(Store& store, const std::string& mailbox, std::int64_t uidvalidity, std::int64_t uid,
                     std::optional<Id> email_id) {
    auto st = store.db().cached(
        "INSERT OR REPLACE INTO imap_pending_ack(mailbox_norm, uidvalidity, uid, email_id) VALUES (?1, ?2, ?3, ?4)");
    st->bind_all(mime::normalize_address(mailbox), uidvalidity, uid, email_id);
    st->run();
}

std::vector<std::int64_t> pending_acks(Store& store, const std::string& mailbox, std::int64_t uidvalidity) {
    std::vector<std::int64_t> out;
    auto st = store.db().cached(
        "SELECT uid FROM imap_pending_ack WHERE mailbox_norm = ?1 AND uidvalidity = ?2 ORDER BY uid");
    st->bind_all(mime::normalize_address(mailbox), uidvalidity);
    while (st->step()) out.push_back(st->int64(0));
    return out;
}

void clear_pending_acks(Store& store, const std::string& mailbox, std::int64_t uidvalidity,
                        const std::vector<std::int64_t>& uids) {
    auto st = store.db().cached(
        "DELETE FROM imap_pending_ack WHERE mailbox_norm = ?1 AND uidvalidity = ?2 AND uid = ?3");
    auto norm = mime::normalize_address(mailbox);
    for (auto uid : uids) {
        st->bind_all(norm, uidvalidity, uid);
        st->run();
        st->reset();
    }
}

void set_token_expiry(Store& store, const std::string& mailbox, const std::string& folder, const std::string& expires_at) {
    mailbox_state(store, mailbox, folder);
    auto st = store.db().cached("UPDATE mailbox_state SET token_expires_at = ?2 WHERE mailbox_norm = ?1");
    st->bind_all(mime::normalize_address(mailbox), expires_at);
    st->run();
}

void record_poll(Store& store, const std::string& mailbox, const std::string& folder,
                 const std::optional<std::string>& error, std::optional<std::int64_t> backlog) {
    mailbox_state(store, mailbox, folder);  // a mailbox that never answered has a row too
    auto now = store.now_text();
    if (error) {
        auto st = store.db().cached(
            "UPDATE mailbox_state SET last_poll_at = ?2, last_error = ?3, last_error_at = ?2, "
            "failures = failures + 1, failing_since = coalesce(failing_since, ?2), backlog = coalesce(?4, backlog) "
            "WHERE mailbox_norm = ?1");
        st->bind_all(mime::normalize_address(mailbox), now, mime::printable(*error, 500), backlog);
        st->run();
    } else {
        auto st = store.db().cached(
            "UPDATE mailbox_state SET last_poll_at = ?2, last_ok_at = ?2, failures = 0, failing_since = NULL, "
            "backlog = ?3 WHERE mailbox_norm = ?1");
        st->bind_all(mime::normalize_address(mailbox), now, backlog);
        st->run();
    }
}

}  // namespace casemail::store
