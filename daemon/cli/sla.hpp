// SLA clocks as the CLI shows them (case show, case list --sla, queue show): each clock under the
// configured [[sla]] policies and business hours, with due times in the city's time zone.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "daemon/cli/context.hpp"
#include "matching/sla.hpp"

namespace casemail::cli {

struct CaseClocks {
    std::vector<matching::sla::ClockView> clocks;  // empty: no policy covers the case
    std::string policy;                             // its name
};
CaseClocks clocks_of(Context& ctx, store::Id case_id);

// "first response: warning, due 2026-03-05 10:00 PST (7h30m of 10h used)", one line per clock.
std::vector<std::string> clock_lines(Context& ctx, const CaseClocks& c);
nlohmann::json clocks_json(const CaseClocks& c);
// The worst state for a column: "breached", "warning", "ok", "met", "missed", "on hold", "-".
std::string sla_column(const CaseClocks& c);

}  // namespace casemail::cli
