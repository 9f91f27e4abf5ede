#include "matching/review.hpp"

#include <fmt/format.h>

namespace casemail::matching {

std::string party_link_refusal(const PartyFacts& party, Id contact_id, const std::optional<ContactFacts>& contact,
                               bool as_customer) {
    if (party.resolved) return fmt::format("party {} is already resolved", party.party_id);
    if (!contact) return fmt::format("no contact with id {}", contact_id);
    if (contact->email_norm != party.address_norm)
        return fmt::format("contact {} has the address '{}', not '{}'", contact_id, contact->email, party.address_norm);
    if (contact->archived_or_merged) return fmt::format("contact {} is archived or merged", contact_id);
    if (!as_customer) return {};
    if (party.role != "from") return "--as-customer applies to the sender (from) party only";
    if (!party.case_id) return "this email is not on a case";
    if (!party.email_opened_case) return "--as-customer: this email did not open its case; the customer stays";
    if (party.case_status != CaseStatus::active)
        return fmt::format("case {} is {}: reactivate it first", party.case_token, name(party.case_status));
    return {};
}

}  // namespace casemail::matching
