// Agents' replies and acknowledgements on real SQLite, delivered to a fake upstream: what is
// accepted, refused or held; what is recorded on the case; retries, failures, threading.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "daemon/outbox/delivery.hpp"
#include "daemon/relay/accept.hpp"
#include "daemon/inbound/ingestor.hpp"
#include "store/backup.hpp"
#include "store/ingest.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail;
using namespace casemail::outbox;
using namespace casemail::relay;

namespace {

const std::string pw = "311PublicWorks@city.example";

struct FakeUpstream final : Upstream {
    struct Sent {
        std::string from;
        std::vector<std::string> to;
        std::string raw;
    };
    std::vector<Sent> sent;
    std::vector<DeliveryOutcome> script;  // answers in order; then "250"
    DeliveryOutcome send(const std::string& from, const std::vector<std::string>& to, const std::string& raw) override {
        if (!script.empty()) {
            auto o = script.front();
            script.erase(script.begin());
            if (!o.delivered) return o;
        }
        sent.push_back({from, to, raw});
        return {true, false, 250, "250 ok"};
    }
};

struct Fixture {
    test::TempDir tmp;
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
    store::StoreOptions options = [this] {
        store::StoreOptions o;
        o.clock = [this] { return now; };
        return o;
    }();
    store::Store store = store::Store::open(tmp.file("store.db"), options);
    store::Writer writer{[this] { return store::Store::open(tmp.file("store.db"), options); }};
    matching::OutboundPolicy policy;
    DeliverySettings delivery;
    FakeUpstream upstream;
    std::vector<std::string> log;
    std::atomic<bool> stop{false};
    store::Id raj = 0, priya = 0;

    Fixture() {
        store.add_queue("Public Works", pw, std::string("Public Works 311"));
        raj = store.add_contact({"Raj Patel", "family@example.net", {}, true, false});
        priya = store.add_contact({"Priya Patel", "family@example.net", {}, true, false});
        policy.message_id_domain = "casemail.city.example";
    }
    inbound::IngestResult ingest(const std::string& raw) {
        inbound::IngestOptions o;
        o.rules.own_message_id_domain = policy.message_id_domain;
        inbound::Ingestor ingestor(store, o);
        store::Transaction tx(store.db());
        auto r = ingestor.ingest(raw, pw);
        tx.commit();
        return r;
    }
    RelayVerdict relay(const std::string& raw, std::vector<std::string> rcpts = {"family@example.net"}) {
        store::Transaction tx(store.db());
        auto v = accept_reply(store, raw, "asmith@city.example", rcpts, AcceptSettings{policy, {}});
        tx.commit();
        return v;
    }
    DeliveryReport deliver() {
        return deliver_due(writer, upstream, RenderSettings{policy, {}, ""}, delivery,
                           [this](const std::string& l) { log.push_back(l); }, stop);
    }
    std::int64_t count(const std::string& sql) {
        auto st = store.db().prepare(sql);
        st.step();
        return st.int64(0);
    }
    std::string text(const std::string& sql) {
        auto st = store.db().prepare(sql);
        st.step();
        return st.is_null(0) ? "NULL" : st.text(0);
    }
};

std::string citizen(const std::string& id, const std::string& subject, const std::string& extra = "") {
    return "From: Raj Patel <family@example.net>\r\nTo: " + pw + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + id +
           ">\r\n" + extra + "\r\nThe depot is loud at night.\r\n";
}

std::string agent(const std::string& subject, const std::string& extra = "") {
    return "From: Agent Smith <asmith@city.example>\r\nTo: Raj Patel <family@example.net>, Priya Patel <family@example.net>\r\n"
           "Cc: neighbour@example.org\r\nSubject: " + subject + "\r\n" + extra + "\r\nWe will send an inspector.\r\n";
}

}  // namespace

