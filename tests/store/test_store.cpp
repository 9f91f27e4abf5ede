#include <doctest/doctest.h>

#include <filesystem>
#include <fmt/format.h>
#include <set>
#include <stdexcept>

#include "matching/token.hpp"
#include "store/ingest.hpp"
#include "store/migrations.hpp"
#include "store/store.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail::store;

namespace {

struct TempStore {
    casemail::test::TempDir tmp;
    std::string path = tmp.file("store.db");
};

Id registered(Store& s, const std::string& email, const std::string& name = "Citizen") {
    return s.add_contact({name, email, std::nullopt, true, false});
}

}  // namespace

TEST_CASE("migrations apply once and are idempotent on reopen") {
    TempStore t;
    {
        auto s = Store::open(t.path);
        CHECK(s.schema_version() == migrations().back().version);
        registered(s, "a@example.org");
    }
    auto s = Store::open(t.path);  // second open: nothing re-applied, data intact
    CHECK(s.schema_version() == migrations().back().version);
    CHECK(s.list_contacts().size() == 1);
    CHECK(migrate(s.db()) == migrations().back().version);
}

TEST_CASE("a store from a newer casemail is refused") {
    TempStore t;
    { auto s = Store::open(t.path); s.db().exec("PRAGMA user_version = 999"); }
    CHECK_THROWS_WITH_AS(Store::open(t.path), doctest::Contains("newer than this casemail"), Error);
}

TEST_CASE("opening a store in a missing directory names the directory") {
    CHECK_THROWS_WITH_AS(Store::open("/nonexistent-casemail-dir/x.db"),
                         doctest::Contains("directory '/nonexistent-casemail-dir' does not exist"),
                         Error);
}

TEST_CASE("store pragmas are WAL with foreign keys and synchronous FULL") {
    TempStore t;
    auto s = Store::open(t.path);
    auto mode = s.db().prepare("PRAGMA journal_mode");
    REQUIRE(mode.step());
    CHECK(mode.text(0) == "wal");
    auto fk = s.db().prepare("PRAGMA foreign_keys");
    REQUIRE(fk.step());
    CHECK(fk.int64(0) == 1);
    auto sync = s.db().prepare("PRAGMA synchronous");
    REQUIRE(sync.step());
    CHECK(sync.int64(0) == 2);  // FULL
}

TEST_CASE("ten thousand token allocations are unique and well formed") {
    TempStore t;
    auto s = Store::open(t.path);
    auto customer = registered(s, "many@example.org");
    std::set<std::string> tokens, suffixes;
    Transaction tx(s.db());
    for (int i = 0; i < 10000; ++i) {
        NewCase c;
        c.title = "case";
        c.customer_contact_id = customer;
        auto rec = s.create_case(c, "test");
        auto parts = casemail::matching::parse_token(rec.token);
        REQUIRE(parts);
        CHECK(parts->prefix == "311");
        CHECK(parts->sequence == static_cast<std::uint64_t>(i + 1));
        tokens.insert(rec.token);
        suffixes.insert(parts->suffix);
    }
    tx.commit();
    CHECK(tokens.size() == 10000);
    // 36^4 = 1.68M suffixes: 10,000 draws collide only a few dozen times if uniform.
    CHECK(suffixes.size() > 9900);
}

TEST_CASE("open_case returns the id and token create_case would read back, and records the creation") {
    TempStore t;
    auto s = Store::open(t.path);
    auto customer = registered(s, "opened@example.org");
    NewCase c;
    c.title = "pothole";
    c.customer_contact_id = customer;
    auto first = s.create_case(c, "test");
    auto opened = s.open_case(c, "ingest");
    CHECK(opened.id == first.id + 1);
    auto read = s.find_case(opened.id);
    REQUIRE(read);
    CHECK(read->token == opened.token);
    CHECK(casemail::matching::parse_token(opened.token)->sequence == 2);
    CHECK(read->customer_contact_id == customer);
    auto st = s.db().prepare("SELECT actor, kind FROM event WHERE case_id = ?1");
    st.bind(1, opened.id);
    REQUIRE(st.step());
    CHECK(st.text(0) == "ingest");
    CHECK(st.text(1) == "created");
    c.customer_contact_id = 0;
    CHECK_THROWS_AS(s.open_case(c, "ingest"), Refused);
}

