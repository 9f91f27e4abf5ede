// Attachments by reference: rows that point into the raw message, reading them back, and
// migration 7's conversion of a store that kept every attachment's decoded bytes.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <string>

#include "mime/compose.hpp"
#include "mime/digest.hpp"
#include "mime/message.hpp"
#include "store/attachments.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/store.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail::store;
namespace mime = casemail::mime;

namespace {

std::string payload(int n, int seed) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>((i * 31 + seed) % 256);
    return s;
}

std::string mail_with(const std::string& data, const std::string& name = "scan.pdf") {
    return "From: a@example.org\r\nSubject: scan\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
           "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n"
           "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"" + name +
           "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + mime::base64_lines(data) + "--b--\r\n";
}

Id insert_email(Store& s, const std::string& raw) {
    NewEmail e;
    e.raw = raw;
    return s.insert_email(e);
}

// An email as casemail stored it before migration 8 (raw message in the email row).
Id old_style_email(Database& db, const std::string& raw) {
    auto st = db.prepare(
        "INSERT INTO email(direction, raw, raw_sha256, received_at) VALUES ('in', ?1, ?2, '2026-01-01T00:00:00Z')");
    st.bind(1, as_blob(raw));
    st.bind(2, mime::sha256_hex(raw));
    st.run();
    return db.last_insert_rowid();
}

// The records the inbound pipeline would hand over for `raw`.
std::vector<AttachmentRecord> records_of(const mime::ParsedMessage& m, bool blocked = false) {
    std::vector<AttachmentRecord> out;
    for (const auto& a : m.attachments)
        out.push_back({a.filename, a.content_type, a.size, a.sha256, blocked, a.raw_offset, a.raw_length,
                       a.transfer_encoding, a.data});
    return out;
}

std::int64_t count(Database& db, const std::string& sql) {
    auto st = db.prepare(sql);
    st.step();
    return st.int64(0);
}

// An attachment row as casemail wrote it before migration 7: decoded bytes in attachment_blob.
void old_style_attachment(Database& db, Id email_id, const std::string& data, const std::string& sha256) {
    auto blob = db.prepare("INSERT OR IGNORE INTO attachment_blob(sha256, content) VALUES (?1, ?2)");
    blob.bind(1, sha256);
    blob.bind(2, as_blob(data));
    blob.run();
    auto row = db.prepare("INSERT INTO attachment(email_id, filename, content_type, size, sha256) VALUES (?1, 'f', "
                          "'application/pdf', ?2, ?3)");
    row.bind_all(email_id, static_cast<std::int64_t>(data.size()), sha256);
    row.run();
}

}  // namespace

TEST_CASE("a new store reports no conversion") {
    casemail::test::TempDir tmp;
    CHECK(Store::open(tmp.file("store.db")).migration_notes().empty());
}

TEST_CASE("attachments are kept by reference and read back from the raw message") {
    casemail::test::TempDir tmp;
    auto s = Store::open(tmp.file("store.db"));
    auto data = payload(100000, 1);
    auto raw = mail_with(data);
    auto parsed = mime::parse_message(raw, {}, mime::ParseOptions{.keep_referenced_data = false});
    REQUIRE(parsed.has_value());
    REQUIRE(parsed->attachments.size() == 1);
    CHECK(parsed->attachments[0].data.empty());
    auto email = insert_email(s, raw);
    store_attachments(s.db(), email, records_of(*parsed));

    CHECK(count(s.db(), "SELECT count(*) FROM attachment_blob") == 0);
    auto listed = email_attachments(s, email);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].index == 1);
    CHECK(listed[0].filename == "scan.pdf");
    CHECK(listed[0].size == data.size());
    CHECK(listed[0].content == AttachmentContent::reference);
    CHECK(read_attachment(s, email, 1) == data);

    const auto missing = "email " + std::to_string(email) + " has no attachment 2";
    CHECK_THROWS_WITH_AS(read_attachment(s, email, 2), missing.c_str(), Refused);
    CHECK_THROWS_AS(read_attachment(s, email + 1, 1), Refused);

    SUBCASE("damaged bytes are refused, not handed out") {
        auto at = *parsed->attachments[0].raw_offset + 10;
        s.db().exec(fmt::format("UPDATE email_raw SET raw = substr(raw, 1, {}) || X'41' || substr(raw, {}) WHERE email_id = {}",
                                at, at + 2, email));
        CHECK_THROWS_WITH_AS(read_attachment(s, email, 1), doctest::Contains("no longer give SHA-256"), Refused);
    }
    SUBCASE("a raw message cut short is refused") {
        s.db().exec(fmt::format("UPDATE email_raw SET raw = substr(raw, 1, 200) WHERE email_id = {}", email));
        CHECK_THROWS_WITH_AS(read_attachment(s, email, 1), doctest::Contains("no longer give SHA-256"), Refused);
    }
}

