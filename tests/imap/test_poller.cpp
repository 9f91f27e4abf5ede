// One poll of a mailbox against an in-memory server on real SQLite. The fault seam fails the
// Nth server operation (as a crash would: an exception out of the poll, the open transaction
// rolled back) to prove that, whatever the point, every message ends up stored exactly once and
// marked processed once polling resumes.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <stdexcept>

#include "daemon/imap/poller.hpp"
#include "store/mailbox_state.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail;
using namespace casemail::imap;

namespace {

const std::string clerk = "311CityClerk@city.example";

struct Crash : std::runtime_error {
    Crash() : std::runtime_error("simulated crash") {}
};

class FakeServer final : public MailboxServer {
public:
    std::uint32_t uidvalidity = 100;
    std::map<protocol::imap::Uid, std::string> inbox;  // unprocessed
    std::map<protocol::imap::Uid, std::string> done;   // marked processed
    protocol::imap::Uid next_uid = 1;
    int ops = 0;
    int crash_at = -1;      // throw Crash at this operation number
    int fail_at = -1;       // answer a failure at this operation number
    int fetches = 0;       // messages fetched
    int fetch_calls = 0;   // FETCH commands

    void deliver(const std::string& raw) { inbox[next_uid++] = raw; }

    Result<protocol::imap::FolderStatus> status() override {
        if (auto f = fault("STATUS")) return fail(*f);
        return protocol::imap::FolderStatus{uidvalidity, next_uid, static_cast<std::uint32_t>(inbox.size())};
    }
    Result<std::vector<protocol::imap::Uid>> search_from(protocol::imap::Uid first, protocol::imap::Uid) override {
        if (auto f = fault("SEARCH")) return fail(*f);
        std::vector<protocol::imap::Uid> out;
        for (const auto& [uid, raw] : inbox)
            if (uid >= first) out.push_back(uid);
        return out;
    }
    Result<std::vector<MessageSize>> sizes(const std::vector<protocol::imap::Uid>& uids) override {
        if (auto f = fault("SIZES")) return fail(*f);
        std::vector<MessageSize> out;
        for (auto uid : uids)
            if (auto it = inbox.find(uid); it != inbox.end()) out.push_back({uid, it->second.size()});
        return out;
    }
    Result<std::vector<FetchedMessage>> fetch(const std::vector<protocol::imap::Uid>& uids, std::size_t max_bytes) override {
        if (auto f = fault("FETCH")) return fail(*f);
        ++fetch_calls;
        std::vector<FetchedMessage> out;
        for (auto uid : uids) {
            auto it = inbox.find(uid);
            if (it == inbox.end()) continue;  // gone meanwhile: left out, as a server does
            ++fetches;
            bool cut = it->second.size() > max_bytes;
            out.push_back({uid, cut ? it->second.substr(0, max_bytes + 1) : it->second, cut});
        }
        return out;
    }
    Result<bool> mark_processed(const std::vector<protocol::imap::Uid>& uids) override {
        if (auto f = fault("MOVE")) return fail(*f);
        for (auto uid : uids) {
            if (auto it = inbox.find(uid); it != inbox.end()) {
                done[uid] = it->second;
                inbox.erase(it);
            }
        }
        return true;
    }
    // A new UIDVALIDITY: the server renumbered what it still holds.
    void renumber() {
        ++uidvalidity;
        std::map<protocol::imap::Uid, std::string> again;
        next_uid = 1;
        for (auto& [uid, raw] : inbox) again[next_uid++] = raw;
        inbox = std::move(again);
    }

private:
    std::optional<std::string> fault(const char* what) {
        ++ops;
        if (ops == crash_at) throw Crash();
        if (ops == fail_at) return std::string(what) + ": connection reset";
        return std::nullopt;
    }
};

struct Fixture {
    test::TempDir tmp;
    store::Store store = store::Store::open(tmp.file("store.db"));  // the test's own reader
    store::Writer writer{[this] { return store::Store::open(tmp.file("store.db")); }};
    inbound::IngestOptions ingest;
    FakeServer server;
    std::vector<std::string> log;
    std::atomic<bool> stop{false};
    PollSettings settings;

