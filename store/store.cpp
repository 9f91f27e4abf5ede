// The Store: opening (and migrating) it, time, contacts, accounts and queues; its cases, their
// emails and the audit log are in cases.cpp.
#include "store/store.hpp"

#include <ctime>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <iomanip>
#include <sstream>

#include "matching/token.hpp"
#include "mime/address.hpp"
#include "store/migrations.hpp"

namespace casemail::store {
namespace {

Contact read_contact(Statement& st) {
    Contact c;
    c.id = st.int64(0);
    c.name = st.text(1);
    c.email = st.text(2);
    c.email_norm = st.text(3);
    c.phone = st.opt_text(4);
    c.is_guest = st.int64(5) != 0;
    c.is_registered = st.int64(6) != 0;
    c.archived_at = st.opt_text(7);
    c.merged_into = st.opt_int64(8);
    c.created_at = st.text(9);
    return c;
}

constexpr const char* contact_columns =
    "id, full_name, email, email_norm, phone, is_guest, is_registered, archived_at, "
    "merged_into, created_at FROM contact ";

}  // namespace

std::string format_time(std::chrono::system_clock::time_point t) {
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", secs);
}

std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& iso) {
    std::tm tm{};
    std::istringstream in(iso);
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
    if (in.fail()) return std::nullopt;
    // system_clock counts nanoseconds in 64 bits: it ends in 2262. A year past 2199 (a typo,
    // or input meant to overflow) is refused rather than wrapped (UBSan found "2999-01-01").
    auto t = timegm(&tm);
    if (t < 0 || t >= 7258118400) return std::nullopt;  // 1970-01-01 .. 2199-12-31
    return std::chrono::system_clock::from_time_t(t);
}

Store::Store(Database db, StoreOptions options) : db_(std::move(db)), options_(std::move(options)) {}

Store Store::open(const std::string& path, StoreOptions options) {
    if (!matching::valid_token_prefix(options.token_prefix))
        throw std::invalid_argument(
            fmt::format("invalid token prefix '{}': use 1-16 characters A-Z, 0-9",
                        options.token_prefix));
    Store s(Database::open(path, options.open), std::move(options));
    s.schema_version_ = migrate(s.db_, &s.migration_notes_);
    return s;
}

