// The store's side of outbound mail: what the outbound rules need to know about a case, and
// recording an outbound email (an agent's reply, an acknowledgement) on its case. The rules
// themselves are matching/outbound.hpp; queueing is store/outbox.hpp.
//
// Contract: writes happen inside the caller's transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "matching/outbound.hpp"
#include "store/store.hpp"

namespace casemail::store {

// A case as the outbound rules see it, with the rows it was read from.
struct CaseContext {
    CaseRecord record;
    std::optional<Contact> customer;
    std::optional<Queue> queue;
    // The rules' view: the customer as a recipient only when matching::usable_recipient allows,
    // the queue's mailbox and display name, the citizen's last inbound email for threading.
    matching::OutboundCase outbound;
};
// Refused when there is no such case.
CaseContext case_context(Store& store, Id case_id);

// A stored email's Message-ID and References, to thread a message under it ("" and none when
// the email has no Message-ID or does not exist).
struct ThreadIds {
    std::string message_id;
    std::vector<std::string> references;
};
ThreadIds thread_ids(Store& store, Id email_id);

// Records `message` (rewritten or composed by the matching rules) on its case as an outbound
// email: status queued, parties the queue (from) and the customer (to), history linked to the
// customer. `body_text` is what agents read on the case. Returns the email's id.
Id record_outbound_email(Store& store, const CaseContext& ctx, const matching::Rewritten& message,
                         const std::string& body_text, const matching::Evidence& evidence = {});

// A fresh, unguessable Message-ID in `domain`, without angle brackets.
std::string new_message_id(const std::string& domain);

}  // namespace casemail::store
