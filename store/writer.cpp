#include "store/writer.hpp"

#include <pthread.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace casemail::store {
namespace {

// A completion must not take the writer down with it.
void complete(const Writer::Done& done, std::exception_ptr outcome) noexcept {
    try {
        done(outcome);
    } catch (...) {
    }
}

}  // namespace

Writer::Writer(std::function<Store()> open, WriterOptions options) : options_(options) {
    if (options_.max_group == 0) options_.max_group = 1;
    if (options_.max_bulk == 0) options_.max_bulk = 1;
    thread_ = std::thread([this, open = std::move(open)] { loop(open); });
}

Writer::~Writer() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Writer::submit(Work work, Done done, Lane lane) {
    {
        std::lock_guard lock(mu_);
        (lane == Lane::urgent ? urgent_ : queue_).push_back({std::move(work), std::move(done)});
    }
    wake_.notify_one();
}

std::vector<std::exception_ptr> Writer::run_each(std::vector<Work> items) { return submit_each(std::move(items)).get(); }

std::future<std::vector<std::exception_ptr>> Writer::submit_each(std::vector<Work> items) {
    struct Shared {
        std::mutex mu;
        std::size_t left = 0;
        std::vector<std::exception_ptr> outcome;
        std::promise<std::vector<std::exception_ptr>> done;
    };
    auto shared = std::make_shared<Shared>();
    auto future = shared->done.get_future();
    shared->left = items.size();
    shared->outcome.resize(items.size());
    if (items.empty()) {
        shared->done.set_value({});
        return future;
    }
    {
        std::lock_guard lock(mu_);  // one submission: nothing else gets in between
        for (std::size_t i = 0; i < items.size(); ++i)
            queue_.push_back({std::move(items[i]), [shared, i](std::exception_ptr e) {
                                  std::lock_guard inner(shared->mu);
                                  shared->outcome[i] = e;
                                  if (--shared->left == 0) shared->done.set_value(std::move(shared->outcome));
                              }});
    }
    wake_.notify_one();
    return future;
}

std::size_t Writer::groups() const {
    std::lock_guard lock(mu_);
    return groups_;
}

std::size_t Writer::items() const {
    std::lock_guard lock(mu_);
    return items_;
}

// The next group: the urgent items queued, then bulk ones (at most max_bulk), up to max_group,
// after waiting at most max_wait for the queues to grow while they are short. Empty only when
// stopping with nothing left.
std::deque<Writer::Item> Writer::take_group() {
    std::unique_lock lock(mu_);
    auto queued = [&] { return urgent_.size() + queue_.size(); };
    wake_.wait(lock, [&] { return stopping_ || queued() > 0; });
    if (queued() == 0) return {};
    if (queued() < options_.max_group && options_.max_wait.count() > 0 && !stopping_)
        wake_.wait_for(lock, options_.max_wait, [&] { return stopping_ || queued() >= options_.max_group; });
    std::deque<Item> group;
    auto take = [&](std::deque<Item>& from, std::size_t most) {
        for (std::size_t n = 0; n < most && !from.empty() && group.size() < options_.max_group; ++n) {
            group.push_back(std::move(from.front()));
            from.pop_front();
        }
    };
    take(urgent_, options_.max_group);
    take(queue_, options_.max_bulk);
    return group;
}

// One transaction for the group, one savepoint per item; each item completes after the commit
// (and with `sync`, after the sync that follows it). False when the transaction itself failed
// (the connection is then opened anew).
bool Writer::commit_group(Store& store, std::deque<Item>& group, WalSync* sync) {
    std::vector<std::exception_ptr> outcome(group.size());
    bool committed = true;
    try {
        Transaction tx(store.db());
        for (std::size_t i = 0; i < group.size(); ++i) {
            Savepoint sp(store.db(), "item");
            try {
                group[i].work(store);
                sp.release();
            } catch (...) {
                outcome[i] = std::current_exception();  // the savepoint rolls this item back
            }
        }
        tx.commit();
    } catch (...) {  // BEGIN or COMMIT failed: nothing of the group is stored
        std::fill(outcome.begin(), outcome.end(), std::current_exception());
        committed = false;
    }
    {
        std::lock_guard lock(mu_);
        ++groups_;
        items_ += group.size();
    }
    std::vector<Done> done;
    done.reserve(group.size());
    for (auto& item : group) done.push_back(std::move(item.done));
    auto finish = [done = std::move(done), outcome = std::move(outcome)](std::exception_ptr sync_error) {
        for (std::size_t i = 0; i < done.size(); ++i) complete(done[i], outcome[i] ? outcome[i] : sync_error);
    };
    if (sync) sync->committed(std::move(finish));  // in commit order, behind earlier groups
    else finish(nullptr);
    return committed;
}

namespace {

// Whether the writer's connection syncs inside COMMIT (FULL or EXTRA), so that syncing beside
// it keeps the durability it was opened with. A store opened NORMAL stays as it is.
bool syncs_each_commit(Database& db) {
    auto st = db.prepare("PRAGMA synchronous");
    return st.step() && st.int64(0) >= 2;
}

}  // namespace

void Writer::loop(std::function<Store()> open) {
    ::pthread_setname_np(::pthread_self(), "store-writer");  // for top -H, perf and gdb
    std::optional<Store> store;
    std::optional<Checkpointer> checkpointer;  // declared after the store: it goes first
    std::optional<WalSync> sync;               // and this before it: it completes what is pending
    auto close = [&] {
        sync.reset();
        checkpointer.reset();
        store.reset();
    };
    for (;;) {
        auto group = take_group();
        if (group.empty()) return;
        try {
            if (!store) {
                store.emplace(open());
                checkpointer.emplace(store->db(), options_.checkpoint);
                if (options_.sync_beside && syncs_each_commit(store->db())) sync.emplace(store->db(), options_.sync);
            }
        } catch (...) {  // cannot open the store: these items fail, the next group tries again
            auto error = std::current_exception();
            for (auto& item : group) complete(item.done, error);
            close();
            continue;
        }
        if (!commit_group(*store, group, sync ? &*sync : nullptr)) close();
    }
}

}  // namespace casemail::store
