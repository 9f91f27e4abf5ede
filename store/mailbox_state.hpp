// Where each polled IMAP mailbox stands, and the acknowledgement journal.
//
// Contract (commit before acknowledge): the poller records a fetched message's UID with
// add_pending_ack() and advances the cursor with set_cursor() inside the same transaction that
// ingests the message. Only after that commit does it flag/move/delete on the server, and only
// after the server confirmed does it clear_pending_acks(). A crash anywhere leaves each message
// either uncommitted (fetched again: the cursor did not move) or committed with its UID in the
// journal (acknowledged on the next poll). Re-ingesting is a harmless "duplicate".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace casemail::store {

struct MailboxState {
    std::string mailbox;
    std::string folder;
    std::optional<std::int64_t> uidvalidity;
    std::int64_t last_uid = 0;
    std::int64_t processed = 0;
    std::optional<std::int64_t> backlog;
    std::optional<std::string> last_poll_at, last_ok_at, last_error, last_error_at;
    int failures = 0;  // consecutive failed polls
    std::int64_t pending_acks = 0;
    std::optional<std::string> failing_since;  // the first failed poll since the last good one
    std::optional<std::string> last_mail_at;   // the last poll that brought new mail
    std::optional<std::string> token_expires_at;  // of the OAuth2 access token casemail fetched
};

// The state of `mailbox` (created empty on first use).
MailboxState mailbox_state(Store& store, const std::string& mailbox, const std::string& folder);
std::vector<MailboxState> all_mailbox_states(Store& store);

// A new UIDVALIDITY: every UID we knew is void. Forgets the cursor and the journal.
void reset_uidvalidity(Store& store, const std::string& mailbox, std::int64_t uidvalidity);
void set_cursor(Store& store, const std::string& mailbox, std::int64_t last_uid, std::int64_t processed_delta);

void add_pending_ack(Store& store, const std::string& mailbox, std::int64_t uidvalidity, std::int64_t uid,
                     std::optional<Id> email_id);
std::vector<std::int64_t> pending_acks(Store& store, const std::string& mailbox, std::int64_t uidvalidity);
void clear_pending_acks(Store& store, const std::string& mailbox, std::int64_t uidvalidity,
                        const std::vector<std::int64_t>& uids);

// A new OAuth2 access token for the mailbox: when it expires, for `casemail status`.
void set_token_expiry(Store& store, const std::string& mailbox, const std::string& folder, const std::string& expires_at);

// The outcome of one poll, for `casemail status`. An error counts a failure; success resets.
void record_poll(Store& store, const std::string& mailbox, const std::string& folder,
                 const std::optional<std::string>& error,
                 std::optional<std::int64_t> backlog);

}  // namespace casemail::store
