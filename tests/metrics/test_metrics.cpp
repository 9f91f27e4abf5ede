// The metrics registry's text format, and what the endpoint answers to a request head.
#include <doctest/doctest.h>

#include "daemon/common/metrics.hpp"
#include "daemon/metrics/http.hpp"

using namespace casemail;

TEST_CASE("metrics: counters, gauges and histograms in the Prometheus text format") {
    common::Metrics m;
    auto empty = m.exposition();
    CHECK(empty.find("# HELP casemail_messages_total Inbound messages stored, by mailbox and action.\n"
                     "# TYPE casemail_messages_total counter\n") != std::string::npos);
    m.add("casemail_messages_total", {{"mailbox", "311DWP@city.example"}, {"action", "created"}});
    m.add("casemail_messages_total", {{"mailbox", "311DWP@city.example"}, {"action", "created"}}, 2);
    m.set("casemail_store_bytes", {}, 4096);
    m.observe("casemail_fetch_seconds", {{"mailbox", "a\"b\\c\nd"}}, 0.003);
    auto text = m.exposition();
    CHECK(text.find("casemail_messages_total{mailbox=\"311DWP@city.example\",action=\"created\"} 3\n") != std::string::npos);
    CHECK(text.find("casemail_store_bytes 4096\n") != std::string::npos);
    CHECK(text.find("casemail_fetch_seconds_bucket{mailbox=\"a\\\"b\\\\c\\nd\",le=\"0.0025\"} 0\n") != std::string::npos);
    CHECK(text.find("casemail_fetch_seconds_bucket{mailbox=\"a\\\"b\\\\c\\nd\",le=\"0.005\"} 1\n") != std::string::npos);
    CHECK(text.find("casemail_fetch_seconds_bucket{mailbox=\"a\\\"b\\\\c\\nd\",le=\"+Inf\"} 1\n") != std::string::npos);
    CHECK(text.find("casemail_fetch_seconds_count{mailbox=\"a\\\"b\\\\c\\nd\"} 1\n") != std::string::npos);
    m.set("casemail_alarm", {{"alarm", "quarantine"}}, 1);
    m.clear("casemail_alarm");
    CHECK(m.exposition().find("casemail_alarm{") == std::string::npos);
    CHECK_THROWS_AS(m.add("casemail_no_such_total", {}), std::logic_error);
    CHECK_THROWS_AS(m.add("casemail_store_bytes", {}), std::logic_error);  // a gauge, not a counter
}

TEST_CASE("metrics endpoint: GET /metrics and nothing else") {
    CHECK(metrics::answer_for("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").status == 200);
    CHECK(metrics::answer_for("HEAD /metrics HTTP/1.0\r\n\r\n").status == 200);
    CHECK(metrics::answer_for("GET /metrics?name[]=x HTTP/1.1\r\n\r\n").status == 200);
    CHECK(metrics::answer_for("POST /metrics HTTP/1.1\r\n\r\n").status == 405);
    CHECK(metrics::answer_for("GET / HTTP/1.1\r\n\r\n").status == 404);
    CHECK(metrics::answer_for("GET /metrics/../etc HTTP/1.1\r\n\r\n").status == 404);
    CHECK(metrics::answer_for("GET /metrics HTTP/2.0\r\n\r\n").status == 400);
    CHECK(metrics::answer_for("GET  /metrics HTTP/1.1\r\n\r\n").status == 400);
    CHECK(metrics::answer_for("\x16\x03\x01\x02\x00\r\n\r\n").status == 400);  // a TLS hello
    CHECK(metrics::answer_for("").status == 400);
}
