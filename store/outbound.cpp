#include "store/outbound.hpp"

#include <fmt/format.h>

#include "mime/strings.hpp"
#include "store/random.hpp"

namespace casemail::store {
namespace {

std::string bare_id(const std::string& bracketed) {
    if (bracketed.size() >= 2 && bracketed.front() == '<' && bracketed.back() == '>')
        return bracketed.substr(1, bracketed.size() - 2);
    return bracketed;
}

}  // namespace

CaseContext case_context(Store& store, Id case_id) {
    CaseContext ctx;
    auto record = store.find_case(case_id);
    if (!record) throw Refused(fmt::format("no case with id {}", case_id));
    ctx.record = std::move(*record);
    ctx.customer = store.find_contact(ctx.record.customer_contact_id);
    if (ctx.record.queue_id) ctx.queue = store.find_queue_by_id(*ctx.record.queue_id);
    auto& oc = ctx.outbound;
    oc.ref = {ctx.record.id, ctx.record.token, ctx.record.status, std::nullopt, ctx.record.customer_contact_id, std::nullopt};
    oc.anonymous = ctx.record.anonymous;
    oc.wants_updates = ctx.record.wants_updates;
    oc.confidential = ctx.record.confidential;
    if (ctx.customer) oc.customer = matching::usable_recipient(ctx.customer->name, ctx.customer->email);
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
        oc.last_inbound_references = mime::split(st->text(1), ' ');  // as insert_email joined them
    }
    return ctx;
}

ThreadIds thread_ids(Store& store, Id email_id) {
    auto st = store.db().cached("SELECT coalesce(message_id, ''), coalesce(refs, '') FROM email WHERE id = ?1");
    st->bind(1, email_id);
    if (!st->step()) return {};
    return {st->text(0), mime::split(st->text(1), ' ')};
}

Id record_outbound_email(Store& store, const CaseContext& ctx, const matching::Rewritten& message,
                         const std::string& body_text, const matching::Evidence& evidence) {
    if (!ctx.queue || !ctx.customer || !ctx.outbound.customer)
        throw std::logic_error("record_outbound_email: the case was not checked with refusal_reason()");
    NewEmail e;
    e.case_id = ctx.record.id;
    e.direction = matching::Direction::out;
    e.message_id = bare_id(message.message_id);
    if (!ctx.outbound.last_inbound_message_id.empty()) e.in_reply_to = {ctx.outbound.last_inbound_message_id};
    e.references = message.reference_ids;
    e.subject = message.subject;
    e.body_text = body_text;
    e.raw = message.raw;
    e.mailbox = ctx.queue->mailbox;
    e.status = matching::EmailStatus::queued;
    e.evidence = evidence;
    auto email_id = store.insert_email(e);
    Party from;
    from.role = "from";
    from.name = ctx.outbound.queue_display_name;
    from.address = ctx.queue->mailbox;
    from.queue_id = ctx.queue->id;
    from.resolved = true;
    store.add_party(email_id, from);
    Party to;
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

std::string new_message_id(const std::string& domain) {
    return fmt::format("{}.{}@{}", format_time(std::chrono::system_clock::now()).substr(0, 10), random_hex(12), domain);
}

}  // namespace casemail::store
