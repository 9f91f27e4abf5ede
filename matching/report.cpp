#include "matching/report.hpp"

#include <algorithm>
#include <map>

namespace casemail::matching {
namespace {

ReportRow row_of(const std::string& group, const std::vector<const ReportCase*>& cases) {
    ReportRow r;
    r.group = group;
    std::vector<std::int64_t> response, resolution;
    std::int64_t under = 0, breached = 0;
    for (const auto* c : cases) {
        ++r.opened;
        if (c->status == "resolved") ++r.resolved;
        else if (c->status == "active") ++r.active;
        else ++r.cancelled;
        if (c->response_s) response.push_back(*c->response_s);
        if (c->resolution_s) resolution.push_back(*c->resolution_s);
        under += c->under_sla;
        breached += c->breached;
    }
    r.response_median_s = percentile(response, 50);
    r.response_p90_s = percentile(response, 90);
    r.resolution_median_s = percentile(resolution, 50);
    r.resolution_p90_s = percentile(resolution, 90);
    if (under > 0) r.breach_share = static_cast<double>(breached) / static_cast<double>(under);
    return r;
}

}  // namespace

std::optional<std::int64_t> percentile(std::vector<std::int64_t> values, int p) {
    if (values.empty()) return std::nullopt;
    std::sort(values.begin(), values.end());
    auto rank = (static_cast<std::size_t>(p) * values.size() + 99) / 100;  // ceil(p/100 * n)
    return values[std::max<std::size_t>(rank, 1) - 1];
}

std::vector<ReportRow> summarize(const std::vector<ReportCase>& cases) {
    std::map<std::string, std::vector<const ReportCase*>> groups;
    std::vector<const ReportCase*> all;
    for (const auto& c : cases) {
        groups[c.group.empty() ? "(none)" : c.group].push_back(&c);
        all.push_back(&c);
    }
    std::vector<ReportRow> rows;
    for (const auto& [group, members] : groups) rows.push_back(row_of(group, members));
    rows.push_back(row_of("(all)", all));
    return rows;
}

}  // namespace casemail::matching