std::chrono::system_clock::time_point Store::now() const {
    return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

// ---- contacts ---------------------------------------------------------------------------

Id Store::add_contact(const NewContact& c) {
    auto st = db_.cached(
        "INSERT INTO contact(full_name, email, email_norm, phone, is_guest, is_registered, "
        "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    st->bind_all(c.name, c.email, mime::normalize_address(c.email), c.phone, c.is_guest,
                c.is_registered, now_text());
    st->run();
    return db_.last_insert_rowid();
}

std::optional<Contact> Store::find_contact(Id id) {
    auto st = db_.cached(std::string("SELECT ") + contact_columns + "WHERE id = ?1");
    st->bind(1, id);
    if (!st->step()) return std::nullopt;
    return read_contact(*st);
}

std::vector<Contact> Store::list_contacts(const std::optional<std::string>& email) {
    std::vector<Contact> out;
    if (email) {
        auto st =
            db_.cached(std::string("SELECT ") + contact_columns + "WHERE email_norm = ?1 ORDER BY id");
        st->bind(1, mime::normalize_address(*email));
        while (st->step()) out.push_back(read_contact(*st));
    } else {
        auto st = db_.cached(std::string("SELECT ") + contact_columns + "ORDER BY id");
        while (st->step()) out.push_back(read_contact(*st));
    }
    return out;
}

void Store::merge_guest(Id guest_id, Id into_id, const std::string& actor) {
    auto guest = find_contact(guest_id);
    auto into = find_contact(into_id);
    if (!guest) throw Refused(fmt::format("no contact with id {}", guest_id));
    if (!into) throw Refused(fmt::format("no contact with id {}", into_id));
    if (!guest->is_guest) throw Refused(fmt::format("contact {} is not a guest", guest_id));
    if (!into->is_registered) throw Refused(fmt::format("contact {} is not registered: merge guests into a registered contact", into_id));
    if (guest->merged_into) throw Refused(fmt::format("guest {} was already merged into {}", guest_id, *guest->merged_into));
    if (into->archived_at) throw Refused(fmt::format("contact {} is archived", into_id));
    Savepoint sp(db_, "merge_guest");
    auto now = now_text();
    auto st = db_.cached("UPDATE contact SET merged_into = ?2, archived_at = coalesce(archived_at, ?3) WHERE id = ?1");
    st->bind_all(guest_id, into_id, now);
    st->run();
    std::vector<std::pair<Id, std::string>> moved;
    {
        auto cs = db_.cached(R"(SELECT id, token FROM "case" WHERE customer_contact_id = ?1 AND status <> 'resolved')");
        cs->bind(1, guest_id);
        while (cs->step()) moved.emplace_back(cs->int64(0), cs->text(1));
    }
    for (const auto& [case_id, token] : moved) {
        auto up = db_.cached(R"(UPDATE "case" SET customer_contact_id = ?2, updated_at = ?3 WHERE id = ?1)");
        up->bind_all(case_id, into_id, now);
        up->run();
        record_event(actor, "customer-changed", case_id, into_id, std::nullopt,
                     fmt::format("guest {} merged into contact {}", guest_id, into_id));
    }
    auto links = db_.cached(
        "INSERT OR IGNORE INTO email_contact(email_id, contact_id) SELECT email_id, ?2 FROM email_contact WHERE contact_id = ?1");
    links->bind_all(guest_id, into_id);
    links->run();
    record_event(actor, "merged", std::nullopt, guest_id, std::nullopt,
                 fmt::format("guest {} merged into contact {}; {} active case(s) moved", guest_id, into_id, moved.size()));
    sp.release();
}

void Store::archive_contact(Id id, const std::string& actor) {
    auto c = find_contact(id);
    if (!c) throw Refused(fmt::format("no contact with id {}", id));
    if (c->archived_at) throw Refused(fmt::format("contact {} is already archived", id));
    Savepoint sp(db_, "archive_contact");
    mark_archived(id, actor, c->is_guest ? "guest" : "contact");
    sp.release();
}

void Store::mark_archived(Id id, const std::string& actor, const std::string& detail) {
    auto st = db_.cached("UPDATE contact SET archived_at = ?2 WHERE id = ?1");
    st->bind_all(id, now_text());
    st->run();
    record_event(actor, "archived", std::nullopt, id, std::nullopt, detail);
}

int Store::archive_guests_before(std::chrono::system_clock::time_point cutoff, const std::string& actor) {
    Savepoint sp(db_, "archive_guests");
    std::vector<Id> ids;
    {
        auto st = db_.cached(
            "SELECT id FROM contact WHERE is_guest = 1 AND archived_at IS NULL AND merged_into IS NULL "
            "AND created_at < ?1 ORDER BY id");
        st->bind(1, format_time(cutoff));
        while (st->step()) ids.push_back(st->int64(0));
    }
    auto detail = fmt::format("guest created before {}", format_time(cutoff));
    for (Id id : ids) mark_archived(id, actor, detail);
    sp.release();
    return static_cast<int>(ids.size());
}

// ---- accounts ---------------------------------------------------------------------------

Id Store::add_account(const NewAccount& a) {
    auto st = db_.cached(
        "INSERT INTO account(kind, name, civic_address, parcel_id, ward, property_type, "
        "business_license, category, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    st->bind_all(a.kind, a.name, a.civic_address, a.parcel_id, a.ward, a.property_type,
                a.business_license, a.category, now_text());
    st->run();
    return db_.last_insert_rowid();
}

std::optional<Account> Store::find_account(Id id) {
    auto st = db_.cached(
        "SELECT id, kind, name, civic_address, parcel_id, ward, property_type, business_license, "
        "category FROM account WHERE id = ?1");
    st->bind(1, id);
    if (!st->step()) return std::nullopt;
    Account a;
    a.id = st->int64(0);
    a.fields.kind = st->text(1);
    a.fields.name = st->text(2);
    a.fields.civic_address = st->opt_text(3);
    a.fields.parcel_id = st->opt_text(4);
    a.fields.ward = st->opt_text(5);
    a.fields.property_type = st->opt_text(6);
    a.fields.business_license = st->opt_text(7);
    a.fields.category = st->opt_text(8);
    return a;
}

// ---- queues -----------------------------------------------------------------------------

Id Store::add_queue(const std::string& name, const std::string& mailbox,
                    const std::optional<std::string>& display_name) {
    auto st = db_.cached(
        "INSERT INTO queue(name, mailbox, mailbox_norm, display_name, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    st->bind_all(name, mailbox, mime::normalize_address(mailbox), display_name, now_text());
    try {
        st->run();
    } catch (const ConstraintError&) {
        throw Refused(fmt::format("a queue named '{}' or with mailbox '{}' already exists", name,
                                  mailbox));
    }
    return db_.last_insert_rowid();
}

std::vector<Queue> Store::list_queues() {
    std::vector<Queue> out;
    auto st = db_.cached("SELECT id, name, mailbox, display_name FROM queue ORDER BY id");
    while (st->step()) out.push_back({st->int64(0), st->text(1), st->text(2), st->opt_text(3)});
    return out;
}

std::optional<Queue> Store::find_queue(const std::string& name_or_mailbox) {
    auto st = db_.cached(
        "SELECT id, name, mailbox, display_name FROM queue WHERE name = ?1 OR mailbox_norm = ?2 "
        "ORDER BY name = ?1 DESC LIMIT 1");
    st->bind_all(name_or_mailbox, mime::normalize_address(name_or_mailbox));
    if (!st->step()) return std::nullopt;
    return Queue{st->int64(0), st->text(1), st->text(2), st->opt_text(3)};
}

std::optional<Queue> Store::find_queue_by_id(Id id) {
    auto st = db_.cached("SELECT id, name, mailbox, display_name FROM queue WHERE id = ?1");
    st->bind(1, id);
    if (!st->step()) return std::nullopt;
    return Queue{st->int64(0), st->text(1), st->text(2), st->opt_text(3)};
}

}  // namespace casemail::store
