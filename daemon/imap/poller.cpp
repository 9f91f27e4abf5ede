#include "daemon/imap/poller.hpp"

#include <fmt/format.h>

#include <chrono>

#include "daemon/common/log.hpp"
#include "store/mailbox_state.hpp"

namespace casemail::imap {
namespace {

// UIDs per flag/move command. libcurl counts every untagged line of a custom command's
// answer against its 300 KB response-header limit, and a UID MOVE answers one EXPUNGE line
// per message: 500 UIDs at once failed with "Too large response headers" against Dovecot.
constexpr std::size_t max_uids_per_command = 100;

std::vector<protocol::imap::Uid> as_uids(const std::vector<std::int64_t>& v) {
    return std::vector<protocol::imap::Uid>(v.begin(), v.end());
}

struct Fetched {
    protocol::imap::Uid uid = 0;
    inbound::IngestResult result;
    double ms = 0;        // fetch and ingest
    double fetch_ms = 0;  // of which the IMAP fetch
    bool left_on_server = false;  // too large: kept truncated, the original stays on the server
    std::string raw;              // as fetched, until the batch is stored
};

}  // namespace

Result<bool> ImapMailbox::prepare() {
    if (prepared_) return true;
    auto caps = session_.command("", protocol::imap::capability_command);
    if (!caps) return fail(caps.error());
    has_move_ = protocol::imap::has_capability(*caps, "MOVE");
    has_uidplus_ = protocol::imap::has_capability(*caps, "UIDPLUS");
    if (config_.after_processing == protocol::imap::AfterProcessing::move) {
        auto ok = session_.ensure_folder(config_.move_to);
        if (!ok) return fail(fmt::format("cannot create folder '{}': {}", config_.move_to, ok.error()));
    }
    prepared_ = true;
    return true;
}

Result<protocol::imap::FolderStatus> ImapMailbox::status() {
    if (auto ok = prepare(); !ok) return fail(ok.error());
    return session_.status(config_.folder);
}

Result<std::vector<protocol::imap::Uid>> ImapMailbox::search_from(protocol::imap::Uid first, protocol::imap::Uid uidnext) {
    return session_.search_from(config_.folder, first, uidnext);
}

Result<FetchedMessage> ImapMailbox::fetch(protocol::imap::Uid uid, std::size_t max_bytes) {
    return session_.fetch(config_.folder, uid, max_bytes);
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

PollReport poll_mailbox(MailboxServer& server, store::Store& store, inbound::Ingestor& ingestor,
                        const PollSettings& settings, const common::LogLine& log, const std::atomic<bool>& stop) {
    PollReport report;
    const std::string& mailbox = settings.mailbox;
    auto& db = store.db();
    auto finish = [&]() -> PollReport& {
        try {
            store::Transaction tx(db);
            store::record_poll(store, mailbox, settings.folder, report.error, report.backlog);
            tx.commit();
        } catch (const store::Error& e) {
            log(common::log_fields({{"mailbox", mailbox}, {"event", "status-not-recorded"}, {"reason", e.what()}}));
        }
        return report;
    };
    try {
        auto status = server.status();
        if (!status) {
            report.error = status.error();
            return finish();
        }
        const std::int64_t uidvalidity = status->uidvalidity;
        store::MailboxState state;
        {
            store::Transaction tx(db);
            state = store::mailbox_state(store, mailbox, settings.folder);
            if (state.uidvalidity != uidvalidity) {
                if (state.uidvalidity)
                    log(common::log_fields({{"mailbox", mailbox}, {"event", "uidvalidity-changed"},
                                    {"old", std::to_string(*state.uidvalidity)}, {"new", std::to_string(uidvalidity)},
                                    {"reason", "rescanning the folder; Message-IDs keep it from making duplicates"}}));
                store::reset_uidvalidity(store, mailbox, uidvalidity);
                state.last_uid = 0;
            }
            tx.commit();
        }

        // Messages committed earlier whose mark did not reach the server (crash, lost connection).
        if (auto pending = store::pending_acks(store, mailbox, uidvalidity); !pending.empty()) {
            if (auto ok = server.mark_processed(as_uids(pending)); !ok) {
                report.error = ok.error();
                return finish();
            }
            store::Transaction tx(db);
            store::clear_pending_acks(store, mailbox, uidvalidity, pending);
            tx.commit();
            report.acknowledged += pending.size();
            log(common::log_fields({{"mailbox", mailbox}, {"event", "acknowledged-pending"}, {"count", std::to_string(pending.size())}}));
        }

        auto first = static_cast<protocol::imap::Uid>(state.last_uid + 1);
        auto uids = server.search_from(first, status->uidnext);
        if (!uids) {
            report.error = uids.error();
            return finish();
        }
        report.backlog = static_cast<std::int64_t>(uids->size());

        for (std::size_t next = 0; next < uids->size();) {
            // Fetch a batch first, holding no lock: a slow server must not keep the store's write
            // lock from the other mailboxes, the relay and the outbox.
            std::vector<Fetched> done;
            std::size_t bytes = 0;
            while (next < uids->size() && done.size() < settings.batch && bytes < settings.batch_bytes) {
                if (stop) {
                    report.interrupted = true;
                    break;
                }
                protocol::imap::Uid uid = (*uids)[next];
                auto started = std::chrono::steady_clock::now();
                auto fetched = server.fetch(uid, settings.max_message_bytes);
                if (!fetched) {
                    report.error = fmt::format("uid {}: {}", uid, fetched.error());
                    break;
                }
                Fetched f;
                f.uid = uid;
                f.left_on_server = fetched->truncated;
                f.fetch_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
                bytes += fetched->raw.size();
                f.raw = std::move(fetched->raw);
                done.push_back(std::move(f));
                ++next;
            }
            // Then store the batch in one transaction.
            {
                store::Transaction tx(db);
                for (std::size_t k = 0; k < done.size(); ++k) {
                    auto& f = done[k];
                    auto started = std::chrono::steady_clock::now();
                    try {
                        f.result = f.left_on_server
                                       ? ingestor.quarantine(f.raw, mailbox,
                                                             fmt::format("larger than {} bytes: the first bytes are kept "
                                                                         "here, the message stays on the server",
                                                                         settings.max_message_bytes))
                                       : ingestor.ingest(f.raw, mailbox);
                    } catch (const store::Error& e) {  // that message rolled back, the batch before it stands
                        report.error = fmt::format("uid {}: store: {}", f.uid, e.what());
                        done.resize(k);
                        break;
                    }
                    if (!f.left_on_server)
                        store::add_pending_ack(store, mailbox, uidvalidity, f.uid, f.result.email_id);
                    store::set_cursor(store, mailbox, f.uid, 1);
                    f.ms = f.fetch_ms +
                           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
                }
                tx.commit();
            }
            // Committed: now it may be said, and acknowledged.
            report.ingested += done.size();
            *report.backlog -= static_cast<std::int64_t>(done.size());
            std::vector<std::int64_t> ack;
            for (const auto& f : done) {
                log(common::log_fields({{"mailbox", mailbox},
                                {"uid", std::to_string(f.uid)},
                                {"message_id", f.result.message_id.empty() ? "-" : "<" + f.result.message_id + ">"},
                                {"action", f.result.action},
                                {"case", f.result.case_token.value_or("-")},
                                {"ms", fmt::format("{:.1f}", f.ms)},
                                {"fetch_ms", fmt::format("{:.1f}", f.fetch_ms)},
                                {"reason", f.result.reason}}));
                if (!f.left_on_server) ack.push_back(f.uid);
            }
            if (!ack.empty()) {
                if (auto ok = server.mark_processed(as_uids(ack)); !ok) {
                    report.error = report.error.value_or(ok.error());
                    break;
                }
                store::Transaction tx(db);
                store::clear_pending_acks(store, mailbox, uidvalidity, ack);
                tx.commit();
                report.acknowledged += ack.size();
            }
            if (report.error || report.interrupted) break;
        }
    } catch (const store::Error& e) {
        report.error = fmt::format("store: {}", e.what());
    } catch (const store::Refused& e) {
        report.error = e.what();
    }
    return finish();
}

}  // namespace casemail::imap
