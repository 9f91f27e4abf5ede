// The inbound pipeline on real SQLite: plan application, idempotency, quarantine, review.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "daemon/inbound/ingestor.hpp"
#include "mime/compose.hpp"
#include "mime/digest.hpp"
#include "mime/message.hpp"
#include "store/attachments.hpp"
#include "store/ingest.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail::store;
using namespace casemail::inbound;

namespace {

const std::string pw = "311PublicWorks@city.example";

struct Fixture {
    casemail::test::TempDir tmp;
    Store store = Store::open(tmp.file("store.db"));
    IngestOptions options;
    Ingestor ingestor{store, options};
    Fixture() { store.add_queue("Public Works", pw); }

    IngestResult ingest(const std::string& raw) {
        Transaction tx(store.db());
        auto r = ingestor.ingest(raw, pw);
        tx.commit();
        return r;
    }
    std::int64_t count(const std::string& sql) {
        auto st = store.db().prepare(sql);
        st.step();
        return st.int64(0);
    }
};

std::string message(const std::string& from, const std::string& subject, const std::string& id,
                    const std::string& extra = "") {
    return "From: Ann Lee <" + from + ">\r\nTo: " + pw + "\r\nSubject: " + subject + "\r\n" +
           (id.empty() ? "" : "Message-ID: <" + id + ">\r\n") + extra + "\r\nHello.\r\n";
}

}  // namespace

TEST_CASE("ingest creates a case with a guest customer and is idempotent") {
    Fixture f;
    auto r = f.ingest(message("new@example.org", "Pothole", "p1@example.org"));
    CHECK(r.action == casemail::matching::EmailStatus::created);
    REQUIRE(r.case_token);
    auto c = f.store.require_case(*r.case_token);
    CHECK(c.title == "Pothole");
    CHECK(c.origin == "email");
    CHECK(c.queue_name == "Public Works");
    auto guest = f.store.find_contact(*r.customer_id);
    REQUIRE(guest);
    CHECK(guest->is_guest);
    CHECK(guest->name == "Ann Lee");

    auto again = f.ingest(message("new@example.org", "Pothole", "p1@example.org"));
    CHECK(again.action == casemail::matching::EmailStatus::duplicate);
    CHECK(again.case_token == r.case_token);
    // Found again by its Message-ID and fingerprint: no index on every email's digest (migration 21).
    CHECK(again.reason.starts_with("the same message (Message-ID, sender, date, subject and content)"));
    CHECK(f.count("SELECT count(*) FROM sqlite_master WHERE name = 'email_sha256'") == 0);
    CHECK(f.count("SELECT count(*) FROM \"case\"") == 1);
    CHECK(f.count("SELECT count(*) FROM contact") == 1);
    CHECK(f.count("SELECT count(*) FROM email") == 1);

    SUBCASE("without a Message-ID, identical bytes are the duplicate key") {
        auto raw = message("x@example.org", "No id", "");
        CHECK(f.ingest(raw).action == casemail::matching::EmailStatus::created);
        auto copy = f.ingest(raw);
        CHECK(copy.action == casemail::matching::EmailStatus::duplicate);
        CHECK(copy.reason.starts_with("identical message already ingested"));
        CHECK(f.ingest(raw + " ").action == casemail::matching::EmailStatus::created);  // different bytes: a different message
    }
}

TEST_CASE("a reply links by token and by In-Reply-To; an ack is queued once per case") {
    Fixture f;
    auto r = f.ingest(message("ann@example.org", "Missed trash", "t1@example.org"));
    auto token = *r.case_token;
    auto by_token = f.ingest(message("ann@example.org", "RE: [" + token + "] Missed trash", "t2@example.org"));
    CHECK(by_token.action == casemail::matching::EmailStatus::linked);
    CHECK(by_token.case_token == token);
    CHECK(by_token.customer_id == r.customer_id);  // a reply never changes the customer
    auto by_chain = f.ingest(message("ann@example.org", "Re: your message", "t3@example.org",
                                     "In-Reply-To: <t2@example.org>\r\n"));
    CHECK(by_chain.case_token == token);
    CHECK(f.store.case_emails(f.store.require_case(token).id).size() == 3);
    CHECK(f.count("SELECT count(*) FROM outbox WHERE kind = 'ack'") == 1);
}

TEST_CASE("resolved case inside the window is flagged for review, status unchanged") {
    Fixture f;
    auto token = *f.ingest(message("ann@example.org", "Leak", "l1@example.org")).case_token;
    f.store.resolve_case(token, "fixed", "agent");
    auto r = f.ingest(message("ann@example.org", "RE: [" + token + "]", "l2@example.org"));
    CHECK(r.action == casemail::matching::EmailStatus::linked);
    auto c = f.store.require_case(token);
    CHECK(c.status == casemail::matching::CaseStatus::resolved);
    CHECK(c.needs_review);
}

