#include "daemon/imap/poller.hpp"

#include <fmt/format.h>

#include <chrono>
#include <future>
#include <utility>

#include "daemon/common/log.hpp"
#include "daemon/common/metrics.hpp"
#include "store/mailbox_state.hpp"

namespace casemail::imap {
namespace {

std::vector<protocol::imap::Uid> as_uids(const std::vector<std::int64_t>& v) {
    return std::vector<protocol::imap::Uid>(v.begin(), v.end());
}

// A batch in the writer's hands. Its items point into the batch, so whatever happens on the
// poller's thread meanwhile (an exception included), the batch outlives them: the destructor
// waits for the outcome that wait() was not asked for.
class Storing {
public:
    explicit Storing(std::future<std::vector<std::exception_ptr>> f) : f_(std::move(f)) {}
    Storing(const Storing&) = delete;
    Storing& operator=(const Storing&) = delete;
    ~Storing() {
        if (f_.valid()) f_.wait();
    }
    std::vector<std::exception_ptr> wait() { return f_.get(); }

private:
    std::future<std::vector<std::exception_ptr>> f_;
};

// An item of a batch after one that failed: not stored.
struct Skipped : std::runtime_error {
    Skipped() : std::runtime_error("skipped after an earlier message of its batch failed") {}
};

struct Fetched {
    protocol::imap::Uid uid = 0;
    inbound::IngestResult result;
    double ms = 0;        // fetch and ingest
    double fetch_ms = 0;  // of which the IMAP fetch
    bool left_on_server = false;  // too large: kept truncated, the original stays on the server
    std::string raw;              // as fetched, until the batch is stored
};

using protocol::imap::Uid;

// One poll, step by step; each step records a failure in report_ and says whether to go on.
class Poll {
public:
    Poll(MailboxServer& server, store::Writer& writer, const inbound::IngestOptions& ingest, const PollSettings& settings,
         const common::LogLine& log, const std::atomic<bool>& stop)
        : server_(server), writer_(writer), ingest_(ingest), settings_(settings), log_(log), stop_(stop) {}

    PollReport run() {
        try {
            if (open_folder() && acknowledge_pending()) drain();
        } catch (const store::Error& e) {
            report_.error = fmt::format("store: {}", e.what());
        } catch (const store::Refused& e) {
            report_.error = e.what();
        }
        record();
        return report_;
    }

private:
    // STATUS, and a new UIDVALIDITY voids every UID we knew: rescan from the start.
    bool open_folder() {
        auto status = server_.status();
        if (!status) return failed(status.error());
        uidvalidity_ = status->uidvalidity;
        uidnext_ = status->uidnext;
        auto known = writer_.run([&](store::Store& s) {
            auto state = store::mailbox_state(s, settings_.mailbox, settings_.folder);
            if (state.uidvalidity != uidvalidity_) store::reset_uidvalidity(s, settings_.mailbox, uidvalidity_);
            return state;
        });
        last_uid_ = known.uidvalidity == uidvalidity_ ? known.last_uid : 0;
        if (known.uidvalidity && known.uidvalidity != uidvalidity_)
            log_(common::log_fields({{"mailbox", settings_.mailbox}, {"event", "uidvalidity-changed"},
                                     {"old", std::to_string(*known.uidvalidity)}, {"new", std::to_string(uidvalidity_)},
                                     {"reason", "rescanning the folder; Message-IDs keep it from making duplicates"}}));
        return true;
    }

    // Messages committed earlier whose mark did not reach the server (crash, lost connection).
    bool acknowledge_pending() {
        auto pending = writer_.run([&](store::Store& s) { return store::pending_acks(s, settings_.mailbox, uidvalidity_); });
        if (pending.empty()) return true;
        if (!acknowledge(pending)) return false;
        log_(common::log_fields({{"mailbox", settings_.mailbox}, {"event", "acknowledged-pending"},
                                 {"count", std::to_string(pending.size())}}));
        return true;
    }

    void drain() {
        auto uids = server_.search_from(static_cast<Uid>(last_uid_ + 1), uidnext_);
        if (!uids) {
            failed(uids.error());
            return;
        }
        report_.backlog = static_cast<std::int64_t>(uids->size());
        // A pipeline: while the writer stores batch N, the server marks batch N-1 (committed)
        // processed, and batch N+1 is fetched and parsed here. Each mark still follows its
        // batch's commit; the journal entries of a marked batch are cleared in the group that
        // stores the next one, so no extra commit stands between two batches.
        std::size_t next = 0;
        std::vector<Fetched> committed;      // stored, logged, not yet marked on the server
        std::vector<std::int64_t> marked;    // marked on the server, still in the journal
        auto batch = fetch_batch(*uids, next);
        auto items = parse_batch(batch);
        while (!batch.empty()) {
            auto submitted = std::chrono::steady_clock::now();
            Storing cleared(clear_journal(std::exchange(marked, {})));
            Storing storing(writer_.submit_each(std::move(items)));
            bool ok = committed.empty() || mark_on_server(processed_uids(committed), marked);
            std::vector<Fetched> following;
            if (ok && !report_.error && !report_.interrupted && next < uids->size()) {
                following = fetch_batch(*uids, next);
                items = parse_batch(following);
            }
            auto outcome = storing.wait();
            common::metrics().observe("casemail_commit_seconds", {{"mailbox", settings_.mailbox}},
                                      std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted).count());
            settle_batch(batch, outcome);
            rethrow_first(cleared.wait());
            committed = std::move(batch);
            if (!ok) return;  // the journal keeps the stored batch for the next poll
            batch = std::move(following);
            if (report_.error) batch.clear();
        }
        if (!committed.empty()) mark_on_server(processed_uids(committed), marked);
        rethrow_first(clear_journal(std::move(marked)).get());
    }

