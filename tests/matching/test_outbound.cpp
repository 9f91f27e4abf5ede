// The outbound rules: a reply reaches the case's customer and no one else.
#include <doctest/doctest.h>

#include "matching/outbound.hpp"
#include "mime/address.hpp"

using namespace casemail;
using namespace casemail::matching;

namespace {

OutboundCase family_case() {
    OutboundCase c;
    c.ref = {7, "311-000007-QX4Z", CaseStatus::active, std::nullopt, 12, std::nullopt};
    c.customer = Recipient{"Raj Patel", "family@example.net"};
    c.queue_mailbox = "311PublicWorks@city.example";
    c.queue_display_name = "Public Works 311";
    c.last_inbound_message_id = "citizen-2@example.net";
    c.last_inbound_references = {"citizen-1@example.net", "casemail-ack@city.example"};
    return c;
}

const std::string agent_reply =
    "Received: from agent-pc (10.0.0.5)\r\n"
    "From: Agent Smith <asmith@city.example>\r\n"
    "To: Raj Patel <family@example.net>, Priya Patel <FAMILY@example.net>\r\n"
    "Cc: neighbour@example.org, 311PublicWorks@city.example\r\n"
    "Bcc: supervisor@city.example\r\n"
    "Subject: RE: Noise from the depot\r\n"
    "Message-ID: <agent-1@agent-pc>\r\n"
    "Disposition-Notification-To: asmith@city.example\r\n"
    "X-Originating-IP: 10.0.0.5\r\n"
    "Date: Mon, 23 Nov 2026 11:00:00 +0000\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "We will send an inspector.\r\n";

Rewritten rewrite(const std::string& raw, const OutboundCase& c, const OutboundPolicy& p = {},
                  std::vector<std::string> rcpts = {"family@example.net", "neighbour@example.org", "supervisor@city.example"}) {
    auto parsed = mime::parse_message(raw);
    REQUIRE(parsed);
    return rewrite_reply(raw, *parsed, rcpts, c, p, "r1.abc@casemail.city.example", std::chrono::system_clock::now());
}

}  // namespace

TEST_CASE("outbound: only the customer receives, headers and envelope alike") {
    auto r = rewrite(agent_reply, family_case());
    CHECK(r.envelope_from == "311PublicWorks@city.example");
    CHECK(r.envelope_to == std::vector<std::string>{"family@example.net"});
    CHECK(r.dropped == std::vector<std::string>{"neighbour@example.org", "311PublicWorks@city.example",
                                                "supervisor@city.example"});
    auto out = mime::parse_message(r.raw);
    REQUIRE(out);
    REQUIRE(out->to.size() == 1);
    CHECK(out->to[0].address == "family@example.net");
    CHECK(out->to[0].name == "Raj Patel");
    CHECK(out->cc.empty());
    CHECK(out->bcc.empty());
    REQUIRE(out->from.size() == 1);
    CHECK(out->from[0].address == "311PublicWorks@city.example");
    CHECK(out->from[0].name == "Public Works 311");
    CHECK(out->reply_to == out->from);
    CHECK(out->subject == "RE: Noise from the depot [311-000007-QX4Z]");
    CHECK(out->tracking == "311-000007-QX4Z");
    CHECK(out->message_id == "r1.abc@casemail.city.example");
    CHECK(out->in_reply_to == std::vector<std::string>{"citizen-2@example.net"});
    CHECK(out->references == std::vector<std::string>{"citizen-1@example.net", "casemail-ack@city.example",
                                                      "citizen-2@example.net"});
    CHECK(r.reference_ids == out->references);
    CHECK(mime::parse_message(r.raw)->text.find("We will send an inspector.") == 0);
    for (const char* gone : {"Received", "Bcc", "Disposition-Notification-To", "X-Originating-IP", "asmith"})
        CHECK(r.raw.find(gone) == std::string::npos);
    CHECK(r.raw.find("Date: Mon, 23 Nov 2026 11:00:00 +0000\r\n") != std::string::npos);
    CHECK(r.raw.find("\n\n") == std::string::npos);  // CRLF only
}

