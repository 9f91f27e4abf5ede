// The relay's connection slots and login back-off, with a clock the test moves.
#include <doctest/doctest.h>

#include "daemon/protocol/throttle.hpp"

using namespace casemail::protocol;
using namespace std::chrono_literals;

TEST_CASE("slots: the total and the per-address limit at N and N+1, stress past half") {
    ConnectionSlots slots(4, 2);
    CHECK(slots.admit("10.0.0.1") == ConnectionSlots::Admit::ok);
    CHECK_FALSE(slots.stressed());
    CHECK(slots.admit("10.0.0.1") == ConnectionSlots::Admit::ok);
    CHECK_FALSE(slots.stressed());  // exactly half
    CHECK(slots.admit("10.0.0.1") == ConnectionSlots::Admit::client_full);
    CHECK(slots.total() == 2);
    CHECK(slots.admit("10.0.0.2") == ConnectionSlots::Admit::ok);
    CHECK(slots.stressed());
    CHECK(slots.admit("10.0.0.3") == ConnectionSlots::Admit::ok);
    CHECK(slots.full());
    CHECK(slots.admit("10.0.0.4") == ConnectionSlots::Admit::full);
    slots.release("10.0.0.1");
    CHECK(slots.of("10.0.0.1") == 1);
    CHECK(slots.admit("10.0.0.4") == ConnectionSlots::Admit::ok);
    slots.release("10.0.0.9");  // never admitted: no effect
    CHECK(slots.total() == 4);
    for (auto c : {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"}) slots.release(c);
    CHECK(slots.total() == 0);
    CHECK(slots.of("10.0.0.1") == 0);
}

TEST_CASE("login back-off: N failures defer the address, doubling to the cap; others unaffected") {
    BackoffPolicy policy;
    policy.failures = 3;
    policy.first = 60s;
    policy.longest = 200s;
    LoginBackoff b(policy);
    auto t = LoginBackoff::Clock::time_point{} + 1000s;
    CHECK_FALSE(b.failed("a", t));
    CHECK_FALSE(b.failed("a", t));
    CHECK_FALSE(b.deferred_for("a", t));
    auto started = b.failed("a", t);  // the third
    REQUIRE(started);
    CHECK(*started == 60s);
    CHECK(b.deferred_for("a", t + 1s) == 59s);
    CHECK_FALSE(b.deferred_for("b", t));
    CHECK_FALSE(b.deferred_for("a", t + 60s));
    t += 61s;
    b.failed("a", t);
    b.failed("a", t);
    CHECK(b.failed("a", t) == 120s);  // second round doubles
    t += 121s;
    for (int i = 0; i < 2; ++i) b.failed("a", t);
    CHECK(b.failed("a", t) == 200s);  // capped
    b.succeeded("a");
    CHECK_FALSE(b.deferred_for("a", t));
}

TEST_CASE("login back-off: old failures are forgotten, so memory stays bounded") {
    BackoffPolicy policy;
    policy.failures = 2;
    policy.forget = 100s;
    LoginBackoff b(policy);
    auto t = LoginBackoff::Clock::time_point{} + 1000s;
    for (int i = 0; i < 1000; ++i) b.failed("10.0." + std::to_string(i), t);
    CHECK(b.tracked() == 1000);
    b.failed("x", t + 101s);
    CHECK(b.tracked() == 1);
    CHECK_FALSE(b.failed("10.0.1", t + 101s));  // a fresh count: one failure, no back-off
}
