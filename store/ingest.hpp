// The store's side of the inbound pipeline: the matching rules' read-only view of the store
// (Lookups), the questions that recognise a message seen before, quarantine, and applying an
// ingest plan (ingest.cpp); the review list of what the rules put aside (ingest_review.cpp).
// The pipeline itself (parse -> plan -> apply) is daemon/inbound; this header knows plans and
// records, never MIME.
//
// Contract: every function writes inside the caller's transaction (the pipeline opens one
// savepoint per message); nothing here commits.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "matching/plan.hpp"
#include "store/attachments.hpp"
#include "store/store.hpp"

namespace casemail::store {

// The matching rules' read-only view of the store (every query one indexed lookup).
// `planned_message_id`: the Message-ID of an inbound email planned before it is inserted
// (apply_ingest inserts it with its outcome); it counts as a carrier of that id on no case,
// as its row would, so a message naming its own reused id is not linked by it.
std::unique_ptr<matching::Lookups> make_lookups(Database& db, std::string planned_message_id = {});

// The queue of a 311 mailbox; Refused (naming the command that adds one) when none has it.
matching::QueueRef queue_for_mailbox(Store& store, const std::string& mailbox);

// ---- a message seen before -------------------------------------------------------------

// An inbound email without a Message-ID (or not parsed) with exactly these bytes, other than
// `exclude`. An email with a Message-ID is found again by it (inbound_emails_with_message_id).
std::optional<Id> inbound_email_with_sha256(Store& store, const std::string& raw_sha256, Id exclude = 0);

// The inbound emails carrying `message_id` (other than `exclude`), oldest first, with their
// fingerprints (nullopt: stored before fingerprints existed).
struct MessageIdCarrier {
    Id email_id = 0;
    std::optional<std::string> fingerprint;
};
std::vector<MessageIdCarrier> inbound_emails_with_message_id(Store& store, const std::string& message_id,
                                                             Id exclude = 0);
void set_fingerprint(Store& store, Id email_id, const std::string& fingerprint);
std::string email_raw(Store& store, Id email_id);

// The case an email ended on, and its customer (both absent when it is on no case).
struct EmailCase {
    std::optional<std::string> case_token;
    std::optional<Id> customer_id;
};
EmailCase email_case(Store& store, Id email_id);

// ---- outcomes ----------------------------------------------------------------------------

// The email's status (created, linked, ignored, duplicate, quarantined), why, and its defects;
// how it found its case (evidence), and a reason to review it (non-empty: on the review list).
void set_email_outcome(Store& store, Id email_id, std::optional<Id> case_id, matching::EmailStatus status,
                       const std::string& reason, const std::vector<std::string>& defects,
                       const matching::Evidence& evidence = {}, const std::string& review_reason = {});

// The email a plan is applied to: a new one, inserted with its outcome (`insert`), or one
// stored before (a released quarantine, `stored`), whose outcome is updated. apply_ingest
// fills the outcome into `*insert` itself rather than a copy (the body text can run to MB).
struct PlannedEmail {
    NewEmail* insert = nullptr;
    Id stored = 0;
};

// The result of applying a plan: the email, the case it is on, and that case's customer.
struct AppliedPlan {
    Id email_id = 0;
    std::optional<Id> case_id;
    std::optional<std::string> case_token;
    std::optional<Id> customer_id;
};

// Applies `plan` to `email`: the guest and the case it creates, or the case it links to
// (reactivated or flagged), the email with its outcome, parties and history links, its
// attachments, the acknowledgement in the outbox, and the audit events under `actor`.
AppliedPlan apply_ingest(Store& store, const PlannedEmail& email, const matching::IngestPlan& plan,
                         const std::vector<AttachmentRecord>& attachments, const std::vector<std::string>& defects,
                         const std::string& actor);

// ---- quarantine --------------------------------------------------------------------------

// A stored email that could not be parsed, with the reason.
void quarantine_email(Store& store, Id email_id, const std::string& mailbox, const std::string& reason);

struct QuarantinedMessage {
    Id email_id = 0;
    std::string mailbox;
    std::string raw;
};
// Refused for an unknown or already released id.
QuarantinedMessage quarantined_message(Store& store, Id quarantine_id);
// Tried again: still unparseable for `reason`, or released (parsed now).
void requarantine(Store& store, Id quarantine_id, const std::string& reason);
void release_quarantine(Store& store, Id quarantine_id);

// What parsing a released message found, written onto its email row.
struct ParsedFields {
    std::optional<std::string> message_id, fingerprint;
    std::vector<std::string> in_reply_to, references;
    std::string subject, body_text;
};
void set_parsed_fields(Store& store, Id email_id, const ParsedFields& fields);

struct QuarantineEntry {
    Id id = 0;
    Id email_id = 0;
    std::string mailbox;
    std::string reason;
    std::string created_at;
    std::optional<std::string> retried_at;
    std::size_t size = 0;
};
std::vector<QuarantineEntry> quarantine_list(Store& store);

// ---- review ------------------------------------------------------------------------------

// Review items: unresolved parties that match several contacts.
struct ReviewItem {
    Id party_id = 0;
    Id email_id = 0;
    std::optional<std::string> case_token;
    std::string role;
    std::string address;
    std::vector<Id> candidate_contact_ids;  // active contacts sharing the address now
};
std::vector<ReviewItem> review_items(Store& store);

// Emails put on the review list by the inbound rules (a stranger's match, a flood, mail on a
// resolved case, a reply to a reused Message-ID), oldest first.
struct EmailReview {
    Id email_id = 0;
    std::optional<std::string> case_token;
    std::string from;  // the first From address
    std::string subject, received_at, reason;
};
std::vector<EmailReview> email_reviews(Store& store);
// Takes an email off the review list (audit event "review-cleared" with the reason it had).
// Throws Refused when the email is not on it.
void clear_email_review(Store& store, Id email_id, const std::string& actor);

// Links an unresolved party to a contact with that address (audit event). With as_customer,
// also makes it the customer of the case this email opened (matching::party_link_refusal says
// when it may not: Refused with that reason).
void link_party(Store& store, Id party_id, Id contact_id, bool as_customer, const std::string& actor);

}  // namespace casemail::store
