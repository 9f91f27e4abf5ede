// The relay's accept path: what happens to one agent's reply the SMTP server received. Finds
// the case (matching::correlate), lets the outbound rules decide (matching::decide_reply), and
// records the outcome: the reply rewritten for the case's customer and queued, held for a
// person, relayed unchanged, or refused with the SMTP reply that says why.
//
// Contract: accept_reply() writes inside the caller's transaction; the server answers 250 only
// after the caller committed. No sockets here, so the admin CLI's rewrite preview uses it too.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "matching/outbound.hpp"
#include "mime/message.hpp"
#include "store/store.hpp"

namespace casemail::relay {

struct AcceptSettings {
    matching::OutboundPolicy policy;
    mime::Limits limits;  // for parsing the agent's message
};

// The relay's answer to one message.
struct RelayVerdict {
    int code = 250;
    std::string text;    // after the code, e.g. "2.0.0 queued as 12 for case 311-000042-K7QX"
    matching::ReplyDecision action = matching::ReplyDecision::queue;
    std::optional<store::Id> outbox_id;
    std::string case_token;
    std::vector<std::string> dropped;
};

// An agent's message made ready: parsed, or why it cannot be. Pure CPU work, done before the
// message goes to the store's writer.
struct PreparedReply {
    std::string raw;
    std::optional<mime::ParsedMessage> parsed;
    std::string parse_error;
};
PreparedReply prepare_reply(std::string raw, const mime::Limits& limits);

RelayVerdict accept_reply(store::Store& store, const PreparedReply& reply, const std::string& envelope_from,
                          const std::vector<std::string>& envelope_to, const AcceptSettings& settings);
// prepare_reply() then accept_reply(), for callers that hold no writer (tests, tools).
RelayVerdict accept_reply(store::Store& store, std::string_view raw, const std::string& envelope_from,
                          const std::vector<std::string>& envelope_to, const AcceptSettings& settings);

// What accept_reply() would send, without writing anything (casemail outbound rewrite).
struct RewritePreview {
    std::string case_token;
    matching::Rewritten rewritten;
};
Result<RewritePreview> preview_rewrite(store::Store& store, std::string_view raw,
                                       const std::vector<std::string>& envelope_to, const AcceptSettings& settings);

}  // namespace casemail::relay