TEST_CASE("outbound: the token is added once") {
    auto c = family_case();
    std::string with_token = agent_reply;
    with_token.replace(with_token.find("RE: Noise"), 9, "RE: [311-000007-qx4z] Noise");
    CHECK(mime::parse_message(rewrite(with_token, c).raw)->subject == "RE: [311-000007-qx4z] Noise from the depot");
    CHECK(subject_with_token("", "311-000001-AAAA", "311") == "[311-000001-AAAA]");
    CHECK(subject_with_token("Über die Straße", "311-000001-AAAA", "311") == "Über die Straße [311-000001-AAAA]");
}

TEST_CASE("outbound: dropped addresses as a note, never as recipients") {
    OutboundPolicy p;
    p.keep_unresolved_as_text = true;
    auto r = rewrite(agent_reply, family_case(), p);
    auto out = mime::parse_message(r.raw);
    REQUIRE(out);
    CHECK(out->to.size() == 1);
    CHECK(out->cc.empty());
    CHECK(out->text.find("casemail removed these addresses") != std::string::npos);
    CHECK(out->text.find("neighbour@example.org") != std::string::npos);
    CHECK(out->text.find("We will send an inspector.") != std::string::npos);
    CHECK(r.envelope_to == std::vector<std::string>{"family@example.net"});
}

TEST_CASE("outbound: refusals") {
    OutboundPolicy p;
    auto c = family_case();
    CHECK(refusal_reason(c, p).empty());
    struct Row { const char* why; void (*change)(OutboundCase&); bool hold; };
    for (const auto& row : std::vector<Row>{
             {"anonymous", [](OutboundCase& x) { x.anonymous = true; }, false},
             {"no usable email address", [](OutboundCase& x) { x.customer.reset(); }, false},
             {"asked for no updates", [](OutboundCase& x) { x.wants_updates = false; }, false},
             {"confidential", [](OutboundCase& x) { x.confidential = true; }, true},
             {"is resolved", [](OutboundCase& x) { x.ref.status = CaseStatus::resolved; }, false},
         }) {
        CAPTURE(row.why);
        auto x = family_case();
        row.change(x);
        OutboundPolicy q;
        q.hold_confidential = row.hold;
        CHECK(refusal_reason(x, q).find(row.why) != std::string::npos);
    }
    auto conf = family_case();
    conf.confidential = true;
    CHECK(refusal_reason(conf, p).empty());  // confidential cases may be written to unless held
}

TEST_CASE("outbound: no inbound email to thread under") {
    auto c = family_case();
    c.last_inbound_message_id.clear();
    c.last_inbound_references.clear();
    auto r = rewrite(agent_reply, c);
    auto out = mime::parse_message(r.raw);
    CHECK(out->in_reply_to.empty());
    CHECK(out->references.empty());
    CHECK(thread_references(std::vector<std::string>(30, "x"), "p").size() == 20);
}

TEST_CASE("outbound: a multipart reply with an attachment keeps its body, with or without the note") {
    const std::string multipart =
        "From: asmith@city.example\r\nTo: family@example.net\r\nCc: neighbour@example.org\r\n"
        "Subject: RE: Noise\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"agent-b\"\r\n\r\n"
        "--agent-b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Inspection on <b>Thursday</b>.</p>\r\n"
        "--agent-b\r\nContent-Type: application/pdf; name=\"permit.pdf\"\r\n"
        "Content-Disposition: attachment; filename=\"permit.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "JVBERi0xLjQKJcfsj6IK\r\n--agent-b--\r\n";
    for (bool note : {false, true}) {
        CAPTURE(note);
        OutboundPolicy p;
        p.keep_unresolved_as_text = note;
        auto r = rewrite(multipart, family_case(), p, {"family@example.net"});
        auto out = mime::parse_message(r.raw);
        REQUIRE(out);
        CHECK(out->defects.empty());
        REQUIRE(out->attachments.size() == 1);
        CHECK(out->attachments[0].filename == "permit.pdf");
        CHECK(out->attachments[0].data.rfind("%PDF-1.4", 0) == 0);
        CHECK((out->text + out->html).find("Thursday") != std::string::npos);  // the agent's HTML part
        CHECK((out->text.find("neighbour@example.org") != std::string::npos) == note);
        CHECK(out->cc.empty());
    }
}

