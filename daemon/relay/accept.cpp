#include "daemon/relay/accept.hpp"

#include <fmt/format.h>

#include "matching/ingest.hpp"
#include "mime/compose.hpp"
#include "mime/printable.hpp"
#include "store/ingest.hpp"
#include "store/outbound.hpp"
#include "store/outbox.hpp"
#include "store/sla.hpp"

namespace casemail::relay {
namespace {

RelayVerdict rejected(int code, std::string text) {
    RelayVerdict v;
    v.code = code;
    v.text = std::move(text);
    v.action = matching::ReplyDecision::reject;
    return v;
}

// No case, pass_through on: the message goes out as the agent wrote it.
RelayVerdict pass_through(store::Store& store, std::string_view raw, const mime::ParsedMessage& parsed,
                          const std::string& envelope_from, const std::vector<std::string>& envelope_to) {
    store::NewOutboxEntry e;
    e.kind = matching::OutboxKind::pass_through;
    e.to_address = envelope_to.empty() ? std::string() : envelope_to.front();
    e.envelope_from = envelope_from;
    e.envelope_to = envelope_to;
    if (!parsed.message_id.empty()) e.message_id = parsed.message_id;
    e.raw = mime::normalize_crlf(raw);
    RelayVerdict v;
    v.outbox_id = store::enqueue_outbox(store, e);
    v.action = matching::ReplyDecision::pass_through;
    v.text = fmt::format("2.0.0 queued as {} unchanged (no case; pass_through is on)", *v.outbox_id);
    return v;
}

// Refused, on_refused = "hold": kept as the agent wrote it, rewritten if a person releases it.
RelayVerdict hold(store::Store& store, std::string_view raw, const store::CaseContext& ctx, const std::string& why,
                  const std::string& envelope_from, const std::vector<std::string>& envelope_to) {
    store::NewOutboxEntry e;
    e.kind = matching::OutboxKind::reply;
    e.case_id = ctx.record.id;
    e.to_address = ctx.customer ? ctx.customer->email : std::string();
    e.envelope_from = envelope_from;
    e.envelope_to = envelope_to;
    e.status = matching::OutboxStatus::held;
    e.hold_reason = why;
    e.raw = mime::normalize_crlf(raw);
    RelayVerdict v;
    v.outbox_id = store::enqueue_outbox(store, e);
    store.record_event("relay", "reply-held", ctx.record.id, std::nullopt, std::nullopt, why);
    v.action = matching::ReplyDecision::hold;
    v.text = fmt::format("2.0.0 held as {} for review: {}", *v.outbox_id, why);
    return v;
}

// The reply rewritten for the case's customer, recorded on the case and queued.
RelayVerdict queue(store::Store& store, std::string_view raw, const mime::ParsedMessage& parsed,
                   const store::CaseContext& ctx, const matching::Evidence& evidence,
                   const std::vector<std::string>& envelope_to, const matching::OutboundPolicy& policy) {
    auto message_id = store::new_message_id(policy.message_id_domain);
    auto r = matching::rewrite_reply(raw, parsed, envelope_to, ctx.outbound, policy, message_id, store.now());
    store::NewOutboxEntry e;
    e.kind = matching::OutboxKind::reply;
    e.case_id = ctx.record.id;
    e.email_id = store::record_outbound_email(store, ctx, r, parsed.text, evidence);
    e.to_address = ctx.outbound.customer->address;
    e.envelope_from = r.envelope_from;
    e.envelope_to = r.envelope_to;
    e.message_id = message_id;
    e.raw_is_email = true;  // the recorded email holds the rewritten message: stored once
    RelayVerdict v;
    v.outbox_id = store::enqueue_outbox(store, e);
    v.dropped = r.dropped;
    v.action = matching::ReplyDecision::queue;
    v.case_token = ctx.record.token;
    v.text = fmt::format("2.0.0 queued as {} for case {}", *v.outbox_id, ctx.record.token);
    return v;
}

// The case an agent's reply belongs to (token, X-311-Case, reply chain), and why it may not
// be written to ("" when it may).
struct ReplyCase {
    std::optional<store::CaseContext> ctx;
    std::string refusal;
    matching::Evidence evidence;
};

ReplyCase find_reply_case(store::Store& store, const mime::ParsedMessage& parsed, const matching::OutboundPolicy& policy) {
    auto lookups = store::make_lookups(store.db());
    std::vector<std::string> defects;
    auto found = matching::correlate(parsed, policy.token_prefix, *lookups, defects);
    ReplyCase r;
    if (!found.found) return r;
    r.ctx = store::case_context(store, found.found->id);
    r.evidence = found.evidence;
    r.refusal = matching::refusal_reason(r.ctx->outbound, policy);
    return r;
}

std::string no_case_text(const matching::OutboundPolicy& policy) {
    return fmt::format("5.7.1 no case found for this message: keep the case token (like [{}-000042-K7QX]) "
                       "in the subject, or reply to an email of the case",
                       policy.token_prefix);
}

}  // namespace

PreparedReply prepare_reply(std::string raw, const mime::Limits& limits) {
    PreparedReply r;
    auto parsed = mime::parse_message(raw, limits);
    if (parsed) r.parsed = std::move(*parsed);
    else r.parse_error = parsed.error();
    r.raw = std::move(raw);
    return r;
}

RelayVerdict accept_reply(store::Store& store, std::string_view raw, const std::string& envelope_from,
                          const std::vector<std::string>& envelope_to, const AcceptSettings& settings) {
    return accept_reply(store, prepare_reply(std::string(raw), settings.limits), envelope_from, envelope_to, settings);
}

RelayVerdict accept_reply(store::Store& store, const PreparedReply& reply, const std::string& envelope_from,
                          const std::vector<std::string>& envelope_to, const AcceptSettings& settings) {
    if (!reply.parsed) return rejected(554, "5.6.0 message cannot be parsed: " + mime::printable(reply.parse_error, 200));
    const auto& raw = reply.raw;
    const auto* parsed = &*reply.parsed;
    auto [ctx, refusal, evidence] = find_reply_case(store, *parsed, settings.policy);
    RelayVerdict v;
    switch (matching::decide_reply(ctx.has_value(), refusal, settings.policy)) {
        case matching::ReplyDecision::pass_through: return pass_through(store, raw, *parsed, envelope_from, envelope_to);
        case matching::ReplyDecision::reject:
            v = ctx ? rejected(550, "5.7.1 " + refusal) : rejected(550, no_case_text(settings.policy));
            break;
        case matching::ReplyDecision::hold: v = hold(store, raw, *ctx, refusal, envelope_from, envelope_to); break;
        case matching::ReplyDecision::queue: {
            v = queue(store, raw, *parsed, *ctx, evidence, envelope_to, settings.policy);
            // The initial acknowledgement of the guide: the first agent reply stops the SLA clock.
            store::record_first_response(store, ctx->record.id, envelope_from.empty() ? "relay" : envelope_from,
                                         fmt::format("agent's reply through the relay (outbox {})", *v.outbox_id));
            return v;
        }
    }
    if (ctx) v.case_token = ctx->record.token;
    return v;
}

Result<RewritePreview> preview_rewrite(store::Store& store, std::string_view raw,
                                       const std::vector<std::string>& envelope_to, const AcceptSettings& settings) {
    auto parsed = mime::parse_message(raw, settings.limits);
    if (!parsed) return fail("message cannot be parsed: " + parsed.error());
    auto [ctx, refusal, evidence] = find_reply_case(store, *parsed, settings.policy);
    if (!ctx) return fail("no case found for this message (no known token, X-311-Case or reply chain)");
    if (!refusal.empty()) return fail(refusal);
    RewritePreview p;
    p.case_token = ctx->record.token;
    p.rewritten = matching::rewrite_reply(raw, *parsed, envelope_to, ctx->outbound, settings.policy,
                                          store::new_message_id(settings.policy.message_id_domain), store.now());
    return p;
}

}  // namespace casemail::relay
