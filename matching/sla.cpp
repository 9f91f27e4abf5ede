#include "matching/sla.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "mime/printable.hpp"
#include "mime/strings.hpp"

namespace casemail::matching::sla {
namespace {

using date::days;
using date::local_days;
using date::local_seconds;

constexpr std::string_view day_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

std::optional<int> day_index(std::string_view word) {
    auto w = mime::to_lower_ascii(word.substr(0, 3));
    if (word.size() < 3) return std::nullopt;
    for (int i = 0; i < 7; ++i)
        if (w == day_names[i]) return i;
    return std::nullopt;
}

// "08:00" as minutes after midnight; "24:00" only as an end.
std::optional<int> minute_of_day(std::string_view t, bool end) {
    if (t.size() != 5 || t[2] != ':') return std::nullopt;
    for (std::size_t i : {0, 1, 3, 4})
        if (t[i] < '0' || t[i] > '9') return std::nullopt;
    int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !end))) return std::nullopt;
    return h * 60 + m;
}

// "Mon-Fri" or "Sat": the days it names (a range may wrap past Sunday: "Fri-Mon").
Result<std::vector<int>> day_span(std::string_view spec) {
    auto dash = spec.find('-');
    auto first = day_index(spec.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : day_index(spec.substr(dash + 1));
    if (!first || !last)
        return fail(fmt::format("'{}' is not a day or a range of days like Mon-Fri", mime::printable(spec, 40)));
    std::vector<int> out;
    for (int d = *first;; d = (d + 1) % 7) {
        out.push_back(d);
        if (d == *last) break;
    }
    return out;
}

Result<Window> window(std::string_view spec) {
    auto dash = spec.find('-');
    auto start = minute_of_day(spec.substr(0, dash), false);
    auto end = dash == std::string_view::npos ? std::nullopt : minute_of_day(spec.substr(dash + 1), true);
    if (!start || !end || *end <= *start)
        return fail(fmt::format("'{}' is not a time window like 08:00-17:00", mime::printable(spec, 40)));
    return Window{*start, *end};
}

// Local wall time to instants. Far from a UTC-offset change (the usual case) this is one
// subtraction with the offset of the stretch last looked up; within a day of a change it asks
// the zone, which resolves ambiguous and skipped local times.
class LocalToUtc {
public:
    explicit LocalToUtc(const date::time_zone* zone) : zone_(zone) {}

    Instant operator()(local_seconds t, date::choose c) {
        auto guess = Instant(t.time_since_epoch()) - offset_;
        if (!(guess >= safe_from_ && guess < safe_to_)) {
            auto info = zone_->get_info(zone_->to_sys(t, date::choose::earliest));
            offset_ = info.offset;
            safe_from_ = info.begin + days{1};
            safe_to_ = info.end - days{1};
            guess = Instant(t.time_since_epoch()) - offset_;
            if (!(guess >= safe_from_ && guess < safe_to_)) return zone_->to_sys(t, c);
        }
        return guess;
    }

private:
    const date::time_zone* zone_;
    seconds offset_{0};
    Instant safe_from_{Instant::max()}, safe_to_{Instant::min()};
};

// The day's windows as instants: the start is the earliest reading of an ambiguous local time,
// the end the latest (the repeated hour of a DST change is worked); a local time that does not
// exist (the skipped hour) is the instant of the change.
std::pair<Instant, Instant> instants(LocalToUtc& to_utc, local_days day, Window w) {
    return {to_utc(local_seconds(day) + std::chrono::minutes(w.start), date::choose::earliest),
            to_utc(local_seconds(day) + std::chrono::minutes(w.end), date::choose::latest)};
}

const std::vector<Window>& windows_of(const BusinessHours& h, local_days day) {
    static const std::vector<Window> none;
    if (h.holidays.count(day)) return none;
    return h.by_weekday[date::weekday(day).c_encoding()];
}

local_days local_day(const BusinessHours& h, Instant t) { return date::floor<days>(h.zone->to_local(t)); }

constexpr days search_limit{3660};  // ten years without enough business time: give up

}  // namespace

