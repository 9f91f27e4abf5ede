// One poll of one 311 mailbox: fetch the new messages, ingest them, commit, then mark them
// processed on the server (see store/mailbox_state.hpp for the acknowledgement journal).
//
// The server side is the MailboxServer interface (ImapMailbox over libcurl in production, an
// in-memory fake in the unit tests, which fail each step in turn to prove that no crash or
// error loses or duplicates a message). Failures are values: poll_mailbox() returns the reason
// and never throws for a server problem; a store failure rolls back the current message and
// ends the poll with its reason.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/imap/client.hpp"
#include "daemon/common/log.hpp"
#include "daemon/inbound/ingestor.hpp"
#include "store/writer.hpp"

namespace casemail::imap {

class MailboxServer {
public:
    virtual ~MailboxServer() = default;
    virtual Result<protocol::imap::FolderStatus> status() = 0;
    // UIDs >= first, ascending; `uidnext` from status() bounds the search (0: unknown).
    virtual Result<std::vector<protocol::imap::Uid>> search_from(protocol::imap::Uid first, protocol::imap::Uid uidnext) = 0;
    // Sizes (RFC822.SIZE) of these messages, and the messages, each in one round trip; each at
    // most max_bytes + 1 bytes (a bigger one truncated). UIDs that no longer exist are left out.
    virtual Result<std::vector<MessageSize>> sizes(const std::vector<protocol::imap::Uid>& uids) = 0;
    virtual Result<std::vector<FetchedMessage>> fetch(const std::vector<protocol::imap::Uid>& uids,
                                                      std::size_t max_bytes) = 0;
    // Flag, move or delete, as configured. Must be idempotent (a retry after a crash).
    virtual Result<bool> mark_processed(const std::vector<protocol::imap::Uid>& uids) = 0;
};

// Which folder is polled and what marks a message processed there.
struct MailboxFolders {
    std::string folder = "INBOX";
    protocol::imap::AfterProcessing after_processing = protocol::imap::AfterProcessing::move;
    std::string move_to = "Processed";
};

// MailboxServer for one configured mailbox on an ImapSession.
class ImapMailbox final : public MailboxServer {
public:
    ImapMailbox(ImapSession& session, MailboxFolders folders) : session_(session), config_(std::move(folders)) {}
    Result<protocol::imap::FolderStatus> status() override;
    Result<std::vector<protocol::imap::Uid>> search_from(protocol::imap::Uid first, protocol::imap::Uid uidnext) override;
    Result<std::vector<MessageSize>> sizes(const std::vector<protocol::imap::Uid>& uids) override;
    Result<std::vector<FetchedMessage>> fetch(const std::vector<protocol::imap::Uid>& uids, std::size_t max_bytes) override;
    Result<bool> mark_processed(const std::vector<protocol::imap::Uid>& uids) override;
    // After a poll: IDLE in the folder until the next (ImapSession::idle_begin), when the
    // server offers it.
    Result<IdleStart> idle_begin();

private:
    Result<bool> prepare();
    ImapSession& session_;
    MailboxFolders config_;
    bool prepared_ = false;
    bool has_move_ = false, has_uidplus_ = false, has_idle_ = false;
    std::uint32_t uidvalidity_ = 0;  // from status(): the fetch connection checks it
    protocol::imap::Uid uidnext_ = 0;  // from status(): the poll searched below it
};

struct PollSettings {
    std::string mailbox;  // address, as in the queue
    std::string folder;
    std::size_t batch = 50;                // messages per fetch, per submission to the writer and per acknowledgement
    std::size_t batch_bytes = 64u << 20;   // fetched bytes held in memory before they are stored
    std::size_t max_message_bytes = 40u << 20;
};

struct PollReport {
    std::optional<std::string> error;  // why the poll stopped early
    std::size_t ingested = 0;          // messages committed this poll
    std::size_t acknowledged = 0;      // marked processed on the server this poll
    std::optional<std::int64_t> backlog;  // messages still waiting when the poll ended
    bool interrupted = false;          // stopped by shutdown between messages
};

// Messages are parsed on the calling thread; everything that touches the store goes through
// `writer` (a batch is one item of a group commit), so a poll holds no store lock of its own.
PollReport poll_mailbox(MailboxServer& server, store::Writer& writer, const inbound::IngestOptions& ingest,
                        const PollSettings& settings, const common::LogLine& log, const std::atomic<bool>& stop);

}  // namespace casemail::imap
