// Outbound mail on the store: agents' replies accepted by the relay, acknowledgements rendered
// from templates, both recorded on their case and queued in the durable outbox.
//
// Contract: accept_reply() and render_acknowledgement() write inside the caller's transaction;
// the relay answers 250 only after the caller committed. Nothing here touches the network.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "matching/outbound.hpp"
#include "mime/message.hpp"
#include "store/outbox.hpp"
#include "store/store.hpp"
#include "templates/template.hpp"

namespace casemail::daemon {

struct OutboundSettings {
    matching::OutboundPolicy policy;
    std::string message_id_domain = "casemail.invalid";
    bool pass_through = false;  // mail without a case is relayed unchanged instead of refused
    bool hold_refused = false;  // a refused reply waits in the outbox (held) instead of a 550
    std::string templates_dir;  // "" = the templates shipped with casemail
    mime::Limits limits;
};

// The relay's answer to one message.
struct RelayVerdict {
    int code = 250;
    std::string text;    // after the code, e.g. "2.0.0 queued as 12 for case 311-000042-K7QX"
    std::string action;  // queued | held | passed | rejected
    std::optional<store::Id> outbox_id;
    std::string case_token;
    std::vector<std::string> dropped;
};

RelayVerdict accept_reply(store::Store& store, std::string_view raw, const std::string& envelope_from,
                          const std::vector<std::string>& envelope_to, const OutboundSettings& settings);

// What accept_reply() would send, without writing anything (casemail outbound rewrite).
struct RewritePreview {
    std::string case_token;
    matching::Rewritten rewritten;
};
Result<RewritePreview> preview_rewrite(store::Store& store, std::string_view raw,
                                       const std::vector<std::string>& envelope_to, const OutboundSettings& settings);

// Renders a pending acknowledgement: message, envelope, and the email recorded on its case.
// A case that may no longer be written to fails the entry with the reason.
Result<bool> render_acknowledgement(store::Store& store, const store::OutboxEntry& entry, const OutboundSettings& settings);

// A held reply released by `casemail outbox retry`: rewritten for the customer and recorded on
// its case now (a confidential hold no longer applies; other refusals still do).
Result<bool> prepare_released_reply(store::Store& store, const store::OutboxEntry& entry, const OutboundSettings& settings);

// Placeholder values for a case (templates/template.hpp). Refused when the case is unknown.
templates::Values case_values(store::Store& store, const std::string& token);

// Loads `name` from settings.templates_dir, or the shipped one when no directory is set.
Result<templates::EmailTemplate> load_named_template(const OutboundSettings& settings, const std::string& name);

// A fresh, unguessable Message-ID in `domain`, without angle brackets.
std::string new_message_id(const std::string& domain);

}  // namespace casemail::daemon