    Fixture() {
        store.add_queue("City Clerk", clerk);
        settings.mailbox = clerk;
        settings.folder = "INBOX";
        settings.batch = 3;
    }
    PollReport poll() {
        return poll_mailbox(server, writer, ingest, settings, [&](const std::string& l) { log.push_back(l); }, stop);
    }
    std::int64_t count(const std::string& sql) {
        auto st = store.db().prepare(sql);
        st.step();
        return st.int64(0);
    }
    void deliver(int n, int first = 0) {
        for (int i = first; i < first + n; ++i)
            server.deliver("From: Ann <ann" + std::to_string(i) + "@example.org>\r\nTo: " + clerk +
                           "\r\nSubject: request " + std::to_string(i) + "\r\nMessage-ID: <r" + std::to_string(i) +
                           "@example.org>\r\n\r\nPlease help.\r\n");
    }
};

}  // namespace

TEST_CASE("poller: new messages are stored, logged after commit and marked processed") {
    Fixture f;
    f.deliver(7);
    auto r = f.poll();
    CHECK_FALSE(r.error);
    CHECK(r.ingested == 7);
    CHECK(r.acknowledged == 7);
    CHECK(r.backlog == 0);
    CHECK(f.server.inbox.empty());
    CHECK(f.server.done.size() == 7);
    CHECK(f.count("SELECT count(*) FROM \"case\"") == 7);
    REQUIRE(f.log.size() == 7);
    CHECK(f.log[0].find("mailbox=311CityClerk@city.example uid=1 message_id=<r0@example.org> action=created case=311-") == 0);

    auto st = store::mailbox_state(f.store, clerk, "INBOX");
    CHECK(st.uidvalidity == 100);
    CHECK(st.last_uid == 7);
    CHECK(st.processed == 7);
    CHECK(st.pending_acks == 0);
    CHECK(st.last_ok_at);

    SUBCASE("a second poll does nothing") {
        int fetches = f.server.fetches;
        auto again = f.poll();
        CHECK_FALSE(again.error);
        CHECK(again.ingested == 0);
        CHECK(f.server.fetches == fetches);
    }
    SUBCASE("a message arriving later is picked up alone") {
        f.deliver(1, 7);
        auto again = f.poll();
        CHECK(again.ingested == 1);
        CHECK(f.server.fetches == 8);
        CHECK(f.count("SELECT count(*) FROM \"case\"") == 8);
    }
}

TEST_CASE("poller: a failed mark stays in the journal and is sent first next time") {
    Fixture f;
    f.deliver(2);
    f.server.fail_at = 5;  // STATUS, SEARCH, the batch's SIZES and FETCH, then its MOVE
    auto r = f.poll();
    REQUIRE(r.error);
    CHECK(r.error->find("MOVE: connection reset") != std::string::npos);
    CHECK(r.ingested == 2);
    CHECK(f.server.inbox.size() == 2);  // still unmarked on the server
    CHECK(store::mailbox_state(f.store, clerk, "INBOX").pending_acks == 2);
    CHECK(store::mailbox_state(f.store, clerk, "INBOX").failures == 1);

    auto again = f.poll();
    CHECK_FALSE(again.error);
    CHECK(again.acknowledged == 2);
    CHECK(again.ingested == 0);  // not fetched again: the cursor moved with the commit
    CHECK(f.server.inbox.empty());
    CHECK(f.count("SELECT count(*) FROM email") == 2);
    CHECK(store::mailbox_state(f.store, clerk, "INBOX").failures == 0);
}

TEST_CASE("poller: a fetch failure keeps what was committed and resumes after it") {
    Fixture f;
    f.deliver(5);
    // STATUS, SEARCH, batch 1's SIZES and FETCH; while the writer stores batch 1, batch 2's
    // SIZES, then its FETCH fails. Batch 1 is committed and marked processed all the same.
    f.server.fail_at = 6;
    auto r = f.poll();
    REQUIRE(r.error);
    CHECK(r.error->find("UID FETCH: FETCH: connection reset") != std::string::npos);
    CHECK(r.ingested == 3);
    CHECK(r.acknowledged == 3);
    CHECK(r.backlog == 2);
    auto again = f.poll();
    CHECK_FALSE(again.error);
    CHECK(again.ingested == 2);
    CHECK(f.count("SELECT count(*) FROM email") == 5);
}

