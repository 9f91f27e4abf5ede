// SLA clocks of the city's 311 guide: business hours in the city's time zone, and the two
// countdowns of a case (first response, resolution) that run only inside them, pause while the
// case is on hold and stop at the acknowledgement or the resolution.
//
// Pure: plain values in, plain values out. Times are UTC instants (sys_seconds); business hours
// are local wall-clock windows, turned into instants through the IANA zone (date::time_zone, from
// the system's tz database), so a DST change moves the instants, never the windows.
#pragma once

#include <date/tz.h>

#include <array>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mime/result.hpp"

namespace casemail::matching::sla {

using Instant = std::chrono::sys_seconds;
using std::chrono::seconds;

// One business window of a day: [start, end) in minutes after local midnight (end <= 1440).
struct Window {
    int start = 0, end = 0;
    bool operator==(const Window&) const = default;
};

struct BusinessHours {
    std::array<std::vector<Window>, 7> by_weekday;  // index: days after Sunday (0 = Sunday)
    std::set<date::local_days> holidays;            // local dates without business hours
    const date::time_zone* zone = nullptr;          // required
};

// "Mon-Fri 08:00-17:00", "Mon-Fri 08:00-12:00 13:00-17:00, Sat 09:00-12:00", "always" (24/7).
// Windows of one day must not overlap; at least one window overall.
Result<std::array<std::vector<Window>, 7>> parse_hours(std::string_view text);
// "2026-12-25"
Result<date::local_days> parse_date(std::string_view text);

// Business time between two instants (0 when `to` is not after `from`).
seconds business_time(const BusinessHours& hours, Instant from, Instant to);
// The instant when `amount` of business time has passed since `from`; nullopt when the hours
// never give that much (no windows, or every day a holiday for ten years).
std::optional<Instant> add_business_time(const BusinessHours& hours, Instant from, seconds amount);

// A stretch on hold; `to` unset while the case is still on hold. Holds do not overlap.
struct Hold {
    Instant from;
    std::optional<Instant> to;
};

enum class ClockKind { first_response, resolution };
// ok: running, before the warning; met / missed: stopped before / after its target.
enum class ClockState { ok, warning, breached, met, missed };
std::string_view name(ClockKind k);   // "first_response", as stored and in JSON
std::string_view title(ClockKind k);  // "first response", as people read it
std::string_view name(ClockState s);
std::optional<ClockState> clock_state_named(std::string_view text);

struct ClockInput {
    ClockKind kind = ClockKind::first_response;
    Instant started;                 // the case was opened
    std::optional<Instant> stopped;  // acknowledged (first response) or resolved
    seconds target{0};               // business time allowed
    int warn_percent = 75;           // warning once this share of the target has passed
    std::vector<Hold> holds;         // in time order
};

struct ClockView {
    ClockKind kind = ClockKind::first_response;
    ClockState state = ClockState::ok;
    seconds elapsed{0}, target{0};    // business time counted (holds excluded)
    std::optional<Instant> due;       // when the target is (or was) reached; unknown while on hold
    std::optional<Instant> warn_at;   // the same for the warning
    std::optional<Instant> stopped;
    bool on_hold = false;
};

// The clock as it stands at `now`.
ClockView evaluate(const BusinessHours& hours, const ClockInput& clock, Instant now);

// One [[sla]] entry: which cases it covers (unset: any) and what it allows them.
struct SlaPolicy {
    int line = 0;
    std::string name;                          // for messages; "sla[N]" when not given
    std::optional<std::string> priority;       // low, normal, high, urgent
    std::optional<std::string> request_type;   // Report, Request, Inquire About
    std::optional<seconds> first_response, resolve_within;
    int warn_percent = 75;
};

// The first policy (in config order) whose conditions the case meets, or nullptr.
const SlaPolicy* policy_for(const std::vector<SlaPolicy>& policies, const std::string& priority,
                            const std::optional<std::string>& request_type);

// What a case's clocks need from the store.
struct CaseTimes {
    std::string priority = "normal";
    std::optional<std::string> request_type;
    Instant created;
    std::optional<Instant> first_response, resolved;
    std::vector<Hold> holds;
};

// Both clocks of a case under its policy (a clock the policy does not set is left out).
std::vector<ClockView> case_clocks(const BusinessHours& hours, const std::vector<SlaPolicy>& policies,
                                   const CaseTimes& c, Instant now);

// An alert to raise: a running clock reached warning or breached and that was not raised yet.
// A clock that went straight to breached raises only the breach.
struct SlaAlert {
    ClockKind kind;
    ClockState state;  // warning or breached
    bool operator<(const SlaAlert& o) const { return std::pair(kind, state) < std::pair(o.kind, o.state); }
    bool operator==(const SlaAlert&) const = default;
};
std::vector<SlaAlert> alerts_to_raise(const std::vector<ClockView>& clocks, const std::set<SlaAlert>& raised);

// The worst state among the clocks, for lists: breached > warning > ok; nullopt without clocks.
std::optional<ClockState> worst_state(const std::vector<ClockView>& clocks);

}  // namespace casemail::matching::sla
