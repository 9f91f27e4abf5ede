// The store's side of SLA clocks (matching/sla.hpp holds the arithmetic): the initial
// acknowledgement, holds, and the alerts raised once per case, clock and state. Every function
// writes inside the caller's transaction; a refusal throws Refused and changes nothing.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "matching/sla.hpp"
#include "store/store.hpp"

namespace casemail::store {

// What a case's clocks need, with what the alert mail and the lists show.
struct SlaCase {
    Id id = 0;
    std::string token, title, status;
    std::optional<Id> queue_id;
    std::optional<std::string> queue_name, queue_mailbox, owner, first_response_by;
    matching::sla::CaseTimes times;
    std::set<matching::sla::SlaAlert> raised;
};

// Active cases, oldest first, in pages (after the id `after`); and one case by id.
std::vector<SlaCase> active_sla_cases(Store& store, Id after, int limit);
std::optional<SlaCase> sla_case(Store& store, Id case_id);

// The initial acknowledgement (first response): set once, by an agent's reply through the relay
// or by `case ack` (a phone call). Returns false when the case already had one.
bool record_first_response(Store& store, Id case_id, const std::string& by, const std::string& how);
// `case ack`: refused when the case is not active or already acknowledged.
void acknowledge_case(Store& store, const std::string& token, const std::string& actor);

// Holds pause both clocks (events: held / resumed).
void hold_case(Store& store, const std::string& token, const std::string& reason, const std::string& actor);
void resume_case(Store& store, const std::string& token, const std::string& actor);
struct CaseHold {
    std::string held_at, held_by, reason;
    std::optional<std::string> resumed_at, resumed_by;
};
std::vector<CaseHold> case_holds(Store& store, Id case_id);
// A reactivated case: the time it spent resolved becomes a hold (closed now), so its clocks do
// not count it; a hold left open at the resolution ends there.
void hold_while_resolved(Store& store, Id case_id, const std::string& resolved_at, const std::string& actor);

// Records an alert (event sla-warning / sla-breached with `detail`); false when it was raised
// before, so a racing second daemon or a re-run raises nothing twice.
bool raise_sla_alert(Store& store, Id case_id, matching::sla::SlaAlert alert, const std::string& detail);

}  // namespace casemail::store
