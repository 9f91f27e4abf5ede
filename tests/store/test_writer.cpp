// The store's one writer: groups, savepoints, completion after the commit.
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

#include "store/writer.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail::store;

namespace {

struct Fixture {
    casemail::test::TempDir tmp;
    std::string path = tmp.file("store.db");
    Fixture() { Store::open(path); }  // created and migrated before the writer starts
    std::int64_t count(const std::string& sql) {
        auto s = Store::open(path);  // a reader of its own, as the CLI is
        auto st = s.db().prepare(sql);
        st.step();
        return st.int64(0);
    }
};

Id add_queue(Store& s, int n) {
    return s.add_queue("Q" + std::to_string(n), "q" + std::to_string(n) + "@city.example");
}

}  // namespace

TEST_CASE("writer: work is durable when it completes, grouped by count") {
    Fixture f;
    Writer w([&] { return Store::open(f.path); }, {4, std::chrono::milliseconds(200), {}});
    std::vector<std::future<Id>> done;
    for (int i = 0; i < 10; ++i) done.push_back(std::async(std::launch::async, [&, i] { return w.run([i](Store& s) { return add_queue(s, i); }); }));
    for (auto& d : done) CHECK(d.get() > 0);
    CHECK(f.count("SELECT count(*) FROM queue") == 10);  // visible to another connection: committed
    CHECK(w.items() == 10);
    CHECK(w.groups() >= 3);  // at most 4 per group
    CHECK(w.groups() <= 10);
}

TEST_CASE("writer: an item that throws rolls back alone; the rest of its group commits, in order") {
    Fixture f;
    Writer w([&] { return Store::open(f.path); }, {64, std::chrono::milliseconds(50), {}});
    std::mutex mu;
    std::vector<int> completed;
    std::vector<std::exception_ptr> errors(3);
    std::promise<void> all;
    std::atomic<int> left{3};
    for (int i = 0; i < 3; ++i)
        w.submit(
            [i](Store& s) {
                add_queue(s, i);
                if (i == 1) throw Refused("item 1 refuses");
            },
            [&, i](std::exception_ptr e) {
                std::lock_guard lock(mu);
                completed.push_back(i);
                errors[i] = e;
                if (--left == 0) all.set_value();
            });
    all.get_future().get();
    CHECK(completed == std::vector<int>{0, 1, 2});  // completion in submission order
    CHECK_FALSE(errors[0]);
    CHECK_FALSE(errors[2]);
    REQUIRE(errors[1]);
    CHECK_THROWS_WITH_AS(std::rethrow_exception(errors[1]), "item 1 refuses", Refused);
    CHECK(f.count("SELECT count(*) FROM queue") == 2);
    CHECK(f.count("SELECT count(*) FROM queue WHERE name = 'Q1'") == 0);
    CHECK(w.groups() == 1);  // submitted within the wait: one commit for all three
}

TEST_CASE("writer: run() returns the value or throws the item's exception; a store that cannot be opened fails the items") {
    Fixture f;
    {
        Writer w([&] { return Store::open(f.path); });
        CHECK(w.run([](Store& s) { return add_queue(s, 7); }) > 0);
        CHECK_THROWS_AS(w.run([](Store& s) { return add_queue(s, 7); }), Refused);  // the same name again
        w.run([](Store&) {});
    }
    Writer broken([&] {
        StoreOptions o;
        o.open.create = false;
        return Store::open(f.tmp.file("missing/store.db"), o);
    });
    CHECK_THROWS_WITH(broken.run([](Store&) {}), doctest::Contains("does not exist"));
}
