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

WriterOptions grouped(std::size_t max_group, std::chrono::microseconds max_wait) {
    WriterOptions o;
    o.max_group = max_group;
    o.max_wait = max_wait;
    return o;
}

Id add_queue(Store& s, int n) {
    return s.add_queue("Q" + std::to_string(n), "q" + std::to_string(n) + "@city.example");
}

}  // namespace

TEST_CASE("writer: work is durable when it completes, grouped by count") {
    Fixture f;
    Writer w([&] { return Store::open(f.path); }, grouped(4, std::chrono::milliseconds(200)));
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
    Writer w([&] { return Store::open(f.path); }, grouped(64, std::chrono::milliseconds(50)));
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

TEST_CASE("writer: an urgent item goes into the next group ahead of queued bulk work; bulk fills at most max_bulk a group") {
    Fixture f;
    WriterOptions options;
    options.max_bulk = 10;
    Writer w([&] { return Store::open(f.path); }, options);
    std::promise<void> started, gate;
    auto opened = gate.get_future().share();
    w.submit(
        [&started, opened](Store&) {
            started.set_value();
            opened.wait();  // holds the writer in its first group while the rest is queued
        },
        [](std::exception_ptr) {});
    started.get_future().wait();
    std::mutex mu;
    std::vector<std::string> order;
    std::promise<void> all;
    std::atomic<int> left{31};
    auto done = [&](std::string name) {
        return [&, name](std::exception_ptr e) {
            CHECK_FALSE(e);
            std::lock_guard lock(mu);
            order.push_back(name);
            if (--left == 0) all.set_value();
        };
    };
    for (int i = 0; i < 30; ++i) w.submit([i](Store& s) { add_queue(s, i); }, done("b" + std::to_string(i)));
    w.submit([](Store& s) { add_queue(s, 100); }, done("u"), Lane::urgent);
    gate.set_value();
    all.get_future().get();
    std::vector<std::string> expected{"u"};
    for (int i = 0; i < 30; ++i) expected.push_back("b" + std::to_string(i));
    CHECK(order == expected);  // the reply first, then the bulk lane in submission order
    CHECK(w.groups() == 4);    // the held one, then u + b0-b9, b10-b19, b20-b29
    CHECK(f.count("SELECT count(*) FROM queue") == 31);
}
