// One writer for the store (the group commit of a database's log; Postfix's queue manager
// owns its queue the same way): a single thread owns the write connection; the IMAP pollers,
// the relay's sessions and the outbox submit work to it. It applies the work in groups, each
// group in one transaction with one savepoint per item, commits the group once (one fsync for
// all of it, made beside the writer while it applies the next group: see WalSync), and only
// then completes each item. So nobody waits on SQLite's lock, no event
// loop waits on an fsync, and no acknowledgement (an IMAP move, an SMTP 250) can go out before
// its commit.
//
// Two lanes: work someone waits for on an open connection (an agent's reply before its 250)
// goes first into the next group; bulk work (IMAP batches, the outbox, SLA passes) fills the
// rest, at most max_bulk items a group, so a reply never waits behind a whole IMAP batch
// being applied. Each lane is applied in submission order.
//
// Errors: an item that throws rolls back to its savepoint and completes with its exception;
// the rest of its group commits. A failed COMMIT completes every item of the group with that
// error (nothing of the group was stored).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "store/checkpointer.hpp"
#include "store/store.hpp"
#include "store/wal_sync.hpp"

namespace casemail::store {

struct WriterOptions {
    std::size_t max_group = 256;                // items per transaction
    // Bulk items per transaction: a group's time to apply, so what an urgent item may wait
    // for, twice (the group being applied, then its own). 32 IMAP messages: ~8 ms of the
    // writer at 1,000,000 cases; relay p99 during a 5,000-message drain 24-27 ms, against
    // 36-47 ms with 64, at the same drain rate (commits are synced beside the writer, so
    // smaller groups cost it little: bench_ingest within 3%).
    std::size_t max_bulk = 32;
    // How long a short group waits for more items. 0: none; what came in during the previous
    // commit is the next group already, and waiting only delays it (bench_relay: 8 pipelining
    // connections 1,931-2,031 replies/s with 1 ms, 2,696-2,753 with 0).
    std::chrono::microseconds max_wait{0};
    // The WAL is copied into the database beside the writer, not inside its commits.
    CheckpointOptions checkpoint;
    // A store opened with synchronous=FULL is made durable beside the writer (WalSync): the
    // writer applies the next group while the last one's WAL is synced, and completes items
    // only after that sync. false: SQLite syncs inside COMMIT and the writer waits.
    bool sync_beside = true;
    WalSyncOptions sync;
};

enum class Lane { bulk, urgent };

class Writer {
public:
    // What the writer does for a submitter: runs on the writer thread inside the group's
    // transaction (its own savepoint around it).
    using Work = std::function<void(Store&)>;
    // Called once the item is durable (nullptr) or failed, on the writer's sync thread (on the
    // writer thread without one): keep it short (post to the submitter's executor, fulfil a
    // promise). Items complete in the order their groups committed.
    using Done = std::function<void(std::exception_ptr)>;

    // `open` makes the write connection, on the writer thread (synchronous=FULL).
    Writer(std::function<Store()> open, WriterOptions options = {});
    ~Writer();  // completes what was submitted, then stops
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    void submit(Work work, Done done, Lane lane = Lane::bulk);

    // Submits `work` and waits for its commit: what it returned, or its exception. For
    // threads that may block (the pollers, the outbox), never for the event loop.
    template <class F>
    auto run(F work) -> std::invoke_result_t<F, Store&>;

    // Submits every item, in order, and waits for all of them: each one's outcome (nullptr:
    // committed). Items are applied in submission order, so an item can see what earlier ones
    // of the same call did (or that one failed). Keep items small: a savepoint's undo log
    // lives until the item ends, and large ones make SQLite slow.
    std::vector<std::exception_ptr> run_each(std::vector<Work> items);
    // The same without waiting: the outcomes arrive through the future.
    std::future<std::vector<std::exception_ptr>> submit_each(std::vector<Work> items);

    // Groups committed so far, and items in them (for tests and benchmarks).
    std::size_t groups() const;
    std::size_t items() const;

private:
    struct Item {
        Work work;
        Done done;
    };
    void loop(std::function<Store()> open);
    std::deque<Item> take_group();
    bool commit_group(Store& store, std::deque<Item>& group, WalSync* sync);

    WriterOptions options_;
    mutable std::mutex mu_;
    std::condition_variable wake_;
    std::deque<Item> queue_, urgent_;
    bool stopping_ = false;
    std::size_t groups_ = 0, items_ = 0;
    std::thread thread_;
};

template <class F>
auto Writer::run(F work) -> std::invoke_result_t<F, Store&> {
    using R = std::invoke_result_t<F, Store&>;
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    auto result = std::make_shared<std::optional<std::conditional_t<std::is_void_v<R>, int, R>>>();
    submit(
        [work = std::move(work), result](Store& s) mutable {
            if constexpr (std::is_void_v<R>) work(s);
            else result->emplace(work(s));
        },
        [promise, result](std::exception_ptr e) {
            if (e) promise->set_exception(e);
            else if constexpr (std::is_void_v<R>) promise->set_value();
            else promise->set_value(std::move(**result));
        });
    return future.get();
}

}  // namespace casemail::store