    // A batch fetched first, holding no lock: a slow server must not keep the store's write
    // lock from the other mailboxes, the relay and the outbox.
    // Two round trips: the sizes of the next `batch` UIDs, then as many of those messages as
    // fit in batch_bytes (at least one), in one command. `next` moves past what was fetched
    // and past UIDs that no longer exist.
    std::vector<Fetched> fetch_batch(const std::vector<Uid>& uids, std::size_t& next) {
        if (next >= uids.size()) return {};
        if (stop_) {
            report_.interrupted = true;
            return {};
        }
        auto started = std::chrono::steady_clock::now();
        std::vector<Uid> window(uids.begin() + static_cast<std::ptrdiff_t>(next),
                                uids.begin() + static_cast<std::ptrdiff_t>(std::min(uids.size(), next + settings_.batch)));
        auto sizes = server_.sizes(window);
        if (!sizes) return failed_batch(sizes.error());
        std::vector<Uid> wanted;
        std::size_t bytes = 0;
        for (const auto& s : *sizes) {
            auto cost = static_cast<std::size_t>(std::min<std::uint64_t>(s.bytes, settings_.max_message_bytes + 1));
            if (!wanted.empty() && bytes + cost > settings_.batch_bytes) break;
            wanted.push_back(s.uid);
            bytes += cost;
        }
        std::vector<FetchedMessage> fetched;
        if (!wanted.empty()) {
            auto got = server_.fetch(wanted, settings_.max_message_bytes);
            if (!got) return failed_batch(got.error());
            fetched = std::move(*got);
        }
        auto last = wanted.empty() ? window.back() : wanted.back();
        while (next < uids.size() && uids[next] <= last) ++next;
        auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
        std::vector<Fetched> batch;
        for (auto& m : fetched)
            batch.push_back({m.uid, {}, 0, ms / static_cast<double>(fetched.size()), m.truncated, std::move(m.raw)});
        return batch;
    }

    std::vector<Fetched> failed_batch(const std::string& why) {
        report_.error = "UID FETCH: " + why;
        return {};
    }

    // Then the batch parsed here, into one writer item per message (a small savepoint each)
    // that stores it, its UID in the acknowledgement journal and the cursor past it. A store
    // error on one message stops the batch there: the messages after it are not stored (the
    // cursor must never pass a message that was not), the ones before it stand.
    std::vector<store::Writer::Work> parse_batch(std::vector<Fetched>& batch) {
        auto failed = std::make_shared<bool>(false);  // touched on the writer thread only
        std::vector<store::Writer::Work> items;
        for (auto& f : batch) {
            auto parse_started = std::chrono::steady_clock::now();
            auto message = std::make_shared<inbound::PreparedMessage>(
                f.left_on_server ? inbound::prepare_quarantine(std::move(f.raw), too_large_reason())
                                 : inbound::prepare_message(std::move(f.raw), ingest_.limits));
            common::metrics().observe("casemail_parse_seconds", {{"mailbox", settings_.mailbox}},
                                      std::chrono::duration<double>(std::chrono::steady_clock::now() - parse_started).count());
            items.push_back([this, &f, message, failed](store::Store& s) {
                if (*failed) throw Skipped();
                try {
                    store_message(s, f, *message);
                } catch (...) {
                    *failed = true;
                    throw;
                }
            });
        }
        return items;
    }

