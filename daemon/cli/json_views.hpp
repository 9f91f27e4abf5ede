// JSON shapes of the CLI's listings. Field names here are a public interface: scripts and the
// tests depend on them, so rename nothing without a note in the README.
#pragma once

#include <nlohmann/json.hpp>

#include <map>

#include "matching/outbound.hpp"
#include "mime/message.hpp"
#include "store/attachments.hpp"
#include "store/ingest.hpp"
#include "store/mailbox_state.hpp"
#include "store/outbox.hpp"
#include "store/store.hpp"
#include "store/workflow.hpp"

namespace casemail::cli {

nlohmann::json contact_json(const store::Contact& c);
nlohmann::json queue_json(const store::Queue& q);
nlohmann::json case_summary_json(const store::CaseRecord& c);
using EmailAttachments = std::map<store::Id, std::vector<store::StoredAttachment>>;
nlohmann::json case_detail_json(const store::CaseRecord& c, const std::vector<store::EmailRecord>& emails,
                                const EmailAttachments& attachments, const std::vector<store::Event>& events);
// A case with everything `case show` and `case export` print of it.
struct CaseView {
    store::CaseRecord record;
    std::vector<store::EmailRecord> emails;
    std::vector<store::Event> events;
    EmailAttachments attachments;
    std::vector<store::Note> notes;
};
CaseView read_case_view(store::Store& s, const std::string& token);  // Refused for an unknown token
// case_detail_json with the notes, the work order and the knowledge articles linked.
nlohmann::json case_view_json(store::Store& s, const CaseView& v);

// A case's notes, with their attachments' metadata (case show, case export).
nlohmann::json notes_json(const std::vector<store::Note>& notes);
// One stored attachment; "content" is reference | blob | blocked.
nlohmann::json stored_attachment_json(const store::StoredAttachment& a);
std::string_view content_name(store::AttachmentContent c);

// `casemail status --json`: one polled mailbox.
nlohmann::json mailbox_state_json(const store::MailboxState& m);

// `casemail quarantine list --json` and `casemail unresolved list --json`: one entry.
nlohmann::json quarantine_json(const store::QuarantineEntry& q);
nlohmann::json review_item_json(const store::ReviewItem& it);
nlohmann::json email_review_json(const store::EmailReview& it);

// `casemail outbox list --json`: one entry.
nlohmann::json outbox_entry_json(const store::OutboxEntry& e);

// `casemail outbound rewrite --json`: what the relay would send for case `token`.
nlohmann::json rewrite_json(const std::string& token, const matching::Rewritten& r);

// `casemail parse --json` shape (see README).
nlohmann::json parsed_message_json(const mime::ParsedMessage& m);

// Serialises for output. Invalid UTF-8 from mail is replaced (U+FFFD), never an exception.
std::string dump(const nlohmann::json& j);

}  // namespace casemail::cli
