// The inbound rules of casemail: given one parsed email and answers from the store, decide
// what happens to it. Pure: the store is asked through the narrow, read-only Lookups
// interface and the result is a plan (IngestPlan) that the store applies in one transaction.
//
// The rules (see the inbound issue and README "Identity rules"):
//  - loop/bounce/bulk guard: auto-replies, bounces, bulk mail, mail from our own mailboxes
//    and mail with our own Message-ID domain never create a case nor an acknowledgement;
//  - correlation: subject token, then X-311-Case, then In-Reply-To, then References (newest
//    first); only an existing token counts; a token beats a conflicting reply chain; a
//    Message-ID carried by several different messages on different cases names no case: a
//    reply to it opens a case for review instead of joining a guessed one;
//  - the same message: a re-fetch, or one mail delivered to two 311 mailboxes, has the same
//    fingerprint (message_fingerprint); a different message reusing a Message-ID does not;
//  - resolved cases: inside the window link and flag for review (or new case/reactivate by
//    configuration); after it, or for a cancelled case, a new case with the old as parent;
//  - identity: a new case's customer is the single registered active contact with the sender's
//    address, else a new guest (no dedup); several registered is also a review item; history
//    links go to every active contact sharing any address of the mail;
//  - parties: one match resolves, several or none stay unresolved (candidates kept); our queue
//    mailboxes resolve to their queue.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mime/message.hpp"

namespace casemail::matching {

using Id = std::int64_t;
using TimePoint = std::chrono::system_clock::time_point;

struct CaseRef {
    Id id = 0;
    std::string token;
    std::string status;  // active | resolved | cancelled
    std::optional<TimePoint> resolved_at;
    Id customer_contact_id = 0;
};

// An active contact: not archived, not merged into another.
struct ContactRef {
    Id id = 0;
    bool is_guest = false;
    bool is_registered = false;
};

struct QueueRef {
    Id id = 0;
    std::string name;
    std::string mailbox;
};

class Lookups {
public:
    virtual ~Lookups() = default;
    // Exact token (already upper-cased); nothing for an unknown or malformed token.
    virtual std::optional<CaseRef> case_by_token(const std::string& token) = 0;
    // The cases of the stored emails (either direction) carrying this Message-ID, distinct, at
    // most three; nullopt stands for emails on no case. Empty when the id is unknown.
    virtual std::vector<std::optional<CaseRef>> cases_by_message_id(const std::string& message_id) = 0;
    // Active contacts whose normalised address equals `address_norm`, by id.
    virtual std::vector<ContactRef> active_contacts(const std::string& address_norm) = 0;
    virtual std::optional<QueueRef> queue_by_address(const std::string& address_norm) = 0;
    // Acknowledgements queued to this address since `since`.
    virtual int acks_since(const std::string& address_norm, TimePoint since) = 0;
};

enum class OnResolved { link, new_case, reactivate };

struct IngestRules {
    std::string token_prefix = "311";
    std::string own_message_id_domain;  // our outbound Message-IDs end in "@" + this
    std::chrono::seconds resolved_window = std::chrono::hours(24 * 14);
    OnResolved on_resolved = OnResolved::link;  // inside the window
    bool auto_ack = true;
    int ack_limit_per_hour = 3;
};

enum class Action { created, linked, ignored };
const char* action_name(Action a);

struct PartyPlan {
    std::string role;  // from | to | cc | bcc
    std::string name;
    std::string address;
    std::optional<Id> contact_id;
    bool is_new_guest = false;  // resolved to the guest this plan creates
    std::optional<Id> queue_id;
    bool resolved = false;
    std::vector<Id> candidates;  // active contacts sharing the address
};

struct IngestPlan {
    Action action = Action::ignored;
    std::string reason;          // why ignored, or how correlated
    std::vector<std::string> defects;

    std::optional<CaseRef> linked_case;  // action linked
    bool flag_needs_review = false;      // linked: to a resolved case; created: reply to a reused id
    bool reactivate = false;

    // action created
    std::string title;
    std::string description;
    Id queue_id = 0;
    std::optional<Id> parent_case_id;
    std::optional<Id> customer_contact_id;  // existing registered contact
    bool create_guest = false;              // customer is a new guest contact
    std::string guest_name, guest_address;
    bool ambiguous_sender = false;

    std::vector<PartyPlan> parties;
    std::vector<Id> history_contact_ids;  // every active contact sharing an address (sorted, unique)
    bool link_history_to_new_guest = false;

    bool queue_ack = false;
    std::string ack_address;
};

struct Correlation {
    std::optional<CaseRef> found;
    std::string method;  // "subject token 311-...", "X-311-Case ...", "In-Reply-To", "References"
    // The reply chain names a Message-ID that several different messages carry: no case.
    std::string reused_message_id;
};

// The case `msg` belongs to, in the order above (inbound and agents' replies alike). Unknown
// tokens and a token that contradicts the reply chain are noted in `defects`.
Correlation correlate(const mime::ParsedMessage& msg, std::string_view token_prefix, Lookups& lookups,
                      std::vector<std::string>& defects);

// What makes two copies the same message: Message-ID, sender, date, subject and content
// (text, HTML, attachments). Trace fields added on the way (Received, Delivered-To,
// Return-Path) differ between copies and do not count. Lower-case hex SHA-256.
std::string message_fingerprint(const mime::ParsedMessage& msg);

// Decides what to do with `msg`, received at the mailbox of `mailbox_queue`, at time `now`.
IngestPlan plan_ingest(const mime::ParsedMessage& msg, const QueueRef& mailbox_queue,
                       const IngestRules& rules, Lookups& lookups, TimePoint now);

}  // namespace casemail::matching
