// Case reports (the seeds' property-, ward- and person-centric reporting): the cases of a
// period grouped by one dimension, with counts and the times the city is judged by. Pure: the
// store hands over one row per case, this adds them up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace casemail::matching {

// One case as the report sees it.
struct ReportCase {
    std::string group;                         // the value of the dimension; "" for none
    std::string status;                        // active | resolved | cancelled
    std::optional<std::int64_t> response_s;    // seconds from opening to the first response
    std::optional<std::int64_t> resolution_s;  // seconds from opening to the resolution
    bool under_sla = false;                    // a clock ran for it (the caller knows the policies)
    bool breached = false;                     // one of its clocks breached
    std::string priority;                      // (to find its SLA policy)
    std::optional<std::string> request_type;
};

struct ReportRow {
    std::string group;  // "(none)" for cases without a value
    std::int64_t opened = 0, resolved = 0, active = 0, cancelled = 0;
    std::optional<std::int64_t> response_median_s, response_p90_s;
    std::optional<std::int64_t> resolution_median_s, resolution_p90_s;
    std::optional<double> breach_share;  // breached / under an SLA; none when no case was
};

// Nearest-rank percentile (the smallest value with at least p% of the values at or below it);
// none for no values. `values` need not be sorted.
std::optional<std::int64_t> percentile(std::vector<std::int64_t> values, int p);

// The rows, one per group, ordered by group (the month dimension sorts as time); a final row
// "(all)" sums every case.
std::vector<ReportRow> summarize(const std::vector<ReportCase>& cases);

}  // namespace casemail::matching
