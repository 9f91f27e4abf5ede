#include "daemon/inbound/ingestor.hpp"

#include <fmt/format.h>

#include "matching/ingest.hpp"
#include "mime/decode.hpp"
#include "mime/digest.hpp"
#include "store/ingest.hpp"

namespace casemail::inbound {
namespace {

IngestResult duplicate_of(store::Store& store, Id prior_email_id, const std::string& why, const std::string& message_id) {
    IngestResult result;
    result.action = matching::EmailStatus::duplicate;
    result.message_id = message_id;
    result.reason = fmt::format("{} (email {})", why, prior_email_id);
    result.email_id = prior_email_id;
    auto prior = store::email_case(store, prior_email_id);
    result.case_token = prior.case_token;
    result.customer_id = prior.customer_id;
    return result;
}

std::vector<store::AttachmentRecord> attachment_records(const mime::ParsedMessage& msg,
                                                        const matching::IngestRules& rules) {
    std::vector<store::AttachmentRecord> out;
    for (const auto& a : msg.attachments)
        out.push_back({a.filename, a.content_type, a.size, a.sha256,
                       matching::attachment_blocked(a.filename, rules.blocked_extensions), a.raw_offset,
                       a.raw_length, a.transfer_encoding, a.data});
    return out;
}

}  // namespace

Ingestor::Ingestor(store::Store& store, IngestOptions options) : store_(store), options_(std::move(options)) {}

PreparedMessage prepare_message(std::string raw, const mime::Limits& limits) {
    PreparedMessage m;
    m.raw_sha256 = mime::sha256_hex(raw);
    // Attachments that lie in the raw message are kept by reference: their decoded bytes are
    // dropped here, so a 20 MB attachment is not held twice (or written twice) on its way in.
    auto parsed = mime::parse_message(raw, limits, mime::ParseOptions{.keep_referenced_data = false});
    if (parsed) {
        if (!parsed->message_id.empty()) m.fingerprint = matching::message_fingerprint(*parsed);
        m.parsed = std::move(*parsed);
    } else {
        m.quarantine_reason = parsed.error();
    }
    m.raw = std::move(raw);
    return m;
}

PreparedMessage prepare_quarantine(std::string raw, std::string reason) {
    PreparedMessage m;
    m.raw_sha256 = mime::sha256_hex(raw);
    m.raw = std::move(raw);
    m.quarantine_reason = std::move(reason);
    return m;
}

IngestResult Ingestor::ingest(std::string raw, const std::string& mailbox) {
    return apply(prepare_message(std::move(raw), options_.limits), mailbox);
}

IngestResult Ingestor::quarantine(std::string_view raw, const std::string& mailbox, const std::string& reason) {
    return apply(prepare_quarantine(std::string(raw), reason), mailbox);
}

// Emails stored before fingerprints existed get theirs when their Message-ID comes again.
std::optional<std::string> Ingestor::fingerprint_of_stored(Id email_id) {
    // The fingerprint takes attachments' digests, not their bytes.
    auto parsed = mime::parse_message(store::email_raw(store_, email_id), options_.limits,
                                      mime::ParseOptions{.keep_referenced_data = false});
    if (!parsed) return std::nullopt;
    auto fingerprint = matching::message_fingerprint(*parsed);
    store::set_fingerprint(store_, email_id, fingerprint);
    return fingerprint;
}

std::optional<IngestResult> Ingestor::prior_copy(const std::string& raw_sha256, const std::string& message_id,
                                                 const std::optional<std::string>& fingerprint, Id exclude,
                                                 std::vector<std::string>& defects) {
    if (auto id = store::inbound_email_with_sha256(store_, raw_sha256, exclude))
        return duplicate_of(store_, *id, "identical message already ingested", message_id);
    if (message_id.empty() || !fingerprint) return std::nullopt;
    auto carriers = store::inbound_emails_with_message_id(store_, message_id, exclude);
    for (auto& c : carriers) {
        if (!c.fingerprint) c.fingerprint = fingerprint_of_stored(c.email_id);
        if (c.fingerprint == fingerprint)
            return duplicate_of(store_, c.email_id,
                                "the same message (Message-ID, sender, date, subject and content) already ingested",
                                message_id);
    }
    if (!carriers.empty())
        mime::add_defect(defects, fmt::format("Message-ID reused by a different message (email {} has it)",
                                              carriers.front().email_id));
    return std::nullopt;
}

IngestResult Ingestor::apply(const PreparedMessage& m, const std::string& mailbox) {
    auto queue = store::queue_for_mailbox(store_, mailbox);
    store::Savepoint sp(store_.db(), "ingest_message");
    store::NewEmail e;
    e.direction = matching::Direction::in;
    e.raw = m.raw;
    e.raw_sha256 = m.raw_sha256;
    e.mailbox = queue.mailbox;
    e.fingerprint = m.fingerprint;
    if (m.parsed) {
        if (!m.parsed->message_id.empty()) e.message_id = m.parsed->message_id;
        e.in_reply_to = m.parsed->in_reply_to;
        e.references = m.parsed->references;
        e.subject = m.parsed->subject;
        e.body_text = m.parsed->text;
    }
    std::vector<std::string> copy_defects;
    auto message_id = m.parsed ? m.parsed->message_id : std::string();
    if (auto prior = prior_copy(m.raw_sha256, message_id, e.fingerprint, 0, copy_defects)) {
        sp.release();  // nothing changed but fingerprints computed for older copies
        return *prior;
    }
    if (!m.parsed) {
        Id email_id = store_.insert_email(e);
        store::quarantine_email(store_, email_id, queue.mailbox, m.quarantine_reason);
        sp.release();
        IngestResult result;
        result.action = matching::EmailStatus::quarantined;
        result.email_id = email_id;
        result.reason = m.quarantine_reason;
        return result;
    }
    // Planned first, then inserted with its outcome (one write of the row, not an insert and
    // an update).
    auto result = process(store::PlannedEmail{.insert = &e}, *m.parsed, queue, copy_defects);
    sp.release();
    return result;
}

IngestResult Ingestor::process(const store::PlannedEmail& email, const mime::ParsedMessage& msg,
                               const matching::QueueRef& queue, const std::vector<std::string>& copy_defects) {
    auto lookups = store::make_lookups(store_.db(), email.insert ? msg.message_id : std::string());
    auto plan = matching::plan_ingest(msg, queue, options_.rules, *lookups, store_.now());
    IngestResult result;
    result.action = matching::email_status(plan.action);
    result.message_id = msg.message_id;
    result.reason = plan.reason;
    result.evidence = plan.evidence;
    result.review_reason = plan.review_reason;
    result.flood_started = plan.flood_started;
    result.defects = msg.defects;
    result.defects.insert(result.defects.end(), copy_defects.begin(), copy_defects.end());
    result.defects.insert(result.defects.end(), plan.defects.begin(), plan.defects.end());
    auto applied = store::apply_ingest(store_, email, plan, attachment_records(msg, options_.rules), result.defects,
                                       options_.actor);
    result.email_id = applied.email_id;
    result.case_token = applied.case_token;
    result.customer_id = applied.customer_id;
    return result;
}

IngestResult Ingestor::retry_quarantined(Id quarantine_id) {
    auto held = store::quarantined_message(store_, quarantine_id);
    auto queue = store::queue_for_mailbox(store_, held.mailbox);
    auto parsed = mime::parse_message(held.raw, options_.limits, mime::ParseOptions{.keep_referenced_data = false});
    store::Savepoint sp(store_.db(), "retry_quarantined");
    IngestResult result;
    result.email_id = held.email_id;
    if (!parsed) {
        store::requarantine(store_, quarantine_id, parsed.error());
        sp.release();
        result.action = matching::EmailStatus::quarantined;
        result.reason = parsed.error();
        return result;
    }
    store::release_quarantine(store_, quarantine_id);
    store::ParsedFields fields;
    if (!parsed->message_id.empty()) {
        fields.message_id = parsed->message_id;
        fields.fingerprint = matching::message_fingerprint(*parsed);
    }
    std::vector<std::string> copy_defects;
    if (auto prior = prior_copy(mime::sha256_hex(held.raw), parsed->message_id, fields.fingerprint, held.email_id,
                                copy_defects)) {
        // The same message arrived again meanwhile and was processed: this copy is a duplicate.
        store::set_email_outcome(store_, held.email_id, std::nullopt, matching::EmailStatus::duplicate, prior->reason,
                                 parsed->defects);
        sp.release();
        prior->email_id = held.email_id;
        return *prior;
    }
    fields.in_reply_to = parsed->in_reply_to;
    fields.references = parsed->references;
    fields.subject = parsed->subject;
    fields.body_text = parsed->text;
    store::set_parsed_fields(store_, held.email_id, fields);
    result = process(store::PlannedEmail{.stored = held.email_id}, *parsed, queue, copy_defects);
    sp.release();
    return result;
}

}  // namespace casemail::inbound
