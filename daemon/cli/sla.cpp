// casemail case ack|hold|resume, and the SLA clocks that case show, case list --sla and queue
// show print (the arithmetic is matching/sla.hpp; the store's side is store/sla.hpp).
#include "daemon/cli/sla.hpp"

#include <fmt/format.h>

#include "mime/printable.hpp"
#include "store/sla.hpp"

namespace casemail::cli {
namespace {

namespace sla = matching::sla;

std::string business(std::chrono::seconds d) {
    auto h = d.count() / 3600, m = (d.count() % 3600) / 60, s = d.count() % 60;
    if (h && m) return fmt::format("{}h{}m", h, m);
    if (h) return fmt::format("{}h", h);
    if (m) return s ? fmt::format("{}m{}s", m, s) : fmt::format("{}m", m);
    return fmt::format("{}s", s);
}

// An instant in the city's zone, as agents read it.
std::string local_text(const date::time_zone* zone, sla::Instant t) {
    auto zoned = date::make_zoned(zone, t);
    return date::format("%Y-%m-%d %H:%M:%S %Z", zoned);
}

struct SlaOptions {
    std::string token, reason;
};

}  // namespace

CaseClocks clocks_of(Context& ctx, store::Id case_id) {
    CaseClocks out;
    const auto& cfg = ctx.config();
    if (cfg.slas.empty()) return out;
    auto c = store::sla_case(ctx.store(), case_id);
    if (!c) return out;
    const auto* policy = sla::policy_for(cfg.slas, c->times.priority, c->times.request_type);
    if (!policy) return out;
    out.policy = policy->name;
    auto now = std::chrono::floor<std::chrono::seconds>(ctx.store().now());
    out.clocks = sla::case_clocks(config::business_hours(cfg), cfg.slas, c->times, now);
    return out;
}

std::vector<std::string> clock_lines(Context& ctx, const CaseClocks& c) {
    std::vector<std::string> out;
    const auto* zone = ctx.config().zone;
    for (const auto& v : c.clocks) {
        std::string when;
        if (v.stopped) when = "stopped " + local_text(zone, *v.stopped);
        else if (v.on_hold) when = "on hold, due when resumed";
        else if (v.due) when = (v.state == sla::ClockState::breached ? "was due " : "due ") + local_text(zone, *v.due);
        else when = "never due (no business hours ahead)";
        out.push_back(fmt::format("{}: {}, {} ({} of {} business time; policy {})", sla::title(v.kind), name(v.state),
                                  when, business(v.elapsed), business(v.target), mime::printable(c.policy, 80)));
    }
    return out;
}

nlohmann::json clocks_json(const CaseClocks& c) {
    auto out = nlohmann::json::array();
    auto iso = [](std::optional<sla::Instant> t) -> nlohmann::json {
        if (!t) return nullptr;
        return store::format_time(*t);
    };
    for (const auto& v : c.clocks)
        out.push_back({{"clock", name(v.kind)},
                       {"policy", c.policy},
                       {"state", name(v.state)},
                       {"on_hold", v.on_hold},
                       {"elapsed_seconds", v.elapsed.count()},
                       {"target_seconds", v.target.count()},
                       {"warn_at", iso(v.warn_at)},
                       {"due", iso(v.due)},
                       {"stopped", iso(v.stopped)}});
    return out;
}

std::string sla_column(const CaseClocks& c) {
    auto worst = sla::worst_state(c.clocks);
    if (!worst) return "-";
    for (const auto& v : c.clocks)
        if (v.on_hold && *worst != sla::ClockState::breached) return "on hold";
    return std::string(name(*worst));
}

void add_sla_commands(CommandTable& t) {
    auto o = std::make_shared<SlaOptions>();
    auto* cases = t.existing_group("case");
    auto* ack = t.command(cases, "ack", "record the initial acknowledgement (a phone call): stops the first-response clock",
                          [o](Context& c) {
                              return apply_change(c, [&](store::Store& s) { store::acknowledge_case(s, o->token, c.actor()); },
                                           fmt::format("case {} acknowledged", o->token));
                          });
    ack->add_option("TOKEN", o->token, "case token")->required();
    auto* hold = t.command(cases, "hold", "put a case on hold: its SLA clocks pause", [o](Context& c) {
        return apply_change(c, [&](store::Store& s) { store::hold_case(s, o->token, o->reason, c.actor()); },
                     fmt::format("case {} on hold", o->token));
    });
    hold->add_option("TOKEN", o->token, "case token")->required();
    hold->add_option("--reason", o->reason, "why (waiting for the citizen, another agency, ...)")->required();
    auto* resume = t.command(cases, "resume", "take a case off hold: its SLA clocks run again", [o](Context& c) {
        return apply_change(c, [&](store::Store& s) { store::resume_case(s, o->token, c.actor()); },
                     fmt::format("case {} resumed", o->token));
    });
    resume->add_option("TOKEN", o->token, "case token")->required();
}

}  // namespace casemail::cli
