#include "matching/outbound.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "matching/subject.hpp"
#include "mime/address.hpp"
#include "mime/compose.hpp"
#include "mime/strings.hpp"

namespace casemail::matching {
namespace {

// The agent's header fields that may reach the citizen; everything else is dropped.
// (MIME-Version is always written by us.)
bool kept_field(std::string_view name) {
    static const char* const kept[] = {"Date", "Content-Type", "Content-Transfer-Encoding",
                                       "Content-Disposition", "Content-ID", "Content-Language",
                                       "Content-Description", "Importance", "Priority", "X-Priority"};
    return std::any_of(std::begin(kept), std::end(kept), [&](const char* k) { return mime::iequals_ascii(name, k); });
}

bool is_content_field(std::string_view name) {
    return mime::to_lower_ascii(name).rfind("content-", 0) == 0;
}

// A boundary that does not occur in `body`.
std::string boundary_for(std::string_view body, const std::string& seed) {
    std::string b = "=_casemail_note_" + seed;
    while (body.find(b) != std::string_view::npos) b += "_x";
    return b;
}

}  // namespace

std::optional<Recipient> usable_recipient(const std::string& name, const std::string& address) {
    auto norm = mime::normalize_address(address);
    if (!mime::valid_addr_spec(norm) || is_no_reply_address(norm)) return std::nullopt;
    return Recipient{name, address};
}

ReplyDecision decide_reply(bool case_found, const std::string& refusal, const OutboundPolicy& policy) {
    if (!case_found) return policy.pass_through ? ReplyDecision::pass_through : ReplyDecision::reject;
    if (!refusal.empty()) return policy.hold_refused ? ReplyDecision::hold : ReplyDecision::reject;
    return ReplyDecision::queue;
}

std::string refusal_reason(const OutboundCase& c, const OutboundPolicy& policy) {
    if (c.queue_mailbox.empty()) return fmt::format("case {} has no queue, so no mailbox to write from", c.ref.token);
    if (c.ref.status != CaseStatus::active)
        return fmt::format("case {} is {}: reactivate it to write to the customer", c.ref.token, name(c.ref.status));
    if (c.anonymous) return fmt::format("case {} is anonymous: no mail goes to its customer", c.ref.token);
    if (!c.customer) return fmt::format("the customer of case {} has no usable email address", c.ref.token);
    if (!c.wants_updates) return fmt::format("the customer of case {} asked for no updates", c.ref.token);
    if (c.confidential && policy.hold_confidential)
        return fmt::format("case {} is confidential: its mail is held for review", c.ref.token);
    return {};
}

std::string subject_with_token(const std::string& subject, const std::string& token, std::string_view prefix) {
    auto tokens = find_subject_tokens(subject, prefix);
    if (std::find(tokens.begin(), tokens.end(), token) != tokens.end()) return subject;
    auto trimmed = std::string(mime::trim(subject));
    return trimmed.empty() ? "[" + token + "]" : trimmed + " [" + token + "]";
}

std::vector<std::string> thread_references(const std::vector<std::string>& parent_refs, const std::string& parent_id) {
    std::vector<std::string> refs = parent_refs;
    if (!parent_id.empty()) refs.push_back(parent_id);
    constexpr std::size_t keep = 20;
    if (refs.size() > keep) refs.erase(refs.begin(), refs.end() - keep);
    return refs;
}

namespace {

// What every message casemail writes on a case carries: from the queue's mailbox to one
// recipient, the token in the subject, threaded under `parent_id` (when known).
Rewritten addressed(const OutboundCase& c, const std::string& to_name, const std::string& to_address,
                    const std::string& subject, const std::string& parent_id, const std::vector<std::string>& parent_refs,
                    const OutboundPolicy& policy, const std::string& message_id) {
    Rewritten out;
    out.envelope_from = c.queue_mailbox;
    out.envelope_to = {to_address};
    out.from = mime::format_mailbox(c.queue_display_name, c.queue_mailbox);
    out.reply_to = out.from;
    out.to = mime::format_mailbox(to_name, to_address);
    out.subject = subject_with_token(subject, c.ref.token, policy.token_prefix);
    out.message_id = "<" + message_id + ">";
    out.tracking = c.ref.token;
    if (!parent_id.empty()) {
        out.in_reply_to = "<" + parent_id + ">";
        out.reference_ids = thread_references(parent_refs, parent_id);
        out.references = mime::format_message_ids(out.reference_ids);
    }
    return out;
}

// Those as header fields, From to X-311-Case.
std::string case_header_fields(const Rewritten& out) {
    std::string head = mime::header_field("From", out.from) + mime::header_field("Reply-To", out.reply_to) +
                       mime::header_field("To", out.to) +
                       mime::header_field("Subject", mime::encode_header_text(out.subject)) +
                       mime::header_field("Message-ID", out.message_id);
    if (!out.in_reply_to.empty())
        head += mime::header_field("In-Reply-To", out.in_reply_to) + mime::header_field("References", out.references);
    return head + mime::header_field("X-311-Case", out.tracking);
}

}  // namespace

Rewritten rewrite_reply(std::string_view raw, const mime::ParsedMessage& msg,
                        const std::vector<std::string>& envelope_recipients, const OutboundCase& c,
                        const OutboundPolicy& policy, const std::string& message_id,
                        std::chrono::system_clock::time_point now) {
    const Recipient& customer = *c.customer;  // refusal_reason() ran first
    Rewritten out = addressed(c, customer.name, customer.address, msg.subject, c.last_inbound_message_id,
                              c.last_inbound_references, policy, message_id);
    const std::string customer_norm = mime::normalize_address(customer.address);

    // Everyone the agent's client addressed, except the customer: dropped, and reported.
    std::set<std::string> seen{customer_norm};
    auto drop = [&](const std::string& address) {
        auto norm = mime::normalize_address(address);
        if (norm.empty() || !seen.insert(norm).second) return;
        out.dropped.push_back(address);
    };
    for (const auto* list : {&msg.to, &msg.cc, &msg.bcc})
        for (const auto& a : *list) drop(a.address);
    for (const auto& r : envelope_recipients) drop(r);


    auto parts = mime::split_raw_message(raw);
    std::string kept_content, kept_other;
    bool has_date = false;
    for (const auto& f : parts.fields) {
        if (!kept_field(f.name)) continue;
        if (mime::iequals_ascii(f.name, "Date")) has_date = true;
        (is_content_field(f.name) ? kept_content : kept_other) += f.raw;
    }

    std::string head;
    if (!has_date) head += mime::header_field("Date", mime::format_date(now));
    head += kept_other + case_header_fields(out);

    std::string body = parts.body;
    if (policy.keep_unresolved_as_text && !out.dropped.empty()) {
        // The agent's whole entity becomes the second part of a multipart/mixed whose first
        // part says who was left out. Nothing of the original body is re-encoded.
        std::string note = "casemail removed these addresses from the recipients of this reply; "
                           "only the case's customer receives it:\r\n";
        for (const auto& d : out.dropped) note += "  " + d + "\r\n";
        std::string boundary = boundary_for(body, message_id.substr(0, message_id.find('@')));
        if (kept_content.empty()) kept_content = "Content-Type: text/plain; charset=us-ascii\r\n";
        body = "This is a multi-part message in MIME format.\r\n--" + boundary + "\r\n" +
               "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
               mime::base64_lines(note) + "--" + boundary + "\r\n" + kept_content + "\r\n" + body +
               (body.ends_with("\r\n") || body.ends_with("\n") ? "" : "\r\n") + "--" + boundary + "--\r\n";
        kept_content = "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n";
    }
    head += "MIME-Version: 1.0\r\n" + kept_content;
    out.raw = mime::normalize_crlf(head + "\r\n" + body);
    return out;
}

Rewritten compose_acknowledgement(const OutboundCase& c, const AcknowledgementText& rendered,
                                  const std::string& to_address, const std::string& parent_id,
                                  const std::vector<std::string>& parent_refs, const OutboundPolicy& policy,
                                  const std::string& message_id, std::chrono::system_clock::time_point now) {
    Rewritten out = addressed(c, c.customer ? c.customer->name : std::string(), to_address, rendered.subject, parent_id,
                              parent_refs, policy, message_id);
    std::string head = mime::header_field("Date", mime::format_date(now)) + case_header_fields(out) +
                       "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n";
    const std::string text_type = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n";
    const std::string text_body = mime::base64_lines(mime::normalize_crlf(rendered.text));
    if (!rendered.html) {
        out.raw = head + text_type + "\r\n" + text_body;
        return out;
    }
    std::string boundary = "=_casemail_" + message_id.substr(0, message_id.find('@'));
    head += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
    out.raw = head + "\r\n--" + boundary + "\r\n" + text_type + "\r\n" + text_body + "--" + boundary + "\r\n" +
              "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
              mime::base64_lines(mime::normalize_crlf(*rendered.html)) + "--" + boundary + "--\r\n";
    return out;
}

}  // namespace casemail::matching