TEST_CASE("a case must have an existing contact as customer") {
    TempStore t;
    auto s = Store::open(t.path);
    NewCase c;
    c.title = "no customer";
    SUBCASE("missing customer is refused by the API") {
        CHECK_THROWS_AS(s.create_case(c, "test"), Refused);
    }
    SUBCASE("NULL customer is refused by the schema") {
        CHECK_THROWS_AS(s.db().exec(R"(INSERT INTO "case"(token, token_sequence, title, origin,
            created_at, updated_at) VALUES ('311-000001-AAAA', 1, 't', 'email', 'x', 'x'))"),
                        ConstraintError);
    }
    SUBCASE("unknown contact id is refused by the foreign key") {
        c.customer_contact_id = 4242;
        CHECK_THROWS_AS(s.create_case(c, "test"), ConstraintError);
        CHECK(s.list_cases().empty());  // the savepoint rolled the token allocation back too
    }
}

TEST_CASE("accounts give context only and must sit in the column of their kind") {
    TempStore t;
    auto s = Store::open(t.path);
    auto customer = registered(s, "owner@example.org");
    auto property = s.add_account({"property", "12 Elm St", "12 Elm St", "P-1", "Ward 3", {}, {}, {}});
    auto business = s.add_account({"business", "Elm Deli", {}, {}, {}, {}, "BL-9", "food"});
    NewCase c;
    c.title = "Tree down";
    c.customer_contact_id = customer;
    c.property_account_id = property;
    c.business_account_id = business;
    auto rec = s.create_case(c, "test");
    CHECK(rec.property_account_id == property);
    CHECK(rec.customer_contact_id == customer);
    c.property_account_id = business;  // a business in the property column
    CHECK_THROWS_WITH(s.create_case(c, "test"), doctest::Contains("account kind"));
}

TEST_CASE("resolve and reactivate rules") {
    TempStore t;
    auto s = Store::open(t.path);
    NewCase c;
    c.title = "Missed trash pickup";
    c.customer_contact_id = registered(s, "r@example.org");
    auto rec = s.create_case(c, "test");

    s.resolve_case(rec.token, "Picked up on Tuesday", "agent:kim");
    auto resolved = s.require_case(rec.token);
    CHECK(resolved.status == casemail::matching::CaseStatus::resolved);
    CHECK(resolved.resolution == "Picked up on Tuesday");
    CHECK(resolved.resolved_at.has_value());

    SUBCASE("a resolved case is read-only") {
        CaseEdit e;
        e.title = "changed";
        CHECK_THROWS_WITH_AS(s.edit_case(rec.token, e, "agent"), doctest::Contains("reactivate"),
                             Refused);
        // The schema enforces it too, for any writer that bypasses the API.
        CHECK_THROWS_WITH(
            s.db().exec(fmt::format(R"(UPDATE "case" SET title = 'x' WHERE id = {})", rec.id)),
            doctest::Contains("case is resolved"));
        CHECK_THROWS_AS(s.resolve_case(rec.token, "again", "agent"), Refused);
    }
    SUBCASE("reactivation clears the resolution and keeps it in the audit log") {
        s.reactivate_case(rec.token, "agent:kim");
        auto active = s.require_case(rec.token);
        CHECK(active.status == casemail::matching::CaseStatus::active);
        CHECK_FALSE(active.resolution.has_value());
        CHECK_FALSE(active.resolved_at.has_value());
        auto events = s.case_events(rec.id);
        REQUIRE(events.size() == 3);
        CHECK(events[0].kind == "created");
        CHECK(events[1].kind == "resolved");
        CHECK(events[2].kind == "reactivated");
        CHECK(events[2].detail.find("Picked up on Tuesday") != std::string::npos);
        CaseEdit e;
        e.priority = "high";
        s.edit_case(rec.token, e, "agent");
        CHECK(s.require_case(rec.token).priority == "high");
        CHECK_THROWS_AS(s.reactivate_case(rec.token, "agent"), Refused);
    }
}

