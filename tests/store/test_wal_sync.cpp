// Durability beside the writer: a group completes only after the WAL file it was committed to
// has been synced, while the writer goes on applying the next group.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "store/writer.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail::store;

namespace {

// The sync thread's fdatasync, held at a gate the test opens, and what it was asked to sync.
struct SyncGate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    int calls = 0, failures_left = 0;
    ino_t inode = 0;

    WalSyncOptions options() {
        WalSyncOptions o;
        o.sync = [this](int fd) {
            std::unique_lock lock(mu);
            ++calls;
            struct stat st{};
            if (::fstat(fd, &st) == 0) inode = st.st_ino;
            cv.notify_all();
            cv.wait(lock, [&] { return open; });
            if (failures_left > 0) {
                --failures_left;
                errno = EIO;
                return -1;
            }
            return ::fdatasync(fd);
        };
        return o;
    }
    void wait_for_call(int n) {
        std::unique_lock lock(mu);
        REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return calls >= n; }));
    }
    void release() {
        std::lock_guard lock(mu);
        open = true;
        cv.notify_all();
    }
};

struct Fixture {
    casemail::test::TempDir tmp;
    std::string path = tmp.file("store.db");
    Fixture() { Store::open(path); }
    std::int64_t queues() {
        auto s = Store::open(path);  // a reader of its own
        auto st = s.db().prepare("SELECT count(*) FROM queue");
        st.step();
        return st.int64(0);
    }
    // Polls a reader until the writer's commits show `n` queues.
    bool wait_for_queues(std::int64_t n) {
        for (int i = 0; i < 1000; ++i) {
            if (queues() >= n) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
};

Id add_queue(Store& s, int n) {
    return s.add_queue("Q" + std::to_string(n), "q" + std::to_string(n) + "@city.example");
}

struct Completions {
    std::mutex mu;
    std::vector<int> order;
    std::vector<std::exception_ptr> outcome = std::vector<std::exception_ptr>(8);
    Writer::Done for_item(int i) {
        return [this, i](std::exception_ptr e) {
            std::lock_guard lock(mu);
            order.push_back(i);
            outcome[static_cast<std::size_t>(i)] = e;
        };
    }
    std::size_t count() {
        std::lock_guard lock(mu);
        return order.size();
    }
    bool wait_for(std::size_t n) {
        for (int i = 0; i < 1000 && count() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return count() >= n;
    }
};

}  // namespace

TEST_CASE("wal sync: a group completes only after its WAL is synced; the writer applies the next meanwhile") {
    Fixture f;
    SyncGate gate;
    Completions done;
    WriterOptions options;
    options.sync = gate.options();
    Writer w([&] { return Store::open(f.path); }, options);
    int synchronous = -1;
    w.submit(
        [&](Store& s) {
            add_queue(s, 0);
            auto st = s.db().prepare("PRAGMA synchronous");
            st.step();
            synchronous = static_cast<int>(st.int64(0));
        },
        done.for_item(0));
    gate.wait_for_call(1);
    CHECK(f.queues() == 1);     // committed: another connection reads it
    CHECK(done.count() == 0);  // but not acknowledged: its sync has not returned
    CHECK(synchronous == 1);   // NORMAL: COMMIT writes the WAL, the sync thread syncs it

    w.submit([](Store& s) { add_queue(s, 1); }, done.for_item(1));
    CHECK(f.wait_for_queues(2));  // the writer went on while the first sync was held
    CHECK(done.count() == 0);

    struct stat wal{};
    REQUIRE(::stat((f.path + "-wal").c_str(), &wal) == 0);
    CHECK(gate.inode == wal.st_ino);  // the file synced is the store's WAL
    gate.release();
    REQUIRE(done.wait_for(2));
    CHECK(done.order == std::vector<int>{0, 1});  // in commit order
    CHECK_FALSE(done.outcome[0]);
    CHECK_FALSE(done.outcome[1]);
    CHECK(w.items() == 2);
}

TEST_CASE("wal sync: a failed sync fails the items it covered, with the reason; later ones succeed") {
    Fixture f;
    SyncGate gate;
    gate.failures_left = 1;
    gate.release();
    WriterOptions options;
    options.sync = gate.options();
    Writer w([&] { return Store::open(f.path); }, options);
    CHECK_THROWS_WITH_AS(w.run([](Store& s) { return add_queue(s, 0); }),
                         doctest::Contains("cannot sync"), Error);
    CHECK(w.run([](Store& s) { return add_queue(s, 1); }) > 0);
    CHECK(gate.calls == 2);
}

TEST_CASE("wal sync: only a store opened FULL is synced beside the writer; sync_beside=false keeps FULL") {
    Fixture f;
    SyncGate gate;
    gate.release();
    auto synchronous = [](Store& s) {
        auto st = s.db().prepare("PRAGMA synchronous");
        st.step();
        return st.int64(0);
    };
    SUBCASE("a store opened NORMAL stays NORMAL, nothing synced per group") {
        WriterOptions options;
        options.sync = gate.options();
        Writer w(
            [&] {
                StoreOptions o;
                o.open.durability = Durability::normal;
                return Store::open(f.path, o);
            },
            options);
        CHECK(w.run(synchronous) == 1);
    }
    SUBCASE("sync_beside = false: SQLite syncs inside COMMIT") {
        WriterOptions options;
        options.sync = gate.options();
        options.sync_beside = false;
        Writer w([&] { return Store::open(f.path); }, options);
        CHECK(w.run(synchronous) == 2);
    }
    CHECK(gate.calls == 0);
}