TEST_CASE("outbound: a usable customer address, and what the relay does with a reply") {
    CHECK(usable_recipient("Ann", "ann@example.org"));
    CHECK_FALSE(usable_recipient("Ann", "not an address"));
    CHECK_FALSE(usable_recipient("Robot", "no-reply@example.org"));
    CHECK_FALSE(usable_recipient("Bounce", "MAILER-DAEMON@example.org"));
    CHECK_FALSE(usable_recipient("", ""));

    OutboundPolicy p;
    CHECK(decide_reply(true, "", p) == ReplyDecision::queue);
    CHECK(decide_reply(true, "case is anonymous", p) == ReplyDecision::reject);
    CHECK(decide_reply(false, "", p) == ReplyDecision::reject);
    p.hold_refused = true;
    CHECK(decide_reply(true, "case is anonymous", p) == ReplyDecision::hold);
    CHECK(decide_reply(false, "", p) == ReplyDecision::reject);  // no case: nothing to hold it for
    p.pass_through = true;
    CHECK(decide_reply(false, "", p) == ReplyDecision::pass_through);
    CHECK(decide_reply(true, "", p) == ReplyDecision::queue);

    auto c = family_case();
    c.queue_mailbox.clear();
    CHECK(refusal_reason(c, p).find("has no queue") != std::string::npos);
}

TEST_CASE("outbound: the acknowledgement is composed for the customer and threads under the citizen's mail") {
    auto c = family_case();
    AcknowledgementText text{"We received your request", "Dear Raj Patel,\nthank you.", std::nullopt};
    auto now = std::chrono::system_clock::from_time_t(1795000000);
    auto ack = compose_acknowledgement(c, text, "family@example.net", "citizen-2@example.net", {"citizen-1@example.net"},
                                       {}, "ack1@casemail.city.example", now);
    CHECK(ack.envelope_from == "311PublicWorks@city.example");
    CHECK(ack.envelope_to == std::vector<std::string>{"family@example.net"});
    auto parsed = mime::parse_message(ack.raw);
    REQUIRE(parsed);
    CHECK(parsed->subject == "We received your request [311-000007-QX4Z]");
    CHECK(parsed->message_id == "ack1@casemail.city.example");
    CHECK(parsed->in_reply_to == std::vector<std::string>{"citizen-2@example.net"});
    CHECK(parsed->references == std::vector<std::string>{"citizen-1@example.net", "citizen-2@example.net"});
    CHECK(parsed->flags.auto_reply.set);
    CHECK(parsed->tracking == "311-000007-QX4Z");
    CHECK(parsed->to == std::vector<mime::Address>{{"Raj Patel", "family@example.net"}});
    CHECK(parsed->text == "Dear Raj Patel,\nthank you.\n");  // the text is sent as whole CRLF lines
    CHECK(parsed->html.empty());

    text.html = "<p>Dear Raj Patel</p>";
    auto both = compose_acknowledgement(c, text, "family@example.net", "", {}, {}, "ack2@casemail.city.example", now);
    auto alt = mime::parse_message(both.raw);
    REQUIRE(alt);
    CHECK(alt->html.find("Dear Raj Patel") != std::string::npos);
    CHECK(alt->in_reply_to.empty());  // nothing to thread under
    CHECK(both.reference_ids.empty());
}
