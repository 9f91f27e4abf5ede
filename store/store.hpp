// casemail's case store: contacts, accounts, queues, cases, emails and the audit log on SQLite.
//
// Contract: methods are single operations; multi-step work that must be atomic (ingesting one
// message) runs inside a Transaction the caller opens on db(). Methods that create several rows
// (create_case) use a savepoint so they are atomic on their own too.
// Errors: store::Error for environment failures; store::Refused for requests the rules forbid
// (unknown token, editing a resolved case) — its message is meant for the user as is.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "matching/plan.hpp"
#include "matching/states.hpp"
#include "store/database.hpp"

namespace casemail::store {

class Refused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using Id = std::int64_t;

// A state column read back as its enum; store::Error for a name this casemail does not know.
template <class E>
E read_state(const Statement& st, int column) {
    auto text = st.text(column);
    if (auto state = matching::parse_state<E>(text)) return *state;
    throw Error(0, "unknown state '" + text + "' in the store (written by a newer casemail?)");
}
using Clock = std::function<std::chrono::system_clock::time_point()>;

// ISO 8601 UTC, second precision: "2026-11-22T10:35:00Z".
std::string format_time(std::chrono::system_clock::time_point t);
std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& iso);

struct Contact {
    Id id = 0;
    std::string name;
    std::string email;
    std::string email_norm;
    std::optional<std::string> phone;
    bool is_guest = false;
    bool is_registered = false;
    std::optional<std::string> archived_at;
    std::optional<Id> merged_into;
    std::string created_at;
};

struct NewContact {
    std::string name;
    std::string email;
    std::optional<std::string> phone;
    bool is_registered = false;
    bool is_guest = false;
};

struct NewAccount {
    std::string kind;  // "property" | "business"
    std::string name;
    std::optional<std::string> civic_address, parcel_id, ward, property_type, business_license,
        category;
};

struct Account {
    Id id = 0;
    NewAccount fields;
};

struct Queue {
    Id id = 0;
    std::string name;
    std::string mailbox;
    std::optional<std::string> display_name;
};

struct NewCase {
    std::string title;
    std::string description;
    Id customer_contact_id = 0;
    std::string origin = "email";
    std::optional<Id> queue_id;
    std::optional<Id> property_account_id, business_account_id, parent_case_id;
    std::optional<std::string> request_type, category;
    std::string priority = "normal";
    bool anonymous = false;
    bool wants_updates = true;
    bool confidential = false;
    bool needs_review = false;
    std::string opened_by;  // the sender's normalised address, for the flood guard; "" for none
    std::string route_rule;  // the routing rule that routed it; "" for none
};

struct CaseRecord {
    Id id = 0;
    std::string token;
    std::string title, description;
    matching::CaseStatus status = matching::CaseStatus::active;
    std::string origin, priority;
    Id customer_contact_id = 0;
    std::optional<Id> property_account_id, business_account_id, queue_id, parent_case_id;
    std::optional<std::string> queue_name, request_type, category, owner;
    bool anonymous = false, wants_updates = true, confidential = false, needs_review = false;
    std::optional<std::string> acknowledged_at, resolved_at, resolution;
    std::string created_at, updated_at;
    std::optional<std::int64_t> email_count;  // filled by list_cases() only
    std::optional<std::string> resolution_type;
    std::optional<std::int64_t> time_spent_minutes;
    std::optional<std::string> route_rule;  // the routing rule that routed it
};

struct CaseFilter {
    std::optional<std::string> queue;   // queue name or mailbox
    std::optional<matching::CaseStatus> status;
    std::optional<std::string> owner;   // "my cases"
    bool waiting = false;               // unassigned and active, oldest first (a team queue)
};

// Fields an admin may change on an active case; unset fields are left alone.
struct CaseEdit {
    std::optional<std::string> title, priority, category, request_type, owner;
    std::optional<Id> property_account_id, business_account_id;
    std::optional<bool> anonymous, wants_updates, confidential;
};

struct Party {
    Id id = 0;
    std::string role;  // from | to | cc | bcc | sender | reply-to
    std::string name;
    std::string address;
    std::optional<Id> contact_id;
    std::optional<Id> queue_id;
    bool resolved = false;
    int candidate_count = 0;
};

struct NewEmail {
    std::optional<Id> case_id;
    matching::Direction direction = matching::Direction::in;
    std::optional<std::string> message_id;
    std::optional<std::string> fingerprint;  // matching::message_fingerprint, inbound with a Message-ID
    std::vector<std::string> in_reply_to, references;
    std::string subject, body_text;
    std::string_view raw;    // the message as received; not copied (insert_email binds it)
    std::string_view raw_sha256;  // computed by insert_email when empty
    std::optional<std::string> mailbox;
    matching::EmailStatus status = matching::EmailStatus::received;
    matching::Evidence evidence;  // how it found its case, when known at insert
    // Its outcome when known at insert (an ingested message is inserted once it was planned):
    // why it has its status, its defects one per line, and why to review it ("" for none).
    std::string status_reason, defects, review_reason;
};

