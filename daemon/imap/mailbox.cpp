// ImapMailbox: the MailboxServer of one configured mailbox on an ImapSession (declared in
// poller.hpp beside the interface): capabilities, folder status, IDLE, and marking messages
// processed (flag, move, or delete and expunge) in commands of bounded size.
#include <fmt/format.h>

#include <algorithm>

#include "daemon/imap/poller.hpp"

namespace casemail::imap {
namespace {

// UIDs per flag/move command. libcurl counts every untagged line of a custom command's
// answer against its 300 KB response-header limit, and a UID MOVE answers one EXPUNGE line
// per message: 500 UIDs at once failed with "Too large response headers" against Dovecot.
constexpr std::size_t max_uids_per_command = 100;

}  // namespace

Result<bool> ImapMailbox::prepare() {
    if (prepared_) return true;
    auto caps = session_.command("", protocol::imap::capability_command);
    if (!caps) return fail(caps.error());
    has_move_ = protocol::imap::has_capability(*caps, "MOVE");
    has_uidplus_ = protocol::imap::has_capability(*caps, "UIDPLUS");
    has_idle_ = protocol::imap::has_capability(*caps, "IDLE");
    if (config_.after_processing == protocol::imap::AfterProcessing::move) {
        auto ok = session_.ensure_folder(config_.move_to);
        if (!ok) return fail(fmt::format("cannot create folder '{}': {}", config_.move_to, ok.error()));
    }
    prepared_ = true;
    return true;
}

Result<protocol::imap::FolderStatus> ImapMailbox::status() {
    if (auto ok = prepare(); !ok) return fail(ok.error());
    auto status = session_.status(config_.folder);
    if (status) {
        uidvalidity_ = status->uidvalidity;
        uidnext_ = status->uidnext;
    }
    return status;
}

Result<IdleStart> ImapMailbox::idle_begin() {
    if (!prepared_ || uidvalidity_ == 0) return fail("IDLE: no poll before it");
    if (!has_idle_) return IdleStart::unsupported;
    return session_.idle_begin(config_.folder, uidvalidity_, uidnext_);
}

Result<std::vector<protocol::imap::Uid>> ImapMailbox::search_from(protocol::imap::Uid first, protocol::imap::Uid uidnext) {
    return session_.search_from(config_.folder, first, uidnext);
}

Result<std::vector<MessageSize>> ImapMailbox::sizes(const std::vector<protocol::imap::Uid>& uids) {
    return session_.fetch_sizes(config_.folder, uidvalidity_, uids);
}

Result<std::vector<FetchedMessage>> ImapMailbox::fetch(const std::vector<protocol::imap::Uid>& uids, std::size_t max_bytes) {
    return session_.fetch_messages(config_.folder, uidvalidity_, uids, max_bytes);
}

Result<bool> ImapMailbox::mark_processed(const std::vector<protocol::imap::Uid>& all) {
    for (std::size_t i = 0; i < all.size(); i += max_uids_per_command) {
        std::vector<protocol::imap::Uid> uids(all.begin() + i, all.begin() + std::min(all.size(), i + max_uids_per_command));
        std::vector<std::string> commands;
        // Without UIDPLUS a plain EXPUNGE would also remove messages someone else marked
        // \Deleted; the STORE still marks ours, and EXPUNGE is the only way to finish.
        std::string expunge = has_uidplus_ ? protocol::imap::uid_expunge_command(uids) : protocol::imap::expunge_command;
        switch (config_.after_processing) {
            case protocol::imap::AfterProcessing::flag:
                commands = {protocol::imap::store_flags_command(uids, "\\Seen $CasemailProcessed")};
                break;
            case protocol::imap::AfterProcessing::move:
                if (has_move_)
                    commands = {protocol::imap::move_command(uids, config_.move_to)};
                else
                    commands = {protocol::imap::copy_command(uids, config_.move_to),
                                protocol::imap::store_flags_command(uids, "\\Deleted"), expunge};
                break;
            case protocol::imap::AfterProcessing::remove:
                commands = {protocol::imap::store_flags_command(uids, "\\Deleted"), expunge};
                break;
        }
        for (const auto& c : commands)
            if (auto r = session_.command(config_.folder, c); !r) return fail(r.error());
    }
    return true;
}

}  // namespace casemail::imap
