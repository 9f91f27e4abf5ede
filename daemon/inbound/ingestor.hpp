// The inbound pipeline: one raw message in, parsed (mime), planned (matching::plan_ingest)
// and applied (store::apply_ingest), inside the caller's transaction.
//
// Contract: ingest() never throws for anything a sender wrote. Unparseable mail is stored and
// quarantined with its reason; a re-fetched message is a "duplicate" and changes nothing.
// "Duplicate" means the same message: the same bytes, or the same Message-ID with the same
// sender, date, subject and content (matching::message_fingerprint: one mail delivered to two
// 311 mailboxes). A different message that reuses a known Message-ID is stored and processed
// with a defect. Each message runs in its own savepoint, so a store error on one message rolls
// back that message only; the caller commits (one transaction may hold many messages) and
// only then acknowledges anything to the outside world (IMAP flag, CLI output).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "matching/plan.hpp"
#include "matching/states.hpp"
#include "mime/message.hpp"
#include "store/store.hpp"

namespace casemail::store {
struct PlannedEmail;  // store/ingest.hpp
}

namespace casemail::inbound {

using store::Id;

struct IngestOptions {
    matching::IngestRules rules;
    mime::Limits limits;
    std::string actor = "ingest";
};

// A message made ready for the store: parsed (or why not), with its SHA-256 and fingerprint.
// Pure CPU work, done by whoever submits the message (an IMAP poller's thread), not by the
// store's writer.
struct PreparedMessage {
    std::string raw;
    std::string raw_sha256;
    std::optional<mime::ParsedMessage> parsed;  // nullopt: quarantine for `quarantine_reason`
    std::string quarantine_reason;
    std::optional<std::string> fingerprint;      // with a Message-ID only
};
PreparedMessage prepare_message(std::string raw, const mime::Limits& limits);
// A message kept without parsing, for `reason` (e.g. cut short at the fetch limit).
PreparedMessage prepare_quarantine(std::string raw, std::string reason);

struct IngestResult {
    matching::EmailStatus action = matching::EmailStatus::received;  // created, linked, duplicate, ignored, quarantined
    std::string message_id;
    std::optional<std::string> case_token;
    std::optional<Id> customer_id;
    std::optional<Id> email_id;
    std::string reason;
    std::vector<std::string> defects;
    matching::Evidence evidence;  // how it found its case
    std::string review_reason;    // non-empty: put on the review list
    bool flood_started = false;   // the first mail over the flood guard's limit: log it once
};

class Ingestor {
public:
    Ingestor(store::Store& store, IngestOptions options);

    // One raw message received at `mailbox` (a queue's mailbox address). Throws
    // store::Refused when no queue has that mailbox, store::Error on environment failure
    // (that message rolled back). ingest() is prepare_message() then apply().
    IngestResult ingest(std::string raw, const std::string& mailbox);  // moved in: a 40 MB message is not copied
    IngestResult apply(const PreparedMessage& message, const std::string& mailbox);

    // Stores `raw` in quarantine with `reason` without parsing it (e.g. a message cut short
    // because it exceeded the fetch limit: it must never be read as complete). A copy seen
    // before is a "duplicate".
    IngestResult quarantine(std::string_view raw, const std::string& mailbox, const std::string& reason);

    // Parses a quarantined message again (e.g. after raising a limit) and runs it through the
    // pipeline when it now parses. Throws store::Refused for an unknown or already released id.
    IngestResult retry_quarantined(Id quarantine_id);

private:

    IngestResult process(const store::PlannedEmail& email, const mime::ParsedMessage& msg,
                         const matching::QueueRef& queue, const std::vector<std::string>& copy_defects);
    // The copy of this message stored before, if any; a different message reusing a known
    // Message-ID adds a defect instead.
    std::optional<IngestResult> prior_copy(const std::string& raw_sha256, const std::string& message_id,
                                           const std::optional<std::string>& fingerprint, Id exclude,
                                           std::vector<std::string>& defects);
    std::optional<std::string> fingerprint_of_stored(Id email_id);

    store::Store& store_;
    IngestOptions options_;
};

}  // namespace casemail::inbound
