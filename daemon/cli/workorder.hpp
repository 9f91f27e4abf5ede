// The work order of a case, as `case show` prints it (daemon/cli/workorder.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>

#include "store/workorder.hpp"

namespace casemail::cli {

nlohmann::json work_order_json(const std::optional<store::WorkOrder>& w);
void print_work_order_human(const std::optional<store::WorkOrder>& w);

}  // namespace casemail::cli