TEST_CASE("tokens are found case-insensitively and unknown tokens are refused") {
    TempStore t;
    auto s = Store::open(t.path);
    NewCase c;
    c.title = "x";
    c.customer_contact_id = registered(s, "t@example.org");
    auto rec = s.create_case(c, "test");
    std::string lower = rec.token;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    CHECK(s.find_case(lower)->id == rec.id);
    if (rec.token != "311-000001-ZZZZ") CHECK_FALSE(s.find_case("311-000001-ZZZZ").has_value());
    CHECK_FALSE(s.find_case("not-a-token").has_value());
    CHECK_THROWS_AS(s.require_case("311-999999-AAAA"), Refused);
}

TEST_CASE("contacts may share an address and lookup is by normalised address") {
    TempStore t;
    auto s = Store::open(t.path);
    registered(s, "Family@Example.org", "Parent");
    registered(s, "family@example.org", "Teen");
    s.add_contact({"Guest", " FAMILY@example.ORG ", std::nullopt, false, true});
    registered(s, "other@example.org");
    auto same = s.list_contacts("family@EXAMPLE.org");
    REQUIRE(same.size() == 3);
    CHECK(same[0].email == "Family@Example.org");  // stored as given
    CHECK(same[0].email_norm == "family@example.org");
    CHECK(same[2].is_guest);
    CHECK_THROWS_AS(s.db().exec("INSERT INTO contact(full_name, is_guest, is_registered, "
                                "created_at) VALUES ('x', 1, 1, 'now')"),
                    ConstraintError);
}

TEST_CASE("emails are unique on direction and fingerprint, or else on sha256; a Message-ID may repeat") {
    TempStore t;
    auto s = Store::open(t.path);
    NewEmail e;
    e.message_id = "abc@example.org";
    e.fingerprint = std::string(64, 'a');
    e.raw = "Message-ID: <abc@example.org>\r\n\r\nhello";
    s.insert_email(e);
    CHECK_THROWS_AS(s.insert_email(e), ConstraintError);
    e.direction = casemail::matching::Direction::out;
    CHECK_NOTHROW(s.insert_email(e));  // same fingerprint, other direction
    e.direction = casemail::matching::Direction::in;
    e.fingerprint = std::string(64, 'b');  // another message reusing the Message-ID
    e.raw = "Message-ID: <abc@example.org>\r\n\r\nhello!";
    CHECK_NOTHROW(s.insert_email(e));

    NewEmail anon;
    anon.raw = "Subject: no id\r\n\r\nbody";
    s.insert_email(anon);
    CHECK_THROWS_AS(s.insert_email(anon), ConstraintError);
    anon.raw = "Subject: no id\r\n\r\nbody!";
    CHECK_NOTHROW(s.insert_email(anon));
}

TEST_CASE("raw messages on either side of the in-place size are stored byte for byte, with their body text") {
    TempStore t;
    auto s = Store::open(t.path);
    // 256 KiB is where insert_email switches to zeroblob + incremental write.
    for (std::size_t size : {std::size_t{256 * 1024 - 1}, std::size_t{256 * 1024}, std::size_t{3 << 20}}) {
        CAPTURE(size);
        auto message_id = fmt::format("big-{}@example.org", size);
        auto raw = fmt::format("Message-ID: <{}>\r\n\r\n", message_id);
        for (std::size_t i = 0; raw.size() < size; ++i) raw += static_cast<char>(i * 131 % 251);
        NewEmail e;
        e.message_id = message_id;
        e.fingerprint = std::string(64, static_cast<char>('a' + size % 26));
        e.raw = raw;
        e.body_text = std::string(size / 2, 'x') + "end";
        auto id = s.insert_email(e);
        CHECK(email_raw(s, id) == raw);
        auto body = s.db().prepare("SELECT body_text FROM email WHERE id = ?1");
        body.bind(1, id);
        REQUIRE(body.step());
        CHECK(body.text(0) == e.body_text);
    }
}

