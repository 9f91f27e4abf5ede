// The SLA watch: evaluates the clocks of active cases (matching/sla.hpp) and raises what they
// reached, once per case, clock and state: an audit event, and one alert mail per address of
// the queue's alert_to, queued in the outbox in the same transaction (so an alert is never
// recorded without its mail, or mailed twice). casemaild calls it from its SLA timer, a page
// of cases per store transaction.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "matching/sla.hpp"
#include "store/sla.hpp"
#include "store/store.hpp"

namespace casemail::sla {

struct WatchSettings {
    matching::sla::BusinessHours hours;
    std::vector<matching::sla::SlaPolicy> policies;
    std::map<std::string, std::vector<std::string>> alert_to;  // by the queue's normalised mailbox
    std::string message_id_domain = "casemail.invalid";
};

// One alert raised, for the log.
struct RaisedAlert {
    std::string token, queue, policy;
    matching::sla::ClockKind clock;
    matching::sla::ClockState state;
    std::string due;             // local time in the city's zone, "" when unknown
    std::vector<std::string> mailed_to;
};

struct WatchPage {
    std::vector<RaisedAlert> raised;
    store::Id last_id = 0;  // where the next page starts
    bool more = false;
};

// One page of active cases after `after`, evaluated at `now`.
WatchPage watch_page(store::Store& s, const WatchSettings& settings, matching::sla::Instant now, store::Id after,
                     int page_size = 200);

// The alert mail (pure): RFC 5322 text, CRLF, ready for the outbox.
std::string alert_message(const store::SlaCase& c, const RaisedAlert& alert, const std::string& from,
                          const std::string& to, const std::string& message_id, std::chrono::system_clock::time_point at);

}  // namespace casemail::sla