TEST_CASE("unparseable mail is quarantined with the raw kept, and a retry releases it") {
    Fixture f;
    IngestOptions tight;
    tight.limits.max_message_bytes = 100;
    Ingestor strict(f.store, tight);
    auto run = [&](auto&& fn) {
        Transaction tx(f.store.db());
        auto r = fn();
        tx.commit();
        return r;
    };
    auto raw = message("big@example.org", "Big", "big@example.org") + std::string(200, 'x');
    auto r = run([&] { return strict.ingest(raw, pw); });
    CHECK(r.action == casemail::matching::EmailStatus::quarantined);
    CHECK(r.reason.find("exceeds the limit") != std::string::npos);
    auto q = quarantine_list(f.store);
    REQUIRE(q.size() == 1);
    CHECK(q[0].size == raw.size());
    CHECK(run([&] { return strict.ingest(raw, pw); }).action == casemail::matching::EmailStatus::duplicate);  // same bytes again

    CHECK(run([&] { return strict.retry_quarantined(q[0].id); }).action == casemail::matching::EmailStatus::quarantined);  // still too big
    auto released = run([&] { return f.ingestor.retry_quarantined(q[0].id); });            // default limits
    CHECK(released.action == casemail::matching::EmailStatus::created);
    CHECK(quarantine_list(f.store).empty());
    CHECK_THROWS_AS(f.ingestor.retry_quarantined(q[0].id), Refused);
    CHECK(f.count("SELECT count(*) FROM email") == 1);  // the same row, now on a case
}

TEST_CASE("attachments are stored; blocked extensions keep metadata only") {
    Fixture f;
    std::string raw =
        "From: a@example.org\r\nSubject: files\r\nMessage-ID: <att@example.org>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
        "--b\r\nContent-Type: application/pdf; name=\"form.pdf\"\r\n\r\n%PDF\r\n"
        "--b\r\nContent-Type: application/octet-stream; name=\"invoice.pdf.exe\"\r\n\r\nMZ\r\n--b--\r\n";
    CHECK(f.ingest(raw).action == casemail::matching::EmailStatus::created);
    CHECK(f.count("SELECT count(*) FROM attachment") == 2);
    CHECK(f.count("SELECT count(*) FROM attachment WHERE blocked = 1 AND stored = 0 AND filename = 'invoice.pdf.exe'") == 1);
    CHECK(f.count("SELECT count(*) FROM attachment_blob") == 1);
}

TEST_CASE("shared family address: guest customer, review item, link with --as-customer") {
    Fixture f;
    auto parent = f.store.add_contact({"Parent", "family@example.net", std::nullopt, true, false});
    auto teen = f.store.add_contact({"Teen", "family@example.net", std::nullopt, true, false});
    auto r = f.ingest(message("family@example.net", "Noise", "n1@example.org"));
    CHECK(r.action == casemail::matching::EmailStatus::created);
    CHECK(*r.customer_id != parent);
    CHECK(*r.customer_id != teen);
    auto items = review_items(f.store);
    REQUIRE(items.size() == 1);
    CHECK(items[0].role == "from");
    CHECK(items[0].case_token == r.case_token);
    CHECK(items[0].candidate_contact_ids.size() == 3);  // both registered and the new guest
    auto emails = f.store.case_emails(f.store.require_case(*r.case_token).id);
    CHECK(emails[0].linked_contact_ids == std::vector<Id>{parent, teen, *r.customer_id});

    CHECK_THROWS_AS(link_party(f.store, items[0].party_id, 999, false, "agent"), Refused);
    auto stranger = f.store.add_contact({"Stranger", "other@example.org", std::nullopt, true, false});
    CHECK_THROWS_WITH(link_party(f.store, items[0].party_id, stranger, false, "agent"),
                      doctest::Contains("has the address"));
    link_party(f.store, items[0].party_id, teen, true, "agent:kim");
    CHECK(f.store.require_case(*r.case_token).customer_contact_id == teen);
    CHECK(review_items(f.store).empty());
    auto events = f.store.case_events(f.store.require_case(*r.case_token).id);
    CHECK(events.back().kind == "customer-changed");
    CHECK(events[events.size() - 2].kind == "party-linked");
}

TEST_CASE("merging a guest moves its active cases; archived contacts stop matching") {
    Fixture f;
    auto r = f.ingest(message("walkup@example.org", "Graffiti", "g1@example.org"));
    auto registered = f.store.add_contact({"Walk Up", "walkup@example.org", std::nullopt, true, false});
    CHECK_THROWS_AS(f.store.merge_guest(registered, *r.customer_id, "agent"), Refused);  // wrong way round
    f.store.merge_guest(*r.customer_id, registered, "agent");
    CHECK(f.store.require_case(*r.case_token).customer_contact_id == registered);
    CHECK(f.store.find_contact(*r.customer_id)->merged_into == registered);
    // The merged guest no longer matches: the registered contact is now the only one.
    auto next = f.ingest(message("walkup@example.org", "More graffiti", "g2@example.org"));
    CHECK(next.customer_id == registered);
    f.store.archive_contact(registered, "agent");
    auto after = f.ingest(message("walkup@example.org", "Again", "g3@example.org"));
    CHECK(after.customer_id != registered);
    CHECK(f.store.find_contact(*after.customer_id)->is_guest);
}

