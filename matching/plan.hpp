// What the inbound rules decide about one email, as plain structs: the plan the store applies,
// and the narrow read-only questions the rules ask the store (Lookups). No MIME here, so the
// store can apply plans without knowing how mail is parsed (see matching/ingest.hpp for the
// rules themselves).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "matching/route_rule.hpp"
#include "matching/states.hpp"

namespace casemail::matching {

using Id = std::int64_t;
using TimePoint = std::chrono::system_clock::time_point;

struct CaseRef {
    Id id = 0;
    std::string token;
    CaseStatus status = CaseStatus::active;
    std::optional<TimePoint> resolved_at;
    Id customer_contact_id = 0;
    std::optional<std::string> work_order_system;  // handed there, not resolved yet
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
    virtual std::optional<QueueRef> queue_by_name(const std::string& name) = 0;
    // Acknowledgements queued to this address since `since`.
    virtual int acks_since(const std::string& address_norm, TimePoint since) = 0;
    // Whether `address_norm` writes on this case: its customer's address, or a party (any role)
    // of any email on it.
    virtual bool sender_on_case(Id case_id, const std::string& address_norm) = 0;
    // The cases opened since `since` by mail from `key`: a normalised address, or with
    // `domain` every address at that domain.
    struct OpenedCases {
        int count = 0;
        std::optional<CaseRef> latest;
        bool flood_noted = false;  // an email was already linked to `latest` as a flood since `since`
    };
    virtual OpenedCases cases_opened_by(const std::string& key, bool domain, TimePoint since) = 0;
};

enum class OnResolved { link, new_case, reactivate };
// A token or reply-chain match from an address that is not on the case.
enum class OnForeignSender { review, new_case };

struct IngestRules {
    std::string token_prefix = "311";
    std::string own_message_id_domain;  // our outbound Message-IDs end in "@" + this
    std::chrono::seconds resolved_window = std::chrono::hours(24 * 14);
    OnResolved on_resolved = OnResolved::link;  // inside the window
    bool auto_ack = true;
    int ack_limit_per_hour = 3;
    OnForeignSender on_foreign_sender = OnForeignSender::review;
    int max_new_cases_per_sender = 10;  // per hour; 0: no limit
    int max_new_cases_per_domain = 0;   // per hour; 0: no limit (public mail domains are shared)
    std::vector<RouteRule> routes;      // new cases only; first match wins
    // Attachment extensions kept as metadata only (lower case, no dot).
    std::vector<std::string> blocked_extensions = {"exe", "js", "vbs", "vbe", "bat", "cmd", "com",
                                                   "scr", "pif", "msi", "jar", "ps1", "wsf", "hta",
                                                   "cpl", "lnk", "reg", "jse", "msp", "scf"};
};

// Whether an attachment named `filename` is kept as metadata only: its extension (lower case,
// trailing dots and spaces dropped, so "invoice.pdf.exe " counts as exe) is blocked.
bool attachment_blocked(std::string_view filename, const std::vector<std::string>& blocked_extensions);

enum class Action { created, linked, ignored };
// The email's status for the plan's action.
EmailStatus email_status(Action a);

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

// How an email found its case, or why it opened one: shown by `case show`.
struct Evidence {
    std::string method;  // subject-token, x-311-case, in-reply-to, references, new-case, follow-up, flood, none
    std::string detail;  // the token, the Message-ID that matched, or the reason for a new case
};

struct IngestPlan {
    Action action = Action::ignored;
    std::string reason;          // why ignored, or how correlated
    std::vector<std::string> defects;
    Evidence evidence;
    std::string review_reason;   // non-empty: the email is put on the review list with this reason
    std::string opened_by;       // created: the sender's normalised address (flood guard)
    bool flood_started = false;  // the first mail of a flood: logged once

    std::optional<CaseRef> linked_case;  // action linked
    bool flag_needs_review = false;      // linked: to a resolved case; created: reply to a reused id
    bool reactivate = false;

    // action created
    std::string title;
    std::string description;
    Id queue_id = 0;
    std::string route;  // the routing rule that set queue, category, request type or priority
    std::optional<std::string> category, request_type, priority;
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

}  // namespace casemail::matching