TEST_CASE("blocked attachments keep metadata only; unlocated ones keep their bytes") {
    casemail::test::TempDir tmp;
    auto s = Store::open(tmp.file("store.db"));
    auto raw = mail_with(payload(5000, 2), "setup.exe");
    auto parsed = mime::parse_message(raw, {}, mime::ParseOptions{.keep_referenced_data = false});
    REQUIRE(parsed.has_value());
    auto email = insert_email(s, raw);
    store_attachments(s.db(), email, records_of(*parsed, true));
    CHECK(count(s.db(), "SELECT count(*) FROM attachment WHERE raw_offset IS NULL AND stored = 0 AND blocked = 1") == 1);
    CHECK(email_attachments(s, email).at(0).content == AttachmentContent::blocked);
    CHECK_THROWS_WITH_AS(read_attachment(s, email, 1), doctest::Contains("blocked type"), Refused);

    // A forwarded message is re-serialised by the parser: its bytes go to attachment_blob.
    std::string fwd = "Subject: fwd\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
                      "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: x@example.org\r\n\r\n"
                      "the inner body of the forwarded complaint\r\n--b--\r\n";
    auto fparsed = mime::parse_message(fwd, {}, mime::ParseOptions{.keep_referenced_data = false});
    REQUIRE(fparsed.has_value());
    auto fwd_email = insert_email(s, fwd);
    store_attachments(s.db(), fwd_email, records_of(*fparsed));
    CHECK(email_attachments(s, fwd_email).at(0).content == AttachmentContent::blob);
    CHECK(read_attachment(s, fwd_email, 1) == fparsed->attachments[0].data);
}

TEST_CASE("migration 7 converts blobs it can reproduce and keeps the rest") {
    casemail::test::TempDir tmp;
    auto path = tmp.file("store.db");
    auto shared = payload(40000, 3), single = payload(30000, 4), damaged = payload(20000, 5);
    Id converts = 0, shares = 0, mismatch = 0;
    {
        auto db = Database::open(path);
        for (const auto& m : migrations()) {
            if (m.version > 6) break;  // a store as casemail 0.x left it, attachments as blobs
            db.exec(m.sql);
            db.exec(fmt::format("PRAGMA user_version = {}", m.version));
        }
        // Email 1 carries `shared` and `single`, both decodable from its raw message.
        auto raw = "From: a@example.org\r\nSubject: two\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                   "--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                   mime::base64_lines(shared) +
                   "--b\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                   mime::base64_lines(single) + "--b--\r\n";
        converts = old_style_email(db, raw);
        old_style_attachment(db, converts, shared, mime::sha256_hex(shared));
        old_style_attachment(db, converts, single, mime::sha256_hex(single));
        // Email 2 has a row for `shared` too, but its raw message does not hold it.
        shares = old_style_email(db, "From: b@example.org\r\nSubject: text only\r\n\r\nno parts here\r\n");
        old_style_attachment(db, shares, shared, mime::sha256_hex(shared));
        // Email 3 holds `damaged`, but its row's digest says otherwise.
        mismatch = old_style_email(db, mail_with(damaged));
        old_style_attachment(db, mismatch, "recorded before the damage", mime::sha256_hex("recorded before the damage"));
    }
    auto s = Store::open(path);
    CHECK(s.schema_version() == migrations().back().version);
    REQUIRE(s.migration_notes().size() == 1);
    CHECK(s.migration_notes()[0] ==
          "migration 7: attachments by reference: 2 converted, 2 kept their stored bytes; 1 blobs (30000 bytes) "
          "dropped");
    auto& db = s.db();
    // `single` was dropped after its decode matched; `shared` stays for email 2, and email 3's
    // blob stays because its decode did not match.
    CHECK(count(db, "SELECT count(*) FROM attachment_blob") == 2);
    CHECK(count(db, fmt::format("SELECT count(*) FROM attachment_blob WHERE sha256 = '{}'", mime::sha256_hex(single))) ==
          0);
    CHECK(email_attachments(s, converts).at(0).content == AttachmentContent::reference);
    CHECK(email_attachments(s, converts).at(1).content == AttachmentContent::reference);
    CHECK(email_attachments(s, shares).at(0).content == AttachmentContent::blob);
    CHECK(email_attachments(s, mismatch).at(0).content == AttachmentContent::blob);
    CHECK(read_attachment(s, converts, 1) == shared);
    CHECK(read_attachment(s, converts, 2) == single);
    CHECK(read_attachment(s, shares, 1) == shared);
    CHECK(read_attachment(s, mismatch, 1) == "recorded before the damage");
    CHECK(count(db, "SELECT count(*) FROM event WHERE kind = 'attachment-blob-kept'") == 2);
    CHECK(count(db, fmt::format("SELECT count(*) FROM event WHERE kind = 'attachment-blob-kept' AND email_id = {} "
                                "AND detail LIKE '%gives other bytes%'",
                                mismatch)) == 0);  // no parsed part has the recorded digest at all
    CHECK(count(db, fmt::format("SELECT count(*) FROM event WHERE email_id = {} AND detail LIKE "
                                "'%does not lie byte for byte%'",
                                mismatch)) == 1);

    // Migration 8 moved every raw message to email_raw, byte for byte.
    CHECK(count(db, "SELECT count(*) FROM email_raw r JOIN email e ON e.id = r.email_id") == 3);
    CHECK(count(db, "SELECT count(*) FROM pragma_table_info('email') WHERE name = 'raw'") == 0);

    auto again = Store::open(path);  // the conversion ran once
    CHECK(again.migration_notes().empty());
}