TEST_CASE("acknowledgements: at most three per address per hour") {
    Fixture f;
    for (int i = 0; i < 5; ++i)
        CHECK(f.ingest(message("Busy@example.org", "Request " + std::to_string(i), "b" + std::to_string(i) + "@x")).action == casemail::matching::EmailStatus::created);
    CHECK(f.count("SELECT count(*) FROM outbox WHERE kind = 'ack' AND to_address_norm = 'busy@example.org'") == 3);
}

TEST_CASE("ingest refuses an unknown mailbox") {
    Fixture f;
    Transaction tx(f.store.db());
    CHECK_THROWS_WITH_AS(f.ingestor.ingest(message("a@example.org", "x", "u@x"), "nobody@city.example"),
                         doctest::Contains("no queue has the mailbox"), Refused);
}

TEST_CASE("a reused Message-ID: a different message is kept, the same message stays a duplicate") {
    Fixture f;
    const std::string dwp = "311DWP@city.example";
    f.store.add_queue("DWP", dwp);
    auto scan = "From: Scanner <scanner@city.example>\r\nTo: " + pw + "\r\nSubject: Scanned document\r\n"
                "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nMessage-ID: <1@scanner>\r\n\r\nPage 1.\r\n";
    auto tree = "From: Dana Cruz <dana@example.org>\r\nTo: " + pw + "\r\nSubject: Tree down on Pine Ave\r\n"
                "Date: Mon, 23 Nov 2026 10:15:00 +0000\r\nMessage-ID: <1@scanner>\r\n\r\nA tree is down across the road.\r\n";
    auto first = f.ingest(scan);
    REQUIRE(first.action == casemail::matching::EmailStatus::created);
    auto second = f.ingest(tree);
    CHECK(second.action == casemail::matching::EmailStatus::created);  // the tree becomes a case of its own
    REQUIRE(second.case_token);
    CHECK(second.case_token != first.case_token);
    CHECK(f.store.require_case(*second.case_token).title == "Tree down on Pine Ave");
    REQUIRE_FALSE(second.defects.empty());
    CHECK(second.defects.front().find("Message-ID reused by a different message") != std::string::npos);

    SUBCASE("re-fetching either is a duplicate of itself") {
        auto again = f.ingest(tree);
        CHECK(again.action == casemail::matching::EmailStatus::duplicate);
        CHECK(again.case_token == second.case_token);
        CHECK(f.ingest(scan).case_token == first.case_token);
        CHECK(f.count("SELECT count(*) FROM email") == 2);
    }
    SUBCASE("the same mail delivered to a second 311 mailbox stays one case") {
        Transaction tx(f.store.db());
        auto copy = f.ingestor.ingest("Received: from mx2.city.example\r\nDelivered-To: " + dwp + "\r\n" + tree, dwp);
        tx.commit();
        CHECK(copy.action == casemail::matching::EmailStatus::duplicate);
        CHECK(copy.case_token == second.case_token);
        CHECK(f.count("SELECT count(*) FROM \"case\"") == 2);
    }
    SUBCASE("a store from before fingerprints: the stored copy gets one when its id comes again") {
        f.store.db().exec("UPDATE email SET fingerprint = NULL");
        auto copy = f.ingest("Received: from mx2.city.example\r\n" + scan);
        CHECK(copy.action == casemail::matching::EmailStatus::duplicate);
        CHECK(copy.case_token == first.case_token);
        CHECK(f.count("SELECT count(*) FROM email WHERE fingerprint IS NOT NULL AND id = " +
                      std::to_string(*first.email_id)) == 1);
    }
    SUBCASE("a reply naming the reused id goes to review, not to a guessed case") {
        auto reply = f.ingest(message("dana@example.org", "Re: Tree down on Pine Ave", "r1@example.org",
                                      "In-Reply-To: <1@scanner>\r\n"));
        CHECK(reply.action == casemail::matching::EmailStatus::created);
        REQUIRE(reply.case_token);
        CHECK(reply.case_token != first.case_token);
        CHECK(reply.case_token != second.case_token);
        CHECK(f.store.require_case(*reply.case_token).needs_review);
        CHECK(reply.reason.find("for review") != std::string::npos);
        CHECK(f.count("SELECT count(*) FROM outbox o JOIN \"case\" c ON c.id = o.case_id WHERE c.needs_review = 1") == 0);
    }
}