struct EmailRecord {
    Id id = 0;
    std::optional<Id> case_id;
    matching::Direction direction = matching::Direction::in;
    std::optional<std::string> message_id;
    std::string subject;
    std::string received_at;
    matching::EmailStatus status = matching::EmailStatus::received;
    std::string status_reason;
    std::string correlation, correlation_detail;  // how it found its case (matching::Evidence)
    std::optional<std::string> review_reason;     // on the review list, and why
    std::vector<Party> parties;
    std::vector<Id> linked_contact_ids;
};

struct Event {
    Id id = 0;
    std::string at, actor, kind, detail;
    std::optional<Id> case_id, contact_id, email_id;
};

struct StoreOptions {
    std::string token_prefix = "311";
    OpenOptions open;
    Clock clock;  // defaults to the system clock; tests move time
};

class Store {
public:
    // Opens and migrates. Throws Error when the store cannot be opened.
    static Store open(const std::string& path, StoreOptions options = {});

    Database& db() { return db_; }
    int schema_version() const { return schema_version_; }
    // What the migrations run by open() converted, for the operator (usually empty).
    const std::vector<std::string>& migration_notes() const { return migration_notes_; }
    std::chrono::system_clock::time_point now() const;
    std::string now_text() const { return format_time(now()); }

    // Contacts
    Id add_contact(const NewContact& c);
    std::optional<Contact> find_contact(Id id);
    // All contacts, or those whose normalised email equals `email` (archived ones included).
    std::vector<Contact> list_contacts(const std::optional<std::string>& email = std::nullopt);

    // Merges a guest into a registered contact (after the person authenticated on the portal):
    // the guest is archived with merged_into set, every case of it that is not resolved
    // (active or cancelled) gets the registered contact as customer, and its emails are linked
    // to it. Resolved cases keep their customer (they are read-only); the audit log records
    // every change.
    void merge_guest(Id guest_id, Id into_id, const std::string& actor);
    // Archived contacts no longer match incoming mail; their history stays.
    void archive_contact(Id id, const std::string& actor);
    // Archives every guest created before `cutoff` that is not archived or merged yet; returns
    // how many. Keeps the set of contacts an address matches (and so each new email's history
    // links) small for citizens who write often without registering.
    int archive_guests_before(std::chrono::system_clock::time_point cutoff, const std::string& actor);

    // Accounts
    Id add_account(const NewAccount& a);
    std::optional<Account> find_account(Id id);

    // Queues
    Id add_queue(const std::string& name, const std::string& mailbox,
                 const std::optional<std::string>& display_name = std::nullopt);
    std::vector<Queue> list_queues();
    // By name (case-sensitive) or mailbox address (normalised).
    std::optional<Queue> find_queue(const std::string& name_or_mailbox);
    std::optional<Queue> find_queue_by_id(Id id);

    // Cases
    CaseRecord create_case(const NewCase& c, const std::string& actor);
    // create_case() without reading the new case back: ingest needs only its id and token,
    // and the read was one more statement per message on the writer.
    struct OpenedCase {
        Id id = 0;
        std::string token;
    };
    OpenedCase open_case(const NewCase& c, const std::string& actor);
    std::optional<CaseRecord> find_case(const std::string& token);
    std::optional<CaseRecord> find_case(Id id);
    // The work-order system holding the case (store/workorder.hpp), when one does.
    std::optional<std::string> open_work_order_system(Id case_id);
    CaseRecord require_case(const std::string& token);  // Refused when unknown
    std::vector<CaseRecord> list_cases(const CaseFilter& filter = {});
    void resolve_case(const std::string& token, const std::string& resolution,
                      const std::string& actor);
    void reactivate_case(const std::string& token, const std::string& actor);
    void edit_case(const std::string& token, const CaseEdit& edit, const std::string& actor);

    // Emails. insert_email throws ConstraintError for a duplicate (direction, fingerprint) or,
    // without a Message-ID, a duplicate (direction, sha256).
    Id insert_email(const NewEmail& e);
    Id add_party(Id email_id, const Party& p);
    void link_email_contact(Id email_id, Id contact_id);
    std::vector<EmailRecord> case_emails(Id case_id);

    // Audit log
    void record_event(const std::string& actor, const std::string& kind,
                      std::optional<Id> case_id, std::optional<Id> contact_id,
                      std::optional<Id> email_id, const std::string& detail);
    std::vector<Event> case_events(Id case_id);

private:
    Store(Database db, StoreOptions options);
    std::string draw_token();
    void mark_archived(Id id, const std::string& actor, const std::string& detail);
    CaseRecord read_case(Statement& st);

    Database db_;
    StoreOptions options_;
    int schema_version_ = 0;
    std::vector<std::string> migration_notes_;
};

}  // namespace casemail::store
