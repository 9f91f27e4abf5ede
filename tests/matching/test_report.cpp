// Report arithmetic on hand-made cases with known answers.
#include <doctest/doctest.h>

#include "matching/report.hpp"

using namespace casemail::matching;

TEST_CASE("percentile: nearest rank") {
    CHECK_FALSE(percentile({}, 50));
    CHECK(percentile({7}, 50) == 7);
    CHECK(percentile({7}, 90) == 7);
    CHECK(percentile({4, 1, 3, 2}, 50) == 2);  // ceil(0.5 * 4) = 2nd
    CHECK(percentile({4, 1, 3, 2}, 90) == 4);
    std::vector<std::int64_t> hundred;
    for (int i = 100; i >= 1; --i) hundred.push_back(i);
    CHECK(percentile(hundred, 50) == 50);
    CHECK(percentile(hundred, 90) == 90);
    CHECK(percentile(hundred, 100) == 100);
}

TEST_CASE("summarize: groups in order, counts, times, breach share over the cases under an SLA, and a total") {
    std::vector<ReportCase> cases = {
        {"Ward 2", "resolved", 3600, 7200, true, false, "normal", std::nullopt},
        {"Ward 2", "resolved", 1800, 36000, true, true, "normal", std::nullopt},
        {"Ward 2", "active", std::nullopt, std::nullopt, true, true, "normal", std::nullopt},
        {"Ward 1", "cancelled", std::nullopt, std::nullopt, false, false, "low", std::nullopt},
        {"", "active", 60, std::nullopt, false, false, "normal", std::nullopt},
    };
    auto rows = summarize(cases);
    REQUIRE(rows.size() == 4);
    CHECK(rows[0].group == "(none)");
    CHECK(rows[1].group == "Ward 1");
    CHECK(rows[2].group == "Ward 2");
    CHECK(rows[3].group == "(all)");
    const auto& w2 = rows[2];
    CHECK(w2.opened == 3);
    CHECK(w2.resolved == 2);
    CHECK(w2.active == 1);
    CHECK(w2.response_median_s == 1800);
    CHECK(w2.response_p90_s == 3600);
    CHECK(w2.resolution_median_s == 7200);
    CHECK(w2.resolution_p90_s == 36000);
    REQUIRE(w2.breach_share);
    CHECK(*w2.breach_share == doctest::Approx(2.0 / 3.0));
    CHECK(rows[1].cancelled == 1);
    CHECK_FALSE(rows[1].breach_share);  // no case under an SLA: no share, not 0%
    CHECK_FALSE(rows[1].response_median_s);
    CHECK(rows[3].opened == 5);
    CHECK(rows[3].response_median_s == 1800);  // of 60, 1800, 3600
    CHECK(*rows[3].breach_share == doctest::Approx(2.0 / 3.0));
}