Result<std::array<std::vector<Window>, 7>> parse_hours(std::string_view text) {
    std::array<std::vector<Window>, 7> week;
    if (mime::to_lower_ascii(mime::trim(text)) == "always") {
        for (auto& d : week) d.push_back({0, 1440});
        return week;
    }
    for (const auto& group : mime::split(text, ',')) {
        std::vector<std::string> words;
        for (const auto& w : mime::split(group, ' '))
            if (!mime::trim(w).empty()) words.emplace_back(mime::trim(w));
        if (words.size() < 2) return fail(fmt::format("'{}' must be days then windows, like \"Mon-Fri 08:00-17:00\"",
                                                      mime::printable(mime::trim(group), 60)));
        auto span = day_span(words[0]);
        if (!span) return fail(span.error());
        for (std::size_t i = 1; i < words.size(); ++i) {
            auto w = window(words[i]);
            if (!w) return fail(w.error());
            for (int d : *span) {
                for (const auto& other : week[d])
                    if (w->start < other.end && other.start < w->end)
                        return fail(fmt::format("{} has overlapping windows", words[0]));
                week[d].push_back(*w);
            }
        }
    }
    bool any = false;
    for (auto& d : week) {
        std::sort(d.begin(), d.end(), [](Window a, Window b) { return a.start < b.start; });
        any = any || !d.empty();
    }
    if (!any) return fail("no business hours: give at least one window, or \"always\"");
    return week;
}

Result<local_days> parse_date(std::string_view text) {
    auto bad = [&] { return fail(fmt::format("'{}' is not a date like 2026-12-25", mime::printable(text, 40))); };
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
    int y = 0, m = 0, d = 0;
    for (std::size_t i = 0; i < 10; ++i) {
        if (i == 4 || i == 7) continue;
        if (text[i] < '0' || text[i] > '9') return bad();
        int digit = text[i] - '0';
        if (i < 4) y = y * 10 + digit;
        else if (i < 7) m = m * 10 + digit;
        else d = d * 10 + digit;
    }
    date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(m)), date::day(static_cast<unsigned>(d))};
    if (!ymd.ok()) return bad();
    return local_days(ymd);
}

seconds business_time(const BusinessHours& h, Instant from, Instant to) {
    if (to <= from) return seconds{0};
    seconds total{0};
    LocalToUtc to_utc(h.zone);
    for (auto day = local_day(h, from), last = local_day(h, to); day <= last; day += days{1})
        for (auto w : windows_of(h, day)) {
            auto [s, e] = instants(to_utc, day, w);
            auto a = std::max(s, from), b = std::min(e, to);
            if (a < b) total += b - a;
        }
    return total;
}

std::optional<Instant> add_business_time(const BusinessHours& h, Instant from, seconds amount) {
    if (amount <= seconds{0}) return from;
    auto first = local_day(h, from);
    LocalToUtc to_utc(h.zone);
    for (auto day = first; day < first + search_limit; day += days{1})
        for (auto w : windows_of(h, day)) {
            auto [s, e] = instants(to_utc, day, w);
            auto a = std::max(s, from);
            if (a >= e) continue;
            if (e - a >= amount) return a + amount;
            amount -= e - a;
        }
    return std::nullopt;
}

std::string_view name(ClockKind k) { return k == ClockKind::first_response ? "first_response" : "resolution"; }

std::string_view title(ClockKind k) { return k == ClockKind::first_response ? "first response" : "resolution"; }

std::string_view name(ClockState s) {
    switch (s) {
        case ClockState::ok: return "ok";
        case ClockState::warning: return "warning";
        case ClockState::breached: return "breached";
        case ClockState::met: return "met";
        case ClockState::missed: return "missed";
    }
    return "?";
}

std::optional<ClockState> clock_state_named(std::string_view text) {
    for (auto s : {ClockState::ok, ClockState::warning, ClockState::breached, ClockState::met, ClockState::missed})
        if (name(s) == text) return s;
    return std::nullopt;
}