// The message is planned before its row is inserted (it is inserted with its outcome), yet it
// counts as a carrier of its own Message-ID: naming its own reused id must not link it to the
// other carrier's case.
TEST_CASE("a message naming its own reused Message-ID is not linked by it") {
    Fixture f;
    auto scan = "From: Scanner <scanner@city.example>\r\nTo: " + pw + "\r\nSubject: Scanned document\r\n"
                "Message-ID: <1@scanner>\r\n\r\nPage 1.\r\n";
    auto first = f.ingest(scan);
    REQUIRE(first.action == casemail::matching::EmailStatus::created);
    auto odd = f.ingest(message("dana@example.org", "Tree down", "1@scanner", "In-Reply-To: <1@scanner>\r\n"));
    CHECK(odd.action == casemail::matching::EmailStatus::created);
    REQUIRE(odd.case_token);
    CHECK(odd.case_token != first.case_token);
    CHECK(f.store.require_case(*odd.case_token).needs_review);
    CHECK(odd.reason.find("for review") != std::string::npos);
    CHECK(f.count("SELECT count(*) FROM email WHERE message_id = '1@scanner'") == 2);
    CHECK(f.count("SELECT count(*) FROM email WHERE message_id = '1@scanner' AND status = 'created' AND case_id IS NOT NULL "
                  "AND status_reason <> ''") == 2);
}

namespace {

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

// Attachments by reference over the whole fixture corpus: what `casemail attachment get` hands
// out is what the parser decoded, SHA-256 for SHA-256, whichever way the store kept it.
TEST_CASE("attachment round trip over the fixture corpus") {
    Fixture f;
    std::vector<std::filesystem::path> files;
    for (const char* dir : {"tests/mime/corpus", "tests/mime/regress"})
        for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(CASEMAIL_SOURCE_DIR) / dir))
            if (e.path().extension() == ".eml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() > 80);
    std::size_t checked = 0, by_reference = 0, blocked = 0;
    for (const auto& file : files) {
        CAPTURE(file.filename().string());
        auto raw = read_file(file);
        auto r = f.ingest(raw);
        if (r.action == casemail::matching::EmailStatus::quarantined || r.action == casemail::matching::EmailStatus::duplicate)
            continue;
        auto parsed = casemail::mime::parse_message(raw);
        REQUIRE(parsed.has_value());
        REQUIRE(r.email_id);
        auto stored = email_attachments(f.store, *r.email_id);
        REQUIRE(stored.size() == parsed->attachments.size());
        for (std::size_t i = 0; i < stored.size(); ++i) {
            const auto& want = parsed->attachments[i];
            CHECK(stored[i].sha256 == want.sha256);
            CHECK(stored[i].size == want.size);
            if (stored[i].content == AttachmentContent::blocked) {
                ++blocked;
                continue;
            }
            by_reference += stored[i].content == AttachmentContent::reference;
            auto data = read_attachment(f.store, *r.email_id, static_cast<int>(i) + 1);
            CHECK(data == want.data);
            CHECK(casemail::mime::sha256_hex(data) == want.sha256);
            ++checked;
        }
    }
    MESSAGE(checked << " attachments read back, " << by_reference << " by reference, " << blocked << " blocked");
    CHECK(checked >= 10);
    CHECK(by_reference >= 4);  // most corpus parts are under 16 bytes: not worth a reference
    // Only parts that do not lie in their raw message byte for byte have a blob.
    CHECK(f.count("SELECT count(*) FROM attachment WHERE stored = 1") == checked - by_reference);
}

TEST_CASE("a large attachment is stored once: in the raw message") {
    Fixture f;
    std::string data;
    for (int i = 0; i < 300000; ++i) data += static_cast<char>(i * 13 % 251);
    auto raw = message("doc@example.org", "Scanned permit", "scan1@example.org",
                       "Content-Type: multipart/mixed; boundary=\"b\"\r\n") ;
    raw = raw.substr(0, raw.find("\r\n\r\n") + 4) + "--b\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n--b\r\n"
          "Content-Type: application/pdf; name=\"permit.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
          casemail::mime::base64_lines(data) + "--b--\r\n";
    auto r = f.ingest(raw);
    REQUIRE(r.action == casemail::matching::EmailStatus::created);
    CHECK(f.count("SELECT count(*) FROM attachment_blob") == 0);
    CHECK(f.count("SELECT sum(length(raw)) FROM email_raw") == static_cast<std::int64_t>(raw.size()));
    REQUIRE(r.email_id);
    auto stored = email_attachments(f.store, *r.email_id);
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].content == AttachmentContent::reference);
    CHECK(stored[0].filename == "permit.pdf");
    CHECK(read_attachment(f.store, *r.email_id, 1) == data);
}
