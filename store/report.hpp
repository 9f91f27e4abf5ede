// The cases a report counts (matching/report.hpp adds them up): one row per case opened in a
// period, with the value of the chosen dimension.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "matching/report.hpp"
#include "store/store.hpp"

namespace casemail::store {

// queue, category, request-type, ward, property, origin, status, month
bool valid_report_dimension(const std::string& by);

// Cases opened in [from, to) (ISO UTC times; either may be absent), grouped by `by`.
std::vector<matching::ReportCase> report_cases(Store& store, const std::string& by, const std::optional<std::string>& from,
                                               const std::optional<std::string>& to);

}  // namespace casemail::store
