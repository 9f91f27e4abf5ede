// The inbound pipeline on the store: parse, deduplicate, plan (matching::plan_ingest) and
// apply, for one message at a time inside the caller's transaction.
//
// Contract: ingest() never throws for anything a sender wrote. Unparseable mail is stored and
// quarantined with its reason; a re-fetched message is a "duplicate" and changes nothing.
// "Duplicate" means the same message: the same bytes, or the same Message-ID with the same
// sender, date, subject and content (one mail delivered to two 311 mailboxes). A different
// message that reuses a known Message-ID is stored and processed with a defect.
// Each message runs in its own savepoint, so a store error on one message rolls back that
// message only; the caller commits (one transaction may hold many messages) and only then
// acknowledges anything to the outside world (IMAP flag, CLI output).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "matching/ingest.hpp"
#include "mime/message.hpp"
#include "store/store.hpp"

namespace casemail::store {

// The matching rules' read-only view of the store (every query one indexed lookup).
std::unique_ptr<matching::Lookups> make_lookups(Database& db);

struct IngestOptions {
    matching::IngestRules rules;
    mime::Limits limits;
    // Attachment extensions kept as metadata only (lower case, no dot).
    std::vector<std::string> blocked_extensions = {"exe", "js", "vbs", "vbe", "bat", "cmd", "com",
                                                   "scr", "pif", "msi", "jar", "ps1", "wsf", "hta",
                                                   "cpl", "lnk", "reg", "jse", "msp", "scf"};
    std::string actor = "ingest";
};

struct IngestResult {
    std::string action;  // created | linked | duplicate | ignored | quarantined
    std::string message_id;
    std::optional<std::string> case_token;
    std::optional<Id> customer_id;
    std::optional<Id> email_id;
    std::string reason;
    std::vector<std::string> defects;
};

class Ingestor {
public:
    Ingestor(Store& store, IngestOptions options);

    // One raw message received at `mailbox` (a queue's mailbox address). Throws Refused when
    // no queue has that mailbox, store::Error on environment failure (that message rolled back).
    IngestResult ingest(std::string_view raw, const std::string& mailbox);

    // Stores `raw` in quarantine with `reason` without parsing it (e.g. a message cut short
    // because it exceeded the fetch limit: it must never be read as complete). A copy seen
    // before is a "duplicate".
    IngestResult quarantine(std::string_view raw, const std::string& mailbox, const std::string& reason);

    // Parses a quarantined message again (e.g. after raising a limit) and runs it through the
    // pipeline when it now parses. Throws Refused for an unknown or already released id.
    IngestResult retry_quarantined(Id quarantine_id);

private:
    IngestResult store_and_process(std::string_view raw, const std::string& mailbox,
                                   const mime::ParsedMessage* parsed, const std::string& quarantine_reason);
    IngestResult process(Id email_id, const mime::ParsedMessage& msg, const matching::QueueRef& queue,
                         const std::vector<std::string>& copy_defects);
    // "duplicate" of the email `prior_email_id`, with what happened to that one.
    IngestResult duplicate_of(Id prior_email_id, const std::string& why, const std::string& message_id);
    matching::QueueRef queue_for(const std::string& mailbox);

    Store& store_;
    IngestOptions options_;
};

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

// Links an unresolved party to a contact with that address (audit event). With as_customer,
// also makes it the customer of the case this email opened (From party, active case only).
void link_party(Store& store, Id party_id, Id contact_id, bool as_customer, const std::string& actor);

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

}  // namespace casemail::store
