#include "daemon/outbox/acknowledgement.hpp"

#include "store/outbound.hpp"

namespace casemail::outbox {
namespace {

templates::Values values_of(const store::CaseContext& ctx) {
    const auto& c = ctx.record;
    return {{"case.token", c.token},
            {"case.title", c.title},
            {"case.status", std::string(matching::name(c.status))},
            {"case.priority", c.priority},
            {"case.created_at", c.created_at},
            {"customer.name", ctx.customer ? ctx.customer->name : std::string()},
            {"customer.email", ctx.customer ? ctx.customer->email : std::string()},
            {"queue.name", ctx.queue ? ctx.queue->name : std::string()},
            {"queue.display_name", ctx.outbound.queue_display_name},
            {"queue.mailbox", ctx.outbound.queue_mailbox}};
}

}  // namespace

templates::Values case_values(store::Store& store, const std::string& token) {
    return values_of(store::case_context(store, store.require_case(token).id));
}

Result<templates::EmailTemplate> load_named_template(const RenderSettings& settings, const std::string& name) {
    if (settings.templates_dir.empty()) return templates::builtin_template(name);
    return templates::load_template(settings.templates_dir, name);
}

Result<bool> render_acknowledgement(store::Store& store, const store::OutboxEntry& entry, const RenderSettings& settings) {
    if (!entry.case_id) return fail("acknowledgement without a case");
    auto ctx = store::case_context(store, *entry.case_id);
    if (auto why = matching::refusal_reason(ctx.outbound, settings.policy); !why.empty()) return fail("not sent: " + why);
    auto tmpl = load_named_template(settings, "acknowledgement");
    if (!tmpl) return fail(tmpl.error());
    auto rendered = templates::render(*tmpl, values_of(ctx));
    // The citizen's email this acknowledges: thread under it.
    auto parent = entry.reply_to_email_id ? store::thread_ids(store, *entry.reply_to_email_id) : store::ThreadIds{};
    auto message_id = store::new_message_id(settings.policy.message_id_domain);
    auto ack = matching::compose_acknowledgement(ctx.outbound, {rendered.subject, rendered.text, rendered.html},
                                                 entry.to_address, parent.message_id, parent.references,
                                                 settings.policy, message_id, store.now());
    auto email_id = store::record_outbound_email(store, ctx, ack, rendered.text);
    store::set_outbox_rendered(store, entry.id, ack.envelope_from, ack.envelope_to, message_id, email_id);
    return true;
}

Result<bool> prepare_released_reply(store::Store& store, const store::OutboxEntry& entry, const RenderSettings& settings) {
    if (!entry.case_id) return fail("held reply without a case");
    auto raw = store::outbox_raw(store, entry.id);
    auto parsed = mime::parse_message(raw, settings.limits);
    if (!parsed) return fail("message cannot be parsed: " + parsed.error());
    auto ctx = store::case_context(store, *entry.case_id);
    // Released by a person after review: a confidential hold no longer applies; a case that
    // cannot be written to (anonymous, no address, no updates wanted) still cannot.
    auto policy = settings.policy;
    policy.hold_confidential = false;
    if (auto why = matching::refusal_reason(ctx.outbound, policy); !why.empty()) return fail("not sent: " + why);
    auto message_id = store::new_message_id(policy.message_id_domain);
    auto r = matching::rewrite_reply(raw, *parsed, entry.envelope_to, ctx.outbound, policy, message_id, store.now());
    auto email_id = store::record_outbound_email(store, ctx, r, parsed->text);
    store::set_outbox_rendered(store, entry.id, r.envelope_from, r.envelope_to, message_id, email_id);
    store.record_event("casemaild", "reply-released", ctx.record.id, ctx.customer->id, email_id,
                       "held reply rewritten for the customer");
    return true;
}

}  // namespace casemail::outbox