    // Committed: the batch is cut at its first failure, counted, and now it may be said.
    void settle_batch(std::vector<Fetched>& batch, const std::vector<std::exception_ptr>& outcome) {
        for (std::size_t k = 0; k < outcome.size(); ++k) {
            if (!outcome[k]) continue;
            report_.error = fmt::format("uid {}: store: {}", batch[k].uid, common::describe(outcome[k]));
            batch.resize(k);
            break;
        }
        report_.ingested += batch.size();
        *report_.backlog -= static_cast<std::int64_t>(batch.size());
        auto& metrics = common::metrics();
        for (const auto& f : batch) {
            metrics.add("casemail_messages_total",
                        {{"mailbox", settings_.mailbox}, {"action", std::string(matching::name(f.result.action))}});
            metrics.observe("casemail_fetch_seconds", {{"mailbox", settings_.mailbox}}, f.fetch_ms / 1000.0);
            if (f.result.flood_started)
                log_(common::log_fields({{"mailbox", settings_.mailbox}, {"event", "flood"}, {"reason", f.result.reason}}));
            log_(common::log_fields({{"mailbox", settings_.mailbox},
                                     {"uid", std::to_string(f.uid)},
                                     {"message_id", f.result.message_id.empty() ? "-" : "<" + f.result.message_id + ">"},
                                     {"action", std::string(matching::name(f.result.action))},
                                     {"case", f.result.case_token.value_or("-")},
                                     {"ms", fmt::format("{:.1f}", f.ms)},
                                     {"fetch_ms", fmt::format("{:.1f}", f.fetch_ms)},
                                     {"reason", f.result.reason},
                                     {"review", f.result.review_reason.empty() ? "-" : f.result.review_reason}}));
        }
    }

    // The UIDs of a committed batch to mark processed: all but those left on the server.
    static std::vector<std::int64_t> processed_uids(const std::vector<Fetched>& batch) {
        std::vector<std::int64_t> uids;
        for (const auto& f : batch)
            if (!f.left_on_server) uids.push_back(f.uid);
        return uids;
    }

    // On the writer thread: one message, its journal entry, the cursor.
    void store_message(store::Store& s, Fetched& f, const inbound::PreparedMessage& message) {
        auto started = std::chrono::steady_clock::now();
        f.result = inbound::Ingestor(s, ingest_).apply(message, settings_.mailbox);
        if (!f.left_on_server) store::add_pending_ack(s, settings_.mailbox, uidvalidity_, f.uid, f.result.email_id);
        store::set_cursor(s, settings_.mailbox, f.uid, 1);
        f.ms = f.fetch_ms + std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    }

    // Marks `uids` processed on the server, then clears them from the journal.
    bool acknowledge(const std::vector<std::int64_t>& uids) {
        std::vector<std::int64_t> marked;
        if (!mark_on_server(uids, marked)) return false;
        rethrow_first(clear_journal(marked).get());
        return true;
    }

    // Marks `uids` processed on the server; on success they join `marked`.
    bool mark_on_server(const std::vector<std::int64_t>& uids, std::vector<std::int64_t>& marked) {
        if (uids.empty()) return true;
        if (auto ok = server_.mark_processed(as_uids(uids)); !ok) {
            report_.error = report_.error.value_or(ok.error());
            return false;
        }
        report_.acknowledged += uids.size();
        marked.insert(marked.end(), uids.begin(), uids.end());
        return true;
    }

    // Journal entries of marked UIDs, removed by the writer (an empty list: nothing submitted).
    std::future<std::vector<std::exception_ptr>> clear_journal(std::vector<std::int64_t> uids) {
        if (uids.empty()) {
            std::promise<std::vector<std::exception_ptr>> none;
            none.set_value({});
            return none.get_future();
        }
        std::vector<store::Writer::Work> items;
        items.push_back([this, uids = std::move(uids)](store::Store& s) {
            store::clear_pending_acks(s, settings_.mailbox, uidvalidity_, uids);
        });
        return writer_.submit_each(std::move(items));
    }

    static void rethrow_first(const std::vector<std::exception_ptr>& outcome) {
        for (const auto& e : outcome)
            if (e) std::rethrow_exception(e);
    }

    // The outcome, for `casemail status`.
    void record() {
        try {
            writer_.run([&](store::Store& s) {
                store::record_poll(s, settings_.mailbox, settings_.folder, report_.error, report_.backlog);
            });
        } catch (const store::Error& e) {
            log_(common::log_fields({{"mailbox", settings_.mailbox}, {"event", "status-not-recorded"}, {"reason", e.what()}}));
        }
    }

    std::string too_large_reason() const {
        return fmt::format("larger than {} bytes: the first bytes are kept here, the message stays on the server",
                           settings_.max_message_bytes);
    }

    bool failed(const std::string& why) {
        report_.error = why;
        return false;
    }

    MailboxServer& server_;
    store::Writer& writer_;
    const inbound::IngestOptions& ingest_;
    const PollSettings& settings_;
    const common::LogLine& log_;
    const std::atomic<bool>& stop_;
    PollReport report_;
    std::int64_t uidvalidity_ = 0, last_uid_ = 0;
    Uid uidnext_ = 0;
};

}  // namespace

PollReport poll_mailbox(MailboxServer& server, store::Writer& writer, const inbound::IngestOptions& ingest,
                        const PollSettings& settings, const common::LogLine& log, const std::atomic<bool>& stop) {
    return Poll(server, writer, ingest, settings, log, stop).run();
}

}  // namespace casemail::imap
