// The outbound rules: what an agent's reply to a case may be, and to whom it goes. Pure.
//
// A reply goes to the case's customer and to no one else. Whatever the agent's mail client
// put in To/Cc/Bcc or in the envelope (other contacts sharing an address, unresolved parties,
// a colleague) is dropped and reported; the queue's mailbox becomes From, Reply-To and the
// envelope sender; the subject carries the case token once; the message threads under the
// citizen's last email. Only an allowlist of the agent's header fields survives (Date, the
// Content-* fields and priority): nothing else from the agent's client (Bcc, Received, Disposition-Notification-To,
// X-Originating-IP...) reaches the citizen.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "matching/ingest.hpp"
#include "mime/message.hpp"

namespace casemail::matching {

struct Recipient {
    std::string name;
    std::string address;
};

struct OutboundCase {
    CaseRef ref;
    bool anonymous = false;
    bool wants_updates = true;
    bool confidential = false;
    std::optional<Recipient> customer;  // nullopt: the customer has no usable address
    std::string queue_mailbox;
    std::string queue_display_name;
    // The citizen's last inbound email on the case, for threading ("" when none).
    std::string last_inbound_message_id;
    std::vector<std::string> last_inbound_references;
};

struct OutboundPolicy {
    std::string token_prefix = "311";
    std::string message_id_domain = "casemail.invalid";  // of the Message-IDs we write
    bool hold_confidential = false;         // a confidential case's mail needs a person's review
    bool keep_unresolved_as_text = false;   // list dropped addresses in a note atop the body
    bool pass_through = false;  // a reply without a case is relayed unchanged instead of refused
    bool hold_refused = false;  // a refused reply waits in the outbox (held) instead of a 550
};

// The customer as a recipient, when casemail may write to that address: a valid addr-spec
// that is no no-reply address (is_no_reply_address). nullopt: the customer has no usable
// address.
std::optional<Recipient> usable_recipient(const std::string& name, const std::string& address);

// Why mail to this case's customer must not go out ("" when it may): the case has no queue
// (so no mailbox to write from), is not active or is anonymous, the customer has no usable
// address or asked for no updates, or the case is confidential under a hold policy.
std::string refusal_reason(const OutboundCase& c, const OutboundPolicy& policy);

// What the relay does with an agent's reply (matching/states.hpp): rewrite it for the case's
// customer and queue it, hold it for a person (refused, under on_refused = "hold"), relay it
// unchanged (no case, under pass_through), or reject it (550).
ReplyDecision decide_reply(bool case_found, const std::string& refusal, const OutboundPolicy& policy);

struct Rewritten {
    std::string raw;  // the message to deliver, CRLF line ends
    std::string envelope_from;
    std::vector<std::string> envelope_to;
    // Header values as written (Subject decoded, for display).
    std::string from, reply_to, to, subject, message_id, in_reply_to, references, tracking;
    std::vector<std::string> reference_ids;  // References without brackets, oldest first
    std::vector<std::string> dropped;  // addresses removed from the recipients, as given
};

// Rewrites an agent's reply for case `c`. `envelope_recipients` are the RCPT TO addresses
// the relay received; `message_id` is a fresh id in our domain (without brackets).
Rewritten rewrite_reply(std::string_view raw, const mime::ParsedMessage& msg,
                        const std::vector<std::string>& envelope_recipients, const OutboundCase& c,
                        const OutboundPolicy& policy, const std::string& message_id,
                        std::chrono::system_clock::time_point now);

// The rendered acknowledgement template, composed as a message to the customer: From and
// Reply-To the queue's mailbox, threaded under the citizen's email (`parent_id`, whose own
// References were `parent_refs`), Auto-Submitted (RFC 3834), text and optional HTML as
// base64 UTF-8 parts. refusal_reason() ran first.
struct AcknowledgementText {
    std::string subject, text;
    std::optional<std::string> html;
};
Rewritten compose_acknowledgement(const OutboundCase& c, const AcknowledgementText& rendered,
                                  const std::string& to_address, const std::string& parent_id,
                                  const std::vector<std::string>& parent_refs, const OutboundPolicy& policy,
                                  const std::string& message_id, std::chrono::system_clock::time_point now);

// The Subject with the case token appended (" [311-000042-K7QX]") unless already present.
std::string subject_with_token(const std::string& subject, const std::string& token, std::string_view prefix);

// References for a message answering `parent_id` whose own References were `parent_refs`:
// the parent's chain plus the parent, the newest 20 kept (RFC 5322 3.6.4).
std::vector<std::string> thread_references(const std::vector<std::string>& parent_refs, const std::string& parent_id);

}  // namespace casemail::matching