TEST_CASE("outbound: a family case: the acknowledgement and the reply go to the guest customer only") {
    Fixture f;
    auto in = f.ingest(citizen("c1@example.net", "Noise from the depot"));
    REQUIRE(in.action == casemail::matching::EmailStatus::created);
    auto token = *in.case_token;
    auto customer = *in.customer_id;  // a new guest: two registered people share the address
    CHECK(customer != f.raj);
    CHECK(customer != f.priya);

    // The acknowledgement queued by ingest is rendered and delivered.
    auto first = f.deliver();
    CHECK(first.delivered == 1);
    REQUIRE(f.upstream.sent.size() == 1);
    CHECK(f.upstream.sent[0].from == pw);
    CHECK(f.upstream.sent[0].to == std::vector<std::string>{"family@example.net"});
    auto ack = mime::parse_message(f.upstream.sent[0].raw);
    REQUIRE(ack);
    CHECK(ack->flags.auto_reply.set);
    CHECK(ack->in_reply_to == std::vector<std::string>{"c1@example.net"});
    CHECK(ack->subject.find(token) != std::string::npos);
    CHECK(ack->text.find("Dear Raj Patel") == 0);
    CHECK(f.text("SELECT acknowledged_at FROM \"case\"") != "NULL");

    // The agent's reply, addressed by their client to both contacts and a neighbour.
    auto v = f.relay(agent("RE: Noise from the depot [" + token + "]"), {"family@example.net", "neighbour@example.org"});
    CHECK(v.code == 250);
    CHECK(v.action == matching::ReplyDecision::queue);
    CHECK(v.case_token == token);
    CHECK(v.dropped == std::vector<std::string>{"neighbour@example.org"});
    CHECK(f.deliver().delivered == 1);
    REQUIRE(f.upstream.sent.size() == 2);
    CHECK(f.upstream.sent[1].to == std::vector<std::string>{"family@example.net"});
    auto reply = mime::parse_message(f.upstream.sent[1].raw);
    REQUIRE(reply);
    CHECK(reply->cc.empty());
    CHECK(reply->to.size() == 1);
    CHECK(reply->tracking == token);

    // Recorded on the case: out, sent, parties resolved to the queue and the customer.
    auto c = f.store.require_case(token);
    auto emails = f.store.case_emails(c.id);
    REQUIRE(emails.size() == 3);
    CHECK(emails[2].direction == matching::Direction::out);
    CHECK(emails[2].status == matching::EmailStatus::sent);
    REQUIRE(emails[2].parties.size() == 2);
    CHECK(emails[2].parties[1].contact_id == customer);
    CHECK(emails[2].linked_contact_ids == std::vector<store::Id>{customer});
    // Each message sent is stored once: as its recorded email's raw, which the outbox row points to.
    CHECK(f.count("SELECT count(*) FROM outbox WHERE raw IS NULL AND raw_is_email = 1") == 2);
    CHECK(f.upstream.sent[0].raw == store::email_raw(f.store, emails[1].id));
    CHECK(f.upstream.sent[1].raw == store::email_raw(f.store, emails[2].id));
    CHECK(store::check_store(f.store.db(), 0).problems.empty());

    // The citizen answers the reply: In-Reply-To alone finds the case.
    auto back = f.ingest("From: Raj Patel <family@example.net>\r\nTo: " + pw +
                         "\r\nSubject: thanks\r\nMessage-ID: <c2@example.net>\r\nIn-Reply-To: <" + reply->message_id +
                         ">\r\n\r\nThank you.\r\n");
    CHECK(back.action == casemail::matching::EmailStatus::linked);
    CHECK(back.case_token == token);
    CHECK(back.customer_id == customer);

    // `casemail check` finds an outbox row whose recorded email lost its raw message.
    f.store.db().exec(fmt::format("DELETE FROM email_raw WHERE email_id = {}", emails[2].id));
    auto problems = store::check_store(f.store.db(), 0).problems;
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find("its message is its recorded email's, which has no raw message") != std::string::npos);
}

TEST_CASE("outbound: mail without a case is refused, or passed through when configured") {
    Fixture f;
    auto v = f.relay(agent("Hello"));
    CHECK(v.code == 550);
    CHECK(v.text.find("5.7.1 no case found") == 0);
    CHECK(f.count("SELECT count(*) FROM outbox") == 0);
    f.policy.pass_through = true;
    v = f.relay(agent("Hello"), {"x@example.org"});
    CHECK(v.code == 250);
    CHECK(v.action == matching::ReplyDecision::pass_through);
    f.deliver();
    REQUIRE(f.upstream.sent.size() == 1);
    CHECK(f.upstream.sent[0].from == "asmith@city.example");
    CHECK(f.upstream.sent[0].to == std::vector<std::string>{"x@example.org"});
    CHECK(f.upstream.sent[0].raw.find("Cc: neighbour@example.org") != std::string::npos);  // unchanged
}

TEST_CASE("outbound: refused cases: 550, or held and released by a person") {
    Fixture f;
    auto token = *f.ingest(citizen("c1@example.net", "Noise")).case_token;
    f.deliver();
    store::CaseEdit edit;
    edit.confidential = true;
    f.store.edit_case(token, edit, "test");

    f.policy.hold_confidential = true;
    auto v = f.relay(agent("Re: [" + token + "]"));
    CHECK(v.code == 550);
    CHECK(v.text.find("confidential") != std::string::npos);

    f.policy.hold_refused = true;
    v = f.relay(agent("Re: [" + token + "]"));
    CHECK(v.code == 250);
    CHECK(v.action == matching::ReplyDecision::hold);
    REQUIRE(v.outbox_id);
    CHECK(f.deliver().delivered == 0);  // held: not sent
    CHECK(f.upstream.sent.size() == 1);
    {
        store::Transaction tx(f.store.db());
        store::retry_outbox(f.store, *v.outbox_id, "cli:supervisor");
        tx.commit();
    }
    CHECK(f.deliver().delivered == 1);
    REQUIRE(f.upstream.sent.size() == 2);
    CHECK(f.upstream.sent[1].to == std::vector<std::string>{"family@example.net"});
    CHECK(mime::parse_message(f.upstream.sent[1].raw)->cc.empty());
    // The agent's original was kept while held; released, the rewritten message is its recorded email.
    CHECK(f.upstream.sent[1].raw == store::outbox_raw(f.store, *v.outbox_id));
    CHECK(f.count("SELECT count(*) FROM outbox WHERE raw IS NOT NULL") == 0);

    edit = {};
    edit.wants_updates = false;
    f.store.edit_case(token, edit, "test");
    f.policy.hold_refused = false;
    v = f.relay(agent("Re: [" + token + "]"));
    CHECK(v.code == 550);
    CHECK(v.text.find("asked for no updates") != std::string::npos);
}

