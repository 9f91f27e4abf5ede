// What the outbox worker makes ready before delivery: acknowledgements rendered from their
// template and composed for the case's customer (matching::compose_acknowledgement), and held
// replies a person released, rewritten now (matching::rewrite_reply). Both are recorded on
// their case. Also the templates' values for a case, which `casemail template render` shows.
//
// Contract: writes happen inside the caller's transaction. A case that may no longer be
// written to fails the entry with the reason (never an exception for it).
#pragma once

#include <string>

#include "matching/outbound.hpp"
#include "mime/message.hpp"
#include "store/outbox.hpp"
#include "store/store.hpp"
#include "templates/template.hpp"

namespace casemail::outbox {

struct RenderSettings {
    matching::OutboundPolicy policy;
    mime::Limits limits;        // for parsing a released reply
    std::string templates_dir;  // "" = the templates shipped with casemail
};

// Renders a pending acknowledgement: message, envelope, and the email recorded on its case.
Result<bool> render_acknowledgement(store::Store& store, const store::OutboxEntry& entry, const RenderSettings& settings);

// A held reply released by `casemail outbox retry`: rewritten for the customer and recorded on
// its case now (a confidential hold no longer applies; other refusals still do).
Result<bool> prepare_released_reply(store::Store& store, const store::OutboxEntry& entry, const RenderSettings& settings);

// Placeholder values for a case (templates/template.hpp). Refused when the case is unknown.
templates::Values case_values(store::Store& store, const std::string& token);

// Loads `name` from settings.templates_dir, or the shipped one when no directory is set.
Result<templates::EmailTemplate> load_named_template(const RenderSettings& settings, const std::string& name);

}  // namespace casemail::outbox
