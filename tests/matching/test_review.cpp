// Review decisions (matching::party_link_refusal) over plain facts, no store.
#include <doctest/doctest.h>

#include "matching/review.hpp"

using namespace casemail::matching;

TEST_CASE("linking an unresolved party: the same address, an active contact; the customer only by the opener") {
    PartyFacts from{7, "from", "family@example.net", false, 3, true, "311-000003-ABCD", CaseStatus::active};
    ContactFacts teen{12, "Family@Example.net", "family@example.net", false};
    CHECK(party_link_refusal(from, 12, teen, false).empty());
    CHECK(party_link_refusal(from, 12, teen, true).empty());

    struct Row {
        const char* name;
        PartyFacts party;
        std::optional<ContactFacts> contact;
        bool as_customer;
        const char* refusal;
    };
    auto resolved = from;
    resolved.resolved = true;
    auto other = teen;
    other.email_norm = "other@example.org";
    auto archived = teen;
    archived.archived_or_merged = true;
    auto cc = from;
    cc.role = "cc";
    auto no_case = from;
    no_case.case_id.reset();
    auto reply = from;
    reply.email_opened_case = false;
    auto closed = from;
    closed.case_status = CaseStatus::resolved;
    for (const auto& row : std::vector<Row>{
             {"already resolved", resolved, teen, false, "party 7 is already resolved"},
             {"no such contact", from, std::nullopt, false, "no contact with id 12"},
             {"another address", from, other, false, "has the address"},
             {"archived", from, archived, false, "archived or merged"},
             {"not the sender", cc, teen, true, "sender (from) party only"},
             {"no case", no_case, teen, true, "not on a case"},
             {"a later reply", reply, teen, true, "did not open its case"},
             {"a resolved case", closed, teen, true, "is resolved: reactivate it first"},
         }) {
        SUBCASE(row.name) {
            auto why = party_link_refusal(row.party, 12, row.contact, row.as_customer);
            CHECK(why.find(row.refusal) != std::string::npos);
        }
    }
    CHECK(party_link_refusal(cc, 12, teen, false).empty());  // any role may be linked for history
}