TEST_CASE("delivery: temporary failures retry with backoff, permanent ones fail with the reply") {
    Fixture f;
    f.delivery.retry_base = std::chrono::seconds(60);
    auto token = *f.ingest(citizen("c1@example.net", "Noise")).case_token;
    f.upstream.script = {{false, false, 0, "connection refused"}, {false, false, 451, "451 try later"}};
    auto r = f.deliver();
    CHECK(r.retried == 1);
    CHECK(f.deliver().retried == 0);  // not due yet
    f.now += std::chrono::seconds(61);
    CHECK(f.deliver().retried == 1);  // second failure: next in 120 s
    f.now += std::chrono::seconds(61);
    CHECK(f.deliver().delivered == 0);
    f.now += std::chrono::seconds(60);
    CHECK(f.deliver().delivered == 1);
    CHECK(f.count("SELECT attempts FROM outbox") == 3);
    CHECK(f.text("SELECT status FROM outbox") == "delivered");

    auto v = f.relay(agent("Re: [" + token + "]"));
    f.upstream.script = {{false, true, 550, "550 5.1.1 mailbox unavailable"}};
    CHECK(f.deliver().failed == 1);
    auto e = store::find_outbox(f.store, *v.outbox_id);
    CHECK(e->status == matching::OutboxStatus::failed);
    CHECK(e->last_error == "550 5.1.1 mailbox unavailable");
    CHECK(f.text("SELECT status FROM email WHERE direction = 'out' ORDER BY id DESC LIMIT 1") == "failed");
    CHECK(f.count("SELECT count(*) FROM event WHERE kind = 'email-failed'") == 1);
}

TEST_CASE("delivery: give up after max_age") {
    Fixture f;
    f.delivery.max_age = std::chrono::hours(1);
    f.ingest(citizen("c1@example.net", "Noise"));
    f.upstream.script = {{false, false, 0, "down"}};
    CHECK(f.deliver().retried == 1);
    f.now += std::chrono::hours(2);
    f.upstream.script = {{false, false, 0, "still down"}};
    CHECK(f.deliver().failed == 1);
    CHECK(f.text("SELECT last_error FROM outbox").find("gave up after 2 attempts") == 0);
    CHECK(retry_delay(1, f.delivery) == std::chrono::seconds(60));
    CHECK(retry_delay(3, f.delivery) == std::chrono::seconds(240));
    CHECK(retry_delay(30, f.delivery) == std::chrono::seconds(3600));
}

// casemaild --once with the upstream down: a run ends even when deferring takes longer than
// the retry delay, because only what was due when the run started is attempted.
TEST_CASE("delivery: a run bounded by due_by tries each entry once") {
    Fixture f;
    f.delivery.retry_base = std::chrono::seconds(1);
    f.delivery.batch = 2;
    for (int i = 0; i < 5; ++i) f.ingest(citizen("c" + std::to_string(i) + "@example.net", "Noise " + std::to_string(i)));
    const auto queued = f.count("SELECT count(*) FROM outbox");  // acknowledgements (some suppressed per sender)
    REQUIRE(queued >= 3);  // more than one batch
    f.delivery.due_by = f.now;
    int attempts = 0, runs = 0;
    for (DeliveryReport r; runs == 0 || r.more; ++runs) {
        f.upstream.script.assign(f.delivery.batch, {false, false, 0, "connection refused"});
        f.now += std::chrono::seconds(2);  // every deferred entry is due again by the clock
        r = f.deliver();
        attempts += r.retried;
        REQUIRE(runs < 10);
    }
    CHECK(attempts == queued);
    CHECK(f.count("SELECT count(*) FROM outbox WHERE attempts = 1") == queued);
    f.delivery.due_by.reset();  // the running daemon: due by the clock, so tried again
    f.upstream.script.assign(2, {false, false, 0, "connection refused"});
    CHECK(f.deliver().retried == 2);
}

TEST_CASE("acknowledgement: a case that became anonymous is not written to") {
    Fixture f;
    auto token = *f.ingest(citizen("c1@example.net", "Noise")).case_token;
    store::CaseEdit edit;
    edit.anonymous = true;
    f.store.edit_case(token, edit, "test");
    CHECK(f.deliver().failed == 1);
    CHECK(f.upstream.sent.empty());
    CHECK(f.text("SELECT last_error FROM outbox").find("anonymous") != std::string::npos);
}
