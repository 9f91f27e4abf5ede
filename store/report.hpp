// The cases a report counts (matching/report.hpp adds them up): one row per case opened in a
// period, with the value of the chosen dimension.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "matching/open311.hpp"
#include "matching/report.hpp"
#include "store/store.hpp"

namespace casemail::store {

// queue, category, request-type, ward, property, origin, status, month
bool valid_report_dimension(const std::string& by);

// Cases opened in [from, to) (ISO UTC times; either may be absent), grouped by `by`.
std::vector<matching::ReportCase> report_cases(Store& store, const std::string& by, const std::optional<std::string>& from,
                                               const std::optional<std::string>& to);

// Every case updated at or after `since` (all when absent), oldest update first, for the
// Open311 export (expected_at is left to the caller, who knows the SLA policies).
std::vector<matching::Open311Case> open311_cases(Store& store, const std::optional<std::string>& since);

}  // namespace casemail::store
