// casemail export open311: the cases as Open311 GeoReport v2 service requests, JSON or XML as
// the spec gives them (matching/open311.hpp decides what is published). With --out the file is
// replaced atomically (workorder::prepare_file: temporary file, fsync, rename, fsync of the
// directory), so a web server never serves half of it.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "daemon/cli/context.hpp"
#include "daemon/workorder/spool.hpp"
#include "matching/open311.hpp"
#include "matching/sla.hpp"
#include "store/report.hpp"

namespace casemail::cli {
namespace {

struct Open311Options {
    std::string since, out, format = "json";
};

std::string xml_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default:
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;  // no XML 1.0 controls
        }
    }
    return out;
}

// The fields in the spec's order, each with its value (absent optional fields are left out).
std::vector<std::pair<const char*, std::string>> fields(const matching::ServiceRequest& r) {
    std::vector<std::pair<const char*, std::string>> f = {
        {"service_request_id", r.service_request_id}, {"status", r.status}, {"status_notes", r.status_notes},
        {"service_name", r.service_name},             {"service_code", r.service_code},
        {"description", r.description},               {"agency_responsible", r.agency_responsible},
        {"requested_datetime", r.requested_datetime}, {"updated_datetime", r.updated_datetime}};
    if (r.expected_datetime) f.emplace_back("expected_datetime", *r.expected_datetime);
    if (r.address) f.emplace_back("address", *r.address);
    return f;
}

std::string render(const std::vector<matching::ServiceRequest>& requests, const std::string& format) {
    if (format == "json") {
        auto arr = nlohmann::json::array();
        for (const auto& r : requests) {
            nlohmann::json j = nlohmann::json::object();
            for (const auto& [k, v] : fields(r)) j[k] = v;
            arr.push_back(j);
        }
        return arr.dump(2) + "\n";
    }
    std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests>\n";
    for (const auto& r : requests) {
        xml += "  <request>\n";
        for (const auto& [k, v] : fields(r)) xml += fmt::format("    <{0}>{1}</{0}>\n", k, xml_escape(v));
        xml += "  </request>\n";
    }
    return xml + "</service_requests>\n";
}

int export_open311(Context& ctx, const Open311Options& o) {
    std::optional<std::string> since;
    if (!o.since.empty()) {
        since = o.since.size() == 10 ? o.since + "T00:00:00Z" : o.since;
        if (!store::parse_time(*since)) throw BadRequest(fmt::format("--since '{}' is not a date like 2026-11-01", o.since));
    }
    const auto& cfg = ctx.config();
    auto hours = config::business_hours(cfg);
    std::vector<matching::ServiceRequest> requests;
    for (auto& c : store::open311_cases(ctx.store(), since)) {
        const auto* policy = matching::sla::policy_for(cfg.slas, c.priority, c.request_type);
        auto created = store::parse_time(c.created_at);
        if (policy && policy->resolve_within && created)
            if (auto due = matching::sla::add_business_time(
                    hours, std::chrono::time_point_cast<std::chrono::seconds>(*created), *policy->resolve_within))
                c.expected_at = store::format_time(*due);
        if (auto r = matching::service_request(c, cfg.open311_services)) requests.push_back(std::move(*r));
    }
    auto text = render(requests, o.format);
    if (o.out.empty()) {
        std::cout << text;
        return exit_ok;
    }
    std::filesystem::path out(o.out);
    auto dir = out.parent_path().empty() ? std::filesystem::path(".") : out.parent_path();
    auto pending = workorder::prepare_file(dir, out.filename().string(), text);
    if (!pending) throw BadRequest(fmt::format("cannot write '{}': {}", o.out, pending.error()));
    if (auto ok = pending->publish(); !ok) throw BadRequest(fmt::format("cannot write '{}': {}", o.out, ok.error()));
    std::cerr << fmt::format("{} service requests written to {}\n", requests.size(), o.out);
    return exit_ok;
}

}  // namespace

void add_open311_commands(CommandTable& t) {
    auto o = std::make_shared<Open311Options>();
    auto* group = t.group("export", "publish cases outside casemail");
    auto* cmd = t.command(group, "open311", "the cases as Open311 GeoReport v2 service requests (no citizen identity)",
                          [o](Context& c) { return export_open311(c, *o); });
    cmd->add_option("--since", o->since, "only cases updated on or after this day (UTC), like 2026-11-01");
    cmd->add_option("--out", o->out, "file to replace atomically (default: standard output)");
    cmd->add_option("--format", o->format, "json or xml")->check(CLI::IsMember({"json", "xml"}));
}

}  // namespace casemail::cli
