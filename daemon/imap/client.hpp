// One IMAP connection for one mailbox, over libcurl. Every operation returns a Result: a
// server that is down, refuses the login or answers NO is an expected failure for a poller,
// reported with a reason and never thrown (passwords and tokens never appear in a reason).
//
// libcurl keeps the connection (and the selected folder) between operations on one session;
// a session that failed should be dropped and a new one made for the next attempt.
#pragma once

#include <atomic>
#include <cstdint>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/protocol/imap.hpp"
#include "daemon/common/login.hpp"
#include "mime/result.hpp"

namespace casemail::imap {

struct ImapAccount {
    common::ServerLogin login;  // imaps://host[:port] or imap://host[:port]
    std::chrono::seconds stall_timeout{60};  // no byte moved for this long: give up
};

struct FetchedMessage {
    protocol::imap::Uid uid = 0;
    std::string raw;
    bool truncated = false;  // larger than the cap: `raw` holds the first cap + 1 bytes
};

struct MessageSize {
    protocol::imap::Uid uid = 0;
    std::uint64_t bytes = 0;  // RFC822.SIZE
};

// How an IDLE began: the server is idling, or the fetch connection had already heard of mail
// the last poll may have missed (a poll is due before idling), or the server does not offer
// IDLE (the mailbox is polled every poll_interval).
enum class IdleStart { idling, mail, unsupported };

class ImapSession {
public:
    // `stop` (may be null) aborts a transfer in progress when it becomes true.
    explicit ImapSession(ImapAccount account, const std::atomic<bool>* stop = nullptr);
    ~ImapSession();
    ImapSession(const ImapSession&) = delete;
    ImapSession& operator=(const ImapSession&) = delete;

    Result<protocol::imap::FolderStatus> status(std::string_view folder);
    // UIDs >= first in `folder`, ascending, searched in windows below `uidnext` (from STATUS;
    // 0 when unknown: one open-ended search).
    Result<std::vector<protocol::imap::Uid>> search_from(std::string_view folder, protocol::imap::Uid first, protocol::imap::Uid uidnext);
    // The sizes of these messages, and the messages themselves, each with one UID FETCH on a
    // second connection read by casemail (raw_connection.hpp). Messages are fetched whole up to
    // max_bytes + 1 bytes (a bigger one arrives cut: truncated); those that no longer exist are
    // left out; `uidvalidity` guards against a renumbered folder.
    Result<std::vector<MessageSize>> fetch_sizes(std::string_view folder, std::uint32_t uidvalidity,
                                                 std::vector<protocol::imap::Uid> uids);
    Result<std::vector<FetchedMessage>> fetch_messages(std::string_view folder, std::uint32_t uidvalidity,
                                                       std::vector<protocol::imap::Uid> uids, std::size_t max_bytes);
    // Creates `folder`; a folder that already exists is not an error.
    Result<bool> ensure_folder(std::string_view folder);
    Result<bool> has_capability(std::string_view capability);
    // Runs `command` with `folder` selected (or none when empty); the raw untagged lines.
    Result<std::string> command(std::string_view folder, const std::string& command);

    // IMAP IDLE (RFC 2177) on the fetch connection, between polls. idle_begin starts it in
    // `folder` (opening and selecting as needed), given the UIDNEXT the last poll searched below;
    // while idling, idle_socket() becomes readable when the server says something and
    // idle_check() reads it without waiting (true: mail arrived or the server ended the IDLE,
    // so a poll is due); idle_end() sends DONE and reads its completion. Any failure drops the
    // fetch connection (the next use opens a new one); the session itself stays usable.
    Result<IdleStart> idle_begin(std::string_view folder, std::uint32_t uidvalidity, protocol::imap::Uid uidnext);
    bool idling() const;
    int idle_socket() const;
    Result<bool> idle_check();
    Result<bool> idle_end();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace casemail::imap
