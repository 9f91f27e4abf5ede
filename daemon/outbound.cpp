#include "daemon/outbound.hpp"

#include <fmt/format.h>

#include "matching/subject.hpp"
#include "mime/address.hpp"
#include "mime/compose.hpp"
#include "mime/printable.hpp"
#include "mime/strings.hpp"
#include "store/ingest.hpp"
#include "store/random.hpp"

namespace casemail::daemon {
namespace {

struct CaseContext {
    store::CaseRecord record;
    std::optional<store::Contact> customer;
    std::optional<store::Queue> queue;
    matching::OutboundCase outbound;
};

// Everything the outbound rules need about a case, from the store.
CaseContext load_case(store::Store& store, store::Id case_id) {
    CaseContext ctx;
    ctx.record = *store.find_case(case_id);
    ctx.customer = store.find_contact(ctx.record.customer_contact_id);
    if (ctx.record.queue_id)
        for (auto& q : store.list_queues())
            if (q.id == *ctx.record.queue_id) ctx.queue = q;
    auto& oc = ctx.outbound;
    oc.ref = {ctx.record.id, ctx.record.token, ctx.record.status, std::nullopt, ctx.record.customer_contact_id};
    oc.anonymous = ctx.record.anonymous;
    oc.wants_updates = ctx.record.wants_updates;
    oc.confidential = ctx.record.confidential;
    if (ctx.customer && mime::valid_addr_spec(mime::normalize_address(ctx.customer->email)) &&
        !matching::is_no_reply_address(ctx.customer->email_norm))
        oc.customer = matching::Recipient{ctx.customer->name, ctx.customer->email};
    if (ctx.queue) {
        oc.queue_mailbox = ctx.queue->mailbox;
        oc.queue_display_name = ctx.queue->display_name.value_or(ctx.queue->name);
    }
    auto st = store.db().cached(
        "SELECT message_id, coalesce(refs, '') FROM email WHERE case_id = ?1 AND direction = 'in' "
        "AND message_id IS NOT NULL ORDER BY id DESC LIMIT 1");
    st->bind(1, case_id);
    if (st->step()) {
        oc.last_inbound_message_id = st->text(0);
        oc.last_inbound_references = mime::parse_message_ids(st->text(1));
    }
    return ctx;
}

std::string refusal(const CaseContext& ctx, const OutboundSettings& settings) {
    if (!ctx.queue) return fmt::format("case {} has no queue, so no mailbox to write from", ctx.record.token);
    return matching::refusal_reason(ctx.outbound, settings.policy);
}

// The outbound email on its case: parties resolved to the queue and the customer, history
// linked to the customer.
store::Id record_outbound_email(store::Store& store, const CaseContext& ctx, const std::string& message_id,
                                const std::string& subject, const std::string& body_text, const std::string& raw,
                                const std::vector<std::string>& references) {
    store::NewEmail e;
    e.case_id = ctx.record.id;
    e.direction = "out";
    e.message_id = message_id;
    if (!ctx.outbound.last_inbound_message_id.empty()) e.in_reply_to = {ctx.outbound.last_inbound_message_id};
    e.references = references;
    e.subject = subject;
    e.body_text = body_text;
    e.raw = raw;
    e.mailbox = ctx.queue->mailbox;
    e.status = "queued";
    auto email_id = store.insert_email(e);
    store::Party from;
    from.role = "from";
    from.name = ctx.outbound.queue_display_name;
    from.address = ctx.queue->mailbox;
    from.queue_id = ctx.queue->id;
    from.resolved = true;
    store.add_party(email_id, from);
    store::Party to;
    to.role = "to";
    to.name = ctx.customer->name;
    to.address = ctx.outbound.customer->address;
    to.contact_id = ctx.customer->id;
    to.resolved = true;
    to.candidate_count = 1;
    store.add_party(email_id, to);
    store.link_email_contact(email_id, ctx.customer->id);
    return email_id;
}

struct Queued {
    matching::Rewritten rewritten;
    std::string message_id;
    store::Id email_id = 0;
};

// Rewrites an agent's reply for the case and records it on the case (direction out).
Queued rewrite_and_record(store::Store& store, const CaseContext& ctx, std::string_view raw,
                          const mime::ParsedMessage& parsed, const std::vector<std::string>& envelope_to,
                          const OutboundSettings& settings) {
    Queued q;
    q.message_id = new_message_id(settings.message_id_domain);
    q.rewritten = matching::rewrite_reply(raw, parsed, envelope_to, ctx.outbound, settings.policy, q.message_id, store.now());
    q.email_id = record_outbound_email(store, ctx, q.message_id, q.rewritten.subject, parsed.text, q.rewritten.raw,
                                       q.rewritten.reference_ids);
    return q;
}

}  // namespace

std::string new_message_id(const std::string& domain) {
    return fmt::format("{}.{}@{}", store::format_time(std::chrono::system_clock::now()).substr(0, 10), store::random_hex(12),
                       domain);
}

RelayVerdict accept_reply(store::Store& store, std::string_view raw, const std::string& envelope_from,
                          const std::vector<std::string>& envelope_to, const OutboundSettings& settings) {
    RelayVerdict v;
    auto parsed = mime::parse_message(raw, settings.limits);
    if (!parsed) {
        v.code = 554;
        v.text = "5.6.0 message cannot be parsed: " + mime::printable(parsed.error(), 200);
        v.action = "rejected";
        return v;
    }
    auto lookups = store::make_lookups(store.db());
    std::vector<std::string> defects;
    auto found = matching::correlate(*parsed, settings.policy.token_prefix, *lookups, defects);
    if (!found.found) {
        if (!settings.pass_through) {
            v.code = 550;
            v.text = fmt::format("5.7.1 no case found for this message: keep the case token (like [{}-000042-K7QX]) "
                                 "in the subject, or reply to an email of the case",
                                 settings.policy.token_prefix);
            v.action = "rejected";
            return v;
        }
        store::NewOutboxEntry e;
        e.kind = "pass_through";
        e.to_address = envelope_to.empty() ? std::string() : envelope_to.front();
        e.envelope_from = envelope_from;
        e.envelope_to = envelope_to;
        if (!parsed->message_id.empty()) e.message_id = parsed->message_id;
        e.raw = mime::normalize_crlf(raw);
        v.outbox_id = store::enqueue_outbox(store, e);
        v.action = "passed";
        v.text = fmt::format("2.0.0 queued as {} unchanged (no case; pass_through is on)", *v.outbox_id);
        return v;
    }
    auto ctx = load_case(store, found.found->id);
    v.case_token = ctx.record.token;
    if (auto why = refusal(ctx, settings); !why.empty()) {
        if (!settings.hold_refused) {
            v.code = 550;
            v.text = "5.7.1 " + why;
            v.action = "rejected";
            return v;
        }
        store::NewOutboxEntry e;
        e.kind = "reply";
        e.case_id = ctx.record.id;
        e.to_address = ctx.customer ? ctx.customer->email : std::string();
        e.envelope_from = envelope_from;
        e.envelope_to = envelope_to;
        e.status = "held";
        e.hold_reason = why;
        e.raw = mime::normalize_crlf(raw);  // as the agent wrote it: rewritten if released
        v.outbox_id = store::enqueue_outbox(store, e);
        store.record_event("relay", "reply-held", ctx.record.id, std::nullopt, std::nullopt, why);
        v.action = "held";
        v.text = fmt::format("2.0.0 held as {} for review: {}", *v.outbox_id, why);
        return v;
    }
    auto queued = rewrite_and_record(store, ctx, raw, *parsed, envelope_to, settings);
    store::NewOutboxEntry e;
    e.kind = "reply";
    e.case_id = ctx.record.id;
    e.email_id = queued.email_id;
    e.to_address = ctx.outbound.customer->address;
    e.envelope_from = queued.rewritten.envelope_from;
    e.envelope_to = queued.rewritten.envelope_to;
    e.message_id = queued.message_id;
    e.raw = queued.rewritten.raw;
    v.outbox_id = store::enqueue_outbox(store, e);
    const auto& r = queued.rewritten;
    v.dropped = r.dropped;
    v.action = "queued";
    v.text = fmt::format("2.0.0 queued as {} for case {}", *v.outbox_id, ctx.record.token);
    return v;
}

Result<RewritePreview> preview_rewrite(store::Store& store, std::string_view raw,
                                       const std::vector<std::string>& envelope_to, const OutboundSettings& settings) {
    auto parsed = mime::parse_message(raw, settings.limits);
    if (!parsed) return fail("message cannot be parsed: " + parsed.error());
    auto lookups = store::make_lookups(store.db());
    std::vector<std::string> defects;
    auto found = matching::correlate(*parsed, settings.policy.token_prefix, *lookups, defects);
    if (!found.found) return fail("no case found for this message (no known token, X-311-Case or reply chain)");
    auto ctx = load_case(store, found.found->id);
    if (auto why = refusal(ctx, settings); !why.empty()) return fail(why);
    std::vector<std::string> rcpts = envelope_to;
    RewritePreview p;
    p.case_token = ctx.record.token;
    p.rewritten = matching::rewrite_reply(raw, *parsed, rcpts, ctx.outbound, settings.policy,
                                          new_message_id(settings.message_id_domain), store.now());
    return p;
}

Result<bool> prepare_released_reply(store::Store& store, const store::OutboxEntry& entry, const OutboundSettings& settings) {
    if (!entry.case_id) return fail("held reply without a case");
    auto raw = store::outbox_raw(store, entry.id);
    auto parsed = mime::parse_message(raw, settings.limits);
    if (!parsed) return fail("message cannot be parsed: " + parsed.error());
    auto ctx = load_case(store, *entry.case_id);
    // Released by a person after review: a confidential hold no longer applies; a case that
    // cannot be written to (anonymous, no address, no updates wanted) still cannot.
    OutboundSettings released = settings;
    released.policy.hold_confidential = false;
    if (auto why = refusal(ctx, released); !why.empty()) return fail("not sent: " + why);
    auto queued = rewrite_and_record(store, ctx, raw, *parsed, entry.envelope_to, released);
    store::set_outbox_rendered(store, entry.id, queued.rewritten.raw, queued.rewritten.envelope_from,
                               queued.rewritten.envelope_to, queued.message_id, queued.email_id);
    store.record_event("casemaild", "reply-released", ctx.record.id, ctx.customer->id, queued.email_id,
                       "held reply rewritten for the customer");
    return true;
}

namespace {

templates::Values values_of(const CaseContext& ctx) {
    const auto& c = ctx.record;
    return {{"case.token", c.token},
            {"case.title", c.title},
            {"case.status", c.status},
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
    return values_of(load_case(store, store.require_case(token).id));
}

Result<templates::EmailTemplate> load_named_template(const OutboundSettings& settings, const std::string& name) {
    if (settings.templates_dir.empty()) return templates::builtin_template(name);
    return templates::load_template(settings.templates_dir, name);
}

Result<bool> render_acknowledgement(store::Store& store, const store::OutboxEntry& entry, const OutboundSettings& settings) {
    if (!entry.case_id) return fail("acknowledgement without a case");
    auto ctx = load_case(store, *entry.case_id);
    if (auto why = refusal(ctx, settings); !why.empty()) return fail("not sent: " + why);
    auto tmpl = load_named_template(settings, "acknowledgement");
    if (!tmpl) return fail(tmpl.error());
    auto rendered = templates::render(*tmpl, values_of(ctx));

    // The citizen's email this acknowledges: thread under it.
    std::string parent_id;
    std::vector<std::string> parent_refs;
    if (entry.reply_to_email_id) {
        auto st = store.db().cached("SELECT coalesce(message_id, ''), coalesce(refs, '') FROM email WHERE id = ?1");
        st->bind(1, *entry.reply_to_email_id);
        if (st->step()) {
            parent_id = st->text(0);
            parent_refs = mime::parse_message_ids(st->text(1));
        }
    }
    auto message_id = new_message_id(settings.message_id_domain);
    auto subject = matching::subject_with_token(rendered.subject, ctx.record.token, settings.policy.token_prefix);
    std::vector<std::string> refs;
    if (!parent_id.empty()) refs = matching::thread_references(parent_refs, parent_id);
    std::string to_name = ctx.customer ? ctx.customer->name : std::string();

    std::string head;
    head += mime::header_field("Date", mime::format_date(store.now()));
    head += mime::header_field("From", mime::format_mailbox(ctx.outbound.queue_display_name, ctx.queue->mailbox));
    head += mime::header_field("Reply-To", mime::format_mailbox(ctx.outbound.queue_display_name, ctx.queue->mailbox));
    head += mime::header_field("To", mime::format_mailbox(to_name, entry.to_address));
    head += mime::header_field("Subject", mime::encode_header_text(subject));
    head += mime::header_field("Message-ID", "<" + message_id + ">");
    if (!parent_id.empty()) {
        head += mime::header_field("In-Reply-To", "<" + parent_id + ">");
        head += mime::header_field("References", mime::format_message_ids(refs));
    }
    head += mime::header_field("X-311-Case", ctx.record.token);
    head += "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n";
    std::string text_part = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                            mime::base64_lines(mime::normalize_crlf(rendered.text));
    std::string body;
    if (rendered.html) {
        std::string boundary = "=_casemail_" + message_id.substr(0, message_id.find('@'));
        head += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
        body = "--" + boundary + "\r\n" + text_part + "--" + boundary + "\r\n" +
               "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
               mime::base64_lines(mime::normalize_crlf(*rendered.html)) + "--" + boundary + "--\r\n";
    } else {
        body = text_part.substr(text_part.find("\r\n\r\n") + 4);
        head += text_part.substr(0, text_part.find("\r\n\r\n") + 2);
    }
    std::string raw = head + "\r\n" + body;
    auto email_id = record_outbound_email(store, ctx, message_id, subject, rendered.text, raw, refs);
    store::set_outbox_rendered(store, entry.id, raw, ctx.queue->mailbox, {entry.to_address}, message_id, email_id);
    return true;
}

}  // namespace casemail::daemon