namespace {

// Business time from `start` to `end`, holds left out.
seconds counted(const BusinessHours& h, Instant start, Instant end, const std::vector<Hold>& holds) {
    auto total = business_time(h, start, end);
    for (const auto& hold : holds) {
        auto a = std::max(hold.from, start), b = std::min(hold.to.value_or(end), end);
        if (a < b) total -= business_time(h, a, b);
    }
    return total;
}

// The instant when `amount` of business time has been counted from `start`, holds left out;
// nullopt when a hold still open comes first (nobody knows when it ends).
std::optional<Instant> reached(const BusinessHours& h, Instant start, seconds amount, const std::vector<Hold>& holds) {
    auto cursor = start;
    for (const auto& hold : holds) {
        if (hold.to && *hold.to <= cursor) continue;
        if (hold.from > cursor) {
            auto stretch = business_time(h, cursor, hold.from);
            if (stretch >= amount) return add_business_time(h, cursor, amount);
            amount -= stretch;
        }
        if (!hold.to) return std::nullopt;
        cursor = std::max(cursor, *hold.to);
    }
    return add_business_time(h, cursor, amount);
}

}  // namespace

ClockView evaluate(const BusinessHours& h, const ClockInput& c, Instant now) {
    ClockView v;
    v.kind = c.kind;
    v.target = c.target;
    v.stopped = c.stopped;
    auto end = c.stopped ? std::min(*c.stopped, std::max(now, c.started)) : std::max(now, c.started);
    v.elapsed = counted(h, c.started, end, c.holds);
    v.on_hold = !c.stopped && !c.holds.empty() && !c.holds.back().to && c.holds.back().from <= now;
    auto warn_amount = c.target * c.warn_percent / 100;
    v.due = reached(h, c.started, c.target, c.holds);
    v.warn_at = reached(h, c.started, warn_amount, c.holds);
    if (c.stopped) v.state = v.elapsed <= c.target ? ClockState::met : ClockState::missed;
    else if (v.elapsed >= c.target) v.state = ClockState::breached;
    else if (v.elapsed >= warn_amount) v.state = ClockState::warning;
    else v.state = ClockState::ok;
    return v;
}

const SlaPolicy* policy_for(const std::vector<SlaPolicy>& policies, const std::string& priority,
                            const std::optional<std::string>& request_type) {
    for (const auto& p : policies) {
        if (p.priority && *p.priority != priority) continue;
        auto lower = [](const std::string& t) { return mime::to_lower_ascii(t); };
        if (p.request_type && (!request_type || lower(*p.request_type) != lower(*request_type))) continue;
        return &p;
    }
    return nullptr;
}

std::vector<ClockView> case_clocks(const BusinessHours& h, const std::vector<SlaPolicy>& policies, const CaseTimes& c,
                                   Instant now) {
    std::vector<ClockView> out;
    const auto* p = policy_for(policies, c.priority, c.request_type);
    if (!p) return out;
    auto clock = [&](ClockKind kind, seconds target, std::optional<Instant> stopped) {
        ClockInput in{kind, c.created, stopped, target, p->warn_percent, c.holds};
        out.push_back(evaluate(h, in, now));
    };
    // A case resolved without a response had none: its first-response clock stops there too.
    if (p->first_response)
        clock(ClockKind::first_response, *p->first_response, c.first_response ? c.first_response : c.resolved);
    if (p->resolve_within) clock(ClockKind::resolution, *p->resolve_within, c.resolved);
    return out;
}

std::vector<SlaAlert> alerts_to_raise(const std::vector<ClockView>& clocks, const std::set<SlaAlert>& raised) {
    std::vector<SlaAlert> out;
    for (const auto& c : clocks) {
        if (c.state != ClockState::warning && c.state != ClockState::breached) continue;
        SlaAlert a{c.kind, c.state};
        if (raised.count(a)) continue;
        out.push_back(a);
    }
    return out;
}

std::optional<ClockState> worst_state(const std::vector<ClockView>& clocks) {
    auto rank = [](ClockState s) {
        switch (s) {
            case ClockState::breached: return 4;
            case ClockState::missed: return 3;
            case ClockState::warning: return 2;
            case ClockState::ok: return 1;
            case ClockState::met: return 0;
        }
        return 0;
    };
    std::optional<ClockState> worst;
    for (const auto& c : clocks)
        if (!worst || rank(c.state) > rank(*worst)) worst = c.state;
    return worst;
}

}  // namespace casemail::matching::sla
