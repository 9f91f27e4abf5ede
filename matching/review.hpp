// Review decisions an agent takes in the admin CLI, as rules over plain facts the store reads.
// Pure: each returns why the action is refused, or "" when it may go ahead.
#pragma once

#include <optional>
#include <string>

#include "matching/plan.hpp"
#include "matching/states.hpp"

namespace casemail::matching {

// An unresolved party of an email (an address that matched several contacts, or none).
struct PartyFacts {
    Id party_id = 0;
    std::string role;  // from | to | cc | bcc ...
    std::string address_norm;
    bool resolved = false;
    std::optional<Id> case_id;          // the email's case
    bool email_opened_case = false;     // the first inbound email of that case
    std::string case_token;
    CaseStatus case_status = CaseStatus::active;
};

struct ContactFacts {
    Id id = 0;
    std::string email, email_norm;
    bool archived_or_merged = false;
};

// Linking `party` to contact `contact_id` (`contact`: its facts, nullopt when no such contact).
// Only a contact with the party's very address, active, may be linked; with `as_customer` the
// contact also becomes the customer, which only the sender of the email that opened an active
// case may decide (a later reply never changes whose case it is).
std::string party_link_refusal(const PartyFacts& party, Id contact_id, const std::optional<ContactFacts>& contact,
                               bool as_customer);

}  // namespace casemail::matching