TEST_CASE("write_blob writes in place and refuses a missing row or a range past the value's end") {
    TempStore t;
    auto s = Store::open(t.path);
    auto& db = s.db();
    db.exec("CREATE TABLE b(id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    db.exec("INSERT INTO b(id, v) VALUES (1, zeroblob(10))");
    db.write_blob("b", "v", 1, "abc", 7);
    CHECK(db.read_blob_range("b", "v", 1, 0, 10) == std::string(7, '\0') + "abc");
    CHECK_THROWS_AS(db.write_blob("b", "v", 1, "abcd", 7), std::logic_error);  // N+1 past the end
    CHECK_THROWS_AS(db.write_blob("b", "v", 1, "x", 11), std::logic_error);
    CHECK_THROWS(db.write_blob("b", "v", 2, "x"));  // no such row
    CHECK(db.read_blob_range("b", "v", 1, 0, 10) == std::string(7, '\0') + "abc");  // unchanged by the refusals
}

TEST_CASE("migration 22 keeps every email and the duplicate rule with one index for Message-ID and fingerprint") {
    TempStore t;
    {
        auto db = Database::open(t.path);
        for (const auto& m : migrations()) {
            if (m.version > 21) break;
            db.exec(m.sql);
            if (m.convert) m.convert(db);
        }
        db.exec("PRAGMA user_version = 21");
        db.exec("INSERT INTO email(direction, message_id, fingerprint, raw_sha256, received_at, status) VALUES "
                "('in', 'a@x', 'f1', 's1', 'now', 'created'), ('in', 'a@x', 'f2', 's2', 'now', 'created'), "
                "('out', 'a@x', 'f1', 's3', 'now', 'created'), ('in', NULL, NULL, 's4', 'now', 'created')");
    }
    auto s = Store::open(t.path);
    CHECK(s.schema_version() == migrations().back().version);
    auto count = [&](const std::string& sql) {
        auto st = s.db().prepare(sql);
        st.step();
        return st.int64(0);
    };
    CHECK(count("SELECT count(*) FROM email") == 4);
    CHECK(count("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                "('email_message_id', 'email_unique_fingerprint')") == 0);
    CHECK(count("SELECT count(*) FROM sqlite_schema WHERE name = 'email_message_id_fingerprint'") == 1);
    // The same message again (its fingerprint names its Message-ID) is refused; a reuse is not.
    CHECK_THROWS_AS(s.db().exec("INSERT INTO email(direction, message_id, fingerprint, raw_sha256, received_at, status) "
                                "VALUES ('in', 'a@x', 'f1', 's5', 'now', 'created')"),
                    ConstraintError);
    CHECK_NOTHROW(s.db().exec("INSERT INTO email(direction, message_id, fingerprint, raw_sha256, received_at, status) "
                              "VALUES ('in', 'a@x', 'f3', 's6', 'now', 'created')"));
    // Every lookup by Message-ID is served by the new index.
    auto plan = s.db().prepare("EXPLAIN QUERY PLAN SELECT id FROM email WHERE message_id = 'a@x'");
    REQUIRE(plan.step());
    CHECK(plan.text(3).find("email_message_id_fingerprint") != std::string::npos);
}

TEST_CASE("migration 23: the audit log is indexed by case only, and a case's history still uses it") {
    TempStore t;
    auto s = Store::open(t.path);
    auto st = s.db().prepare("SELECT group_concat(name) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'event'");
    st.step();
    CHECK(st.text(0) == "event_case");
    auto plan = s.db().prepare("EXPLAIN QUERY PLAN SELECT id FROM event WHERE case_id = 1 ORDER BY id");
    REQUIRE(plan.step());
    CHECK(plan.text(3).find("event_case") != std::string::npos);
}

TEST_CASE("case emails list parties and history links") {
    TempStore t;
    auto s = Store::open(t.path);
    auto a = registered(s, "shared@example.org", "A");
    auto b = registered(s, "shared@example.org", "B");
    NewCase c;
    c.title = "x";
    c.customer_contact_id = a;
    auto rec = s.create_case(c, "test");
    NewEmail e;
    e.case_id = rec.id;
    e.message_id = "m1@example.org";
    e.raw = "raw";
    auto eid = s.insert_email(e);
    s.add_party(eid, {0, "from", "Shared", "shared@example.org", std::nullopt, std::nullopt, false, 2});
    s.link_email_contact(eid, a);
    s.link_email_contact(eid, b);
    s.link_email_contact(eid, b);  // idempotent
    auto emails = s.case_emails(rec.id);
    REQUIRE(emails.size() == 1);
    CHECK(emails[0].linked_contact_ids == std::vector<Id>{a, b});
    REQUIRE(emails[0].parties.size() == 1);
    CHECK_FALSE(emails[0].parties[0].resolved);
    CHECK(emails[0].parties[0].candidate_count == 2);
    CHECK_FALSE(s.require_case(rec.token).email_count.has_value());  // counted only for listings
    REQUIRE(s.list_cases().size() == 1);
    CHECK(s.list_cases()[0].email_count == 1);
    // A resolved party must name what it resolved to.
    CHECK_THROWS_AS(s.add_party(eid, {0, "to", "", "x@example.org", std::nullopt, std::nullopt, true, 1}),
                    ConstraintError);
}

TEST_CASE("queues have unique names and mailboxes and are found by either") {
    TempStore t;
    auto s = Store::open(t.path);
    s.add_queue("Public Works", "311PublicWorks@city.example");
    CHECK(s.find_queue("311publicworks@CITY.example")->name == "Public Works");
    CHECK(s.find_queue("Public Works")->mailbox == "311PublicWorks@city.example");
    CHECK_FALSE(s.find_queue("DWP").has_value());
    CHECK_THROWS_AS(s.add_queue("Public Works", "other@city.example"), Refused);
    CHECK_THROWS_AS(s.add_queue("Other", "311publicworks@city.example"), Refused);
}

TEST_CASE("time format round-trips") {
    auto t = parse_time("2026-11-22T10:35:07Z");
    REQUIRE(t);
    CHECK(format_time(*t) == "2026-11-22T10:35:07Z");
    CHECK_FALSE(parse_time("yesterday"));
    CHECK(format_time(*parse_time("2199-12-31T23:59:59Z")) == "2199-12-31T23:59:59Z");
    CHECK_FALSE(parse_time("2200-01-01T00:00:00Z"));  // past what we accept (system_clock ends in 2262)
    CHECK_FALSE(parse_time("2999-01-01T00:00:00Z"));  // would overflow the nanoseconds
    CHECK_FALSE(parse_time("1969-12-31T23:59:59Z"));
}

TEST_CASE("a rollback that fails in a destructor is logged, not swallowed; one SQLite already did is not tried") {
    TempStore t;
    auto s = Store::open(t.path);
    std::vector<std::string> logged;
    set_failure_log([&](const std::string& what) { logged.push_back(what); });
    {
        Transaction tx(s.db());
        Savepoint sp(s.db(), "probe");
        s.db().exec("RELEASE probe");  // the savepoint is gone, the transaction is not
    }
    {
        Transaction tx(s.db());
        Savepoint sp(s.db(), "inner");
        s.db().exec("ROLLBACK");  // as SQLite does by itself after SQLITE_FULL or SQLITE_IOERR
    }
    {
        Transaction tx(s.db());  // a normal rollback logs nothing
    }
    CHECK_FALSE(s.db().in_transaction());
    set_failure_log(nullptr);
    REQUIRE(logged.size() == 1);
    CHECK(logged[0].find("ROLLBACK TO probe failed") != std::string::npos);
    CHECK(logged[0].find("no such savepoint") != std::string::npos);
}