TEST_CASE("poller: a crash at any server operation loses and duplicates nothing") {
    const int messages = 7;
    for (int crash_at = 1; crash_at <= 16; ++crash_at) {
        CAPTURE(crash_at);
        Fixture f;
        f.deliver(messages);
        f.server.crash_at = crash_at;
        try {
            f.poll();
        } catch (const Crash&) {
        }
        f.server.crash_at = -1;
        for (int i = 0; i < 5 && !f.server.inbox.empty(); ++i) CHECK_FALSE(f.poll().error);
        CHECK(f.server.inbox.empty());
        CHECK(f.server.done.size() == messages);
        CHECK(f.count("SELECT count(*) FROM email") == messages);
        CHECK(f.count("SELECT count(*) FROM \"case\"") == messages);
        CHECK(f.count("SELECT count(*) FROM imap_pending_ack") == 0);
    }
}

TEST_CASE("poller: a new UIDVALIDITY rescans the folder without duplicates") {
    Fixture f;
    f.deliver(3);
    f.server.fail_at = 5;  // the batch's MOVE fails: three messages stay in the inbox
    CHECK(f.poll().error);
    f.deliver(1, 3);
    f.server.renumber();  // UIDs 1..4 now, under a new UIDVALIDITY
    auto r = f.poll();
    CHECK_FALSE(r.error);
    CHECK(r.ingested == 4);  // all fetched again...
    CHECK(f.count("SELECT count(*) FROM email") == 4);  // ...three of them duplicates
    CHECK(f.count("SELECT count(*) FROM \"case\"") == 4);
    CHECK(f.server.inbox.empty());
    bool logged = false;
    for (const auto& l : f.log) logged |= l.find("event=uidvalidity-changed old=100 new=101") != std::string::npos;
    CHECK(logged);
}

TEST_CASE("poller: a batch is planned by bytes, and messages gone meanwhile are skipped") {
    Fixture f;
    f.settings.batch = 10;
    f.settings.batch_bytes = 300;  // each message is ~125 bytes: two per fetch
    f.deliver(5);
    f.server.inbox.erase(3);  // expunged by someone between SEARCH and FETCH... or before SEARCH
    auto r = f.poll();
    CHECK_FALSE(r.error);
    CHECK(r.ingested == 4);
    CHECK(f.server.inbox.empty());
    CHECK(store::mailbox_state(f.store, clerk, "INBOX").last_uid == 5);
    CHECK(f.server.fetch_calls == 2);  // {1, 2} and {4, 5}; 3 was skipped
}

TEST_CASE("poller: shutdown stops between messages, after committing") {
    Fixture f;
    f.deliver(4);
    f.stop = true;
    auto r = f.poll();
    CHECK(r.interrupted);
    CHECK(r.ingested == 0);
    CHECK(f.server.inbox.size() == 4);
}

TEST_CASE("poller: a message over the size limit is quarantined and left on the server") {
    Fixture f;
    f.settings.max_message_bytes = 1024;
    f.deliver(1);
    f.server.deliver("From: big@example.org\r\nSubject: big\r\n\r\n" + std::string(5000, 'x') + "\r\n");
    auto r = f.poll();
    CHECK_FALSE(r.error);
    CHECK(r.ingested == 2);
    CHECK(f.server.inbox.size() == 1);  // the original stays for a human
    CHECK(f.count("SELECT count(*) FROM quarantine") == 1);
    CHECK(f.count("SELECT length(r.raw) FROM email e JOIN email_raw r ON r.email_id = e.id WHERE e.status = 'quarantined'") == 1025);
    CHECK(f.log[1].find("action=quarantined") != std::string::npos);
    CHECK(f.log[1].find("stays on the server") != std::string::npos);
    CHECK(f.poll().ingested == 0);  // not fetched again
}
