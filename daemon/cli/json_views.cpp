#include "daemon/cli/json_views.hpp"

#include "daemon/cli/context.hpp"
#include "daemon/cli/workorder.hpp"
#include "store/kb.hpp"

namespace casemail::cli {
namespace {

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json contact_json(const store::Contact& c) {
    return {{"id", c.id},
            {"name", c.name},
            {"email", c.email},
            {"phone", opt(c.phone)},
            {"is_guest", c.is_guest},
            {"is_registered", c.is_registered},
            {"archived", c.archived_at.has_value()},
            {"merged_into", opt(c.merged_into)},
            {"created_at", c.created_at}};
}

nlohmann::json queue_json(const store::Queue& q) {
    return {{"id", q.id}, {"name", q.name}, {"mailbox", q.mailbox},
            {"display_name", opt(q.display_name)}};
}

nlohmann::json case_summary_json(const store::CaseRecord& c) {
    return {{"token", c.token},           {"title", c.title},
            {"status", matching::name(c.status)}, {"queue", opt(c.queue_name)},
            {"customer_id", c.customer_contact_id}, {"created_at", c.created_at},
            {"email_count", c.email_count.value_or(0)}, {"needs_review", c.needs_review}};
}

std::string_view content_name(store::AttachmentContent c) {
    switch (c) {
        case store::AttachmentContent::reference: return "reference";
        case store::AttachmentContent::blob: return "blob";
        case store::AttachmentContent::blocked: return "blocked";
    }
    return "?";
}

nlohmann::json stored_attachment_json(const store::StoredAttachment& a) {
    return {{"index", a.index}, {"filename", a.filename}, {"content_type", a.content_type},
            {"size", a.size},   {"sha256", a.sha256},     {"content", content_name(a.content)}};
}

nlohmann::json case_detail_json(const store::CaseRecord& c, const std::vector<store::EmailRecord>& emails,
                                const EmailAttachments& attachments, const std::vector<store::Event>& events) {
    nlohmann::json j = {
        {"token", c.token},
        {"title", c.title},
        {"description", c.description},
        {"status", matching::name(c.status)},
        {"origin", c.origin},
        {"priority", c.priority},
        {"customer_id", c.customer_contact_id},
        {"property_account_id", opt(c.property_account_id)},
        {"business_account_id", opt(c.business_account_id)},
        {"queue", opt(c.queue_name)},
        {"request_type", opt(c.request_type)},
        {"category", opt(c.category)},
        {"owner", opt(c.owner)},
        {"anonymous", c.anonymous},
        {"wants_updates", c.wants_updates},
        {"confidential", c.confidential},
        {"needs_review", c.needs_review},
        {"parent_case_id", opt(c.parent_case_id)},
        {"acknowledged_at", opt(c.acknowledged_at)},
        {"resolved_at", opt(c.resolved_at)},
        {"resolution", opt(c.resolution)},
        {"resolution_type", opt(c.resolution_type)},
        {"time_spent_minutes", opt(c.time_spent_minutes)},
        {"route", opt(c.route_rule)},
        {"created_at", c.created_at},
        {"updated_at", c.updated_at},
    };
    auto& ej = j["emails"] = nlohmann::json::array();
    for (const auto& e : emails) {
        nlohmann::json parties = nlohmann::json::array();
        for (const auto& p : e.parties)
            parties.push_back({{"id", p.id},
                               {"role", p.role},
                               {"address", p.address},
                               {"name", p.name},
                               {"contact_id", opt(p.contact_id)},
                               {"queue_id", opt(p.queue_id)},
                               {"resolved", p.resolved},
                               {"candidate_count", p.candidate_count}});
        nlohmann::json files = nlohmann::json::array();
        if (auto it = attachments.find(e.id); it != attachments.end())
            for (const auto& a : it->second) files.push_back(stored_attachment_json(a));
        ej.push_back({{"id", e.id},
                      {"direction", matching::name(e.direction)},
                      {"message_id", opt(e.message_id)},
                      {"subject", e.subject},
                      {"received_at", e.received_at},
                      {"status", matching::name(e.status)},
                      {"status_reason", e.status_reason},
                      {"correlation", {{"method", e.correlation}, {"evidence", e.correlation_detail}}},
                      {"review_reason", opt(e.review_reason)},
                      {"parties", parties},
                      {"attachments", files},
                      {"linked_contact_ids", e.linked_contact_ids}});
    }
    auto& vj = j["events"] = nlohmann::json::array();
    for (const auto& ev : events)
        vj.push_back({{"at", ev.at}, {"actor", ev.actor}, {"kind", ev.kind},
                      {"detail", ev.detail}, {"contact_id", opt(ev.contact_id)},
                      {"email_id", opt(ev.email_id)}});
    return j;
}

CaseView read_case_view(store::Store& s, const std::string& token) {
    CaseView v;
    v.record = s.require_case(token);
    v.emails = s.case_emails(v.record.id);
    v.events = s.case_events(v.record.id);
    for (const auto& e : v.emails) v.attachments[e.id] = store::email_attachments(s, e.id);
    v.notes = store::case_notes(s, v.record.id);
    return v;
}

nlohmann::json case_view_json(store::Store& s, const CaseView& v) {
    auto j = case_detail_json(v.record, v.emails, v.attachments, v.events);
    j["notes"] = notes_json(v.notes);
    j["work_order"] = work_order_json(store::work_order(s, v.record.id));
    j["articles"] = json_array(store::case_articles(s, v.record.id), [](const store::KbArticle& a) {
        return nlohmann::json{{"id", a.id}, {"title", a.title}};
    });
    return j;
}

nlohmann::json notes_json(const std::vector<store::Note>& notes) {
    auto out = nlohmann::json::array();
    for (const auto& n : notes) {
        auto files = nlohmann::json::array();
        for (const auto& f : n.files)
            files.push_back({{"index", f.index}, {"filename", f.filename}, {"size", f.size}, {"sha256", f.sha256}});
        out.push_back({{"id", n.id}, {"at", n.at}, {"author", n.author}, {"text", n.text}, {"attachments", files}});
    }
    return out;
}

nlohmann::json parsed_message_json(const mime::ParsedMessage& m) {
    auto addresses = [](const std::vector<mime::Address>& list) {
        auto arr = nlohmann::json::array();
        for (const auto& a : list) arr.push_back({{"name", a.name}, {"address", a.address}});
        return arr;
    };
    auto attachments = nlohmann::json::array();
    for (const auto& a : m.attachments) {
        nlohmann::json j = {{"filename", a.filename}, {"content_type", a.content_type},
                            {"size", a.size},         {"sha256", a.sha256},
                            {"inline", a.is_inline},  {"content_id", a.content_id},
                            {"tnef", a.tnef}};
        if (!a.nested_subject.empty() || a.content_type.starts_with("message/"))
            j["nested_subject"] = a.nested_subject;
        attachments.push_back(std::move(j));
    }
    auto flag = [](const mime::Flag& f) {
        return f.set ? nlohmann::json(f.trigger) : nlohmann::json(false);
    };
    return {{"message_id", m.message_id},
            {"subject", m.subject},
            {"date", m.date ? nlohmann::json(store::format_time(*m.date)) : nlohmann::json(nullptr)},
            {"from", addresses(m.from)},
            {"sender", addresses(m.sender)},
            {"reply_to", addresses(m.reply_to)},
            {"to", addresses(m.to)},
            {"cc", addresses(m.cc)},
            {"bcc", addresses(m.bcc)},
            {"in_reply_to", m.in_reply_to},
            {"references", m.references},
            {"text", m.text},
            {"html", m.html},
            {"attachments", attachments},
            {"flags", {{"auto_reply", flag(m.flags.auto_reply)},
                       {"bulk", flag(m.flags.bulk)},
                       {"bounce", flag(m.flags.bounce)}}},
            {"tracking", m.tracking},
            {"defects", m.defects}};
}

std::string dump(const nlohmann::json& j) {
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json quarantine_json(const store::QuarantineEntry& q) {
    return {{"id", q.id},           {"email_id", q.email_id},     {"mailbox", q.mailbox},
            {"reason", q.reason},   {"created_at", q.created_at}, {"retried_at", opt(q.retried_at)},
            {"size", q.size}};
}

nlohmann::json review_item_json(const store::ReviewItem& it) {
    return {{"party_id", it.party_id}, {"email_id", it.email_id}, {"case", opt(it.case_token)},
            {"role", it.role},         {"address", it.address},   {"candidate_contact_ids", it.candidate_contact_ids}};
}

nlohmann::json email_review_json(const store::EmailReview& it) {
    return {{"email_id", it.email_id}, {"case", opt(it.case_token)}, {"from", it.from},
            {"subject", it.subject},   {"received_at", it.received_at}, {"reason", it.reason}};
}

nlohmann::json mailbox_state_json(const store::MailboxState& m) {
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    return {{"mailbox", m.mailbox},           {"folder", m.folder},
            {"last_poll_at", opt(m.last_poll_at)}, {"last_ok_at", opt(m.last_ok_at)},
            {"last_error", opt(m.last_error)},     {"last_error_at", opt(m.last_error_at)},
            {"failing", m.failures > 0},           {"consecutive_failures", m.failures},
            {"uidvalidity", opt(m.uidvalidity)},   {"last_uid", m.last_uid},
            {"processed", m.processed},            {"backlog", opt(m.backlog)},
            {"pending_acks", m.pending_acks},      {"failing_since", opt(m.failing_since)},
            {"last_mail_at", opt(m.last_mail_at)},
            {"access_token_expires_at", opt(m.token_expires_at)}};
}

nlohmann::json outbox_entry_json(const store::OutboxEntry& e) {
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    return {{"id", e.id},
            {"kind", matching::name(e.kind)},
            {"case", opt(e.case_token)},
            {"to", e.to_address},
            {"envelope_from", e.envelope_from},
            {"envelope_to", e.envelope_to},
            {"message_id", opt(e.message_id)},
            {"status", matching::name(e.status)},
            {"attempts", e.attempts},
            {"next_attempt_at", opt(e.next_attempt_at)},
            {"last_error", opt(e.last_error)},
            {"hold_reason", opt(e.hold_reason)},
            {"delivered_at", opt(e.delivered_at)},
            {"email_id", opt(e.email_id)},
            {"created_at", e.created_at}};
}

nlohmann::json rewrite_json(const std::string& token, const matching::Rewritten& r) {
    auto or_null = [](const std::string& v) { return v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v); };
    return {{"case", token},
            {"envelope_from", r.envelope_from},
            {"envelope_to", r.envelope_to},
            {"headers", {{"From", r.from},
                         {"Reply-To", r.reply_to},
                         {"To", r.to},
                         {"Cc", nullptr},  // never: every address but the customer's is dropped
                         {"Subject", r.subject},
                         {"Message-ID", r.message_id},
                         {"In-Reply-To", or_null(r.in_reply_to)},
                         {"References", or_null(r.references)},
                         {"X-311-Case", r.tracking}}},
            {"dropped", r.dropped}};
}

}  // namespace casemail::cli
