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
//  - a stranger's match: a token or reply-chain match from an address not on the case is
//    linked for history and put on the review list (no acknowledgement, no reactivation, the
//    customer unchanged), or opens a case of its own under on_foreign_sender = new_case;
//  - resolved cases: inside the window link and flag for review (or new case/reactivate by
//    configuration); after it, or for a cancelled case, a new case with the old as parent;
//  - flood guard: past max_new_cases_per_sender new cases in an hour from one address (or
//    max_new_cases_per_domain from one domain), its mail is linked to its latest case as
//    history, one review item per flood, no new cases, no acknowledgements;
//  - identity: a new case's customer is the single registered active contact with the sender's
//    address, else a new guest (no dedup); several registered is also a review item; history
//    links go to every active contact sharing any address of the mail;
//  - parties: one match resolves, several or none stay unresolved (candidates kept); our queue
//    mailboxes resolve to their queue.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "matching/plan.hpp"
#include "mime/message.hpp"

namespace casemail::matching {

struct Correlation {
    std::optional<CaseRef> found;
    std::string method;  // "subject token 311-...", "X-311-Case ...", "In-Reply-To", "References"
    Evidence evidence;   // {"subject-token", "311-..."}, {"in-reply-to", "<id@host>"}, ...
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
