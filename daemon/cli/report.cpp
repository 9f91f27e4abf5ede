// casemail report: the cases of a period by queue, category, request type, ward, property,
// origin, status or month: counts, median and 90th percentile times to first response and to
// resolution, the share of cases under an SLA that breached it. store/report.hpp reads one row
// per case; matching/report.hpp adds them up.
#include <fmt/format.h>

#include <iostream>

#include "daemon/cli/context.hpp"
#include "matching/sla.hpp"
#include "mime/printable.hpp"
#include "store/report.hpp"

namespace casemail::cli {
namespace {

struct ReportOptions {
    std::string by, from, to;
    bool csv = false;
};

// "2026-11-01" (a day, UTC) or a full time -> ISO UTC; BadRequest otherwise.
std::optional<std::string> bound(const std::string& text, const char* option) {
    if (text.empty()) return std::nullopt;
    auto full = text.size() == 10 ? text + "T00:00:00Z" : text;
    if (!store::parse_time(full)) throw BadRequest(fmt::format("{} '{}' is not a date like 2026-11-01", option, text));
    return full;
}

nlohmann::json opt(const std::optional<std::int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

std::string hours(const std::optional<std::int64_t>& s) {
    return s ? fmt::format("{:.1f}", static_cast<double>(*s) / 3600.0) : "-";
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

int report(Context& ctx, const ReportOptions& o) {
    if (!store::valid_report_dimension(o.by))
        throw BadRequest("--by is one of queue, category, request-type, ward, property, origin, status, month");
    auto from = bound(o.from, "--from"), to = bound(o.to, "--to");
    const auto& cfg = ctx.config();
    auto cases = store::report_cases(ctx.store(), o.by, from, to);
    // Under an SLA: a policy covers it now, or a breach was recorded (its clock ran then).
    for (auto& c : cases)
        c.under_sla = c.breached || matching::sla::policy_for(cfg.slas, c.priority, c.request_type) != nullptr;
    auto rows = matching::summarize(cases);
    if (ctx.json()) {
        auto out = nlohmann::json::array();
        for (const auto& r : rows)
            out.push_back({{"group", r.group}, {"opened", r.opened}, {"resolved", r.resolved}, {"active", r.active},
                           {"cancelled", r.cancelled},
                           {"first_response_s", {{"median", opt(r.response_median_s)}, {"p90", opt(r.response_p90_s)}}},
                           {"resolution_s", {{"median", opt(r.resolution_median_s)}, {"p90", opt(r.resolution_p90_s)}}},
                           {"sla_breach_share", r.breach_share ? nlohmann::json(*r.breach_share) : nlohmann::json(nullptr)}});
        print(out);
    } else if (o.csv) {
        std::cout << o.by << ",opened,resolved,active,cancelled,first_response_median_s,first_response_p90_s,"
                             "resolution_median_s,resolution_p90_s,sla_breach_share\r\n";
        auto n = [](const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : std::string(); };
        for (const auto& r : rows)
            std::cout << fmt::format("{},{},{},{},{},{},{},{},{},{}\r\n", csv_field(r.group), r.opened, r.resolved, r.active,
                                     r.cancelled, n(r.response_median_s), n(r.response_p90_s), n(r.resolution_median_s),
                                     n(r.resolution_p90_s), r.breach_share ? fmt::format("{:.4f}", *r.breach_share) : "");
    } else {
        std::cout << fmt::format("{:<24} {:>7} {:>8} {:>6}  {:>17}  {:>17}  {:>8}\n", o.by, "opened", "resolved", "active",
                                 "1st resp h p50/p90", "resolve h p50/p90", "breached");
        for (const auto& r : rows)
            std::cout << fmt::format("{:<24} {:>7} {:>8} {:>6}  {:>17}  {:>17}  {:>8}\n", mime::printable(r.group, 24),
                                     r.opened, r.resolved, r.active, hours(r.response_median_s) + " / " + hours(r.response_p90_s),
                                     hours(r.resolution_median_s) + " / " + hours(r.resolution_p90_s),
                                     r.breach_share ? fmt::format("{:.0f}%", *r.breach_share * 100) : "-");
    }
    return exit_ok;
}

}  // namespace

void add_report_commands(CommandTable& t) {
    auto o = std::make_shared<ReportOptions>();
    auto* cmd = t.command(nullptr, "report",
                          "cases opened in a period, by one dimension: counts, response and resolution times, SLA breaches",
                          [o](Context& c) { return report(c, *o); }, true);
    cmd->add_option("--by", o->by, "queue | category | request-type | ward | property | origin | status | month")->required();
    cmd->add_option("--from", o->from, "opened on or after this day (UTC), like 2026-11-01");
    cmd->add_option("--to", o->to, "opened before this day (UTC)");
    cmd->add_flag("--csv", o->csv, "CSV (RFC 4180) instead of a table");
}

}  // namespace casemail::cli
