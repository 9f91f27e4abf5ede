// The inbound rules (matching::plan_ingest) against an in-memory fake store.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "matching/ingest.hpp"
#include "matching/subject.hpp"
#include "mime/address.hpp"

using namespace casemail::matching;
using casemail::mime::Address;
using casemail::mime::ParsedMessage;

namespace {

struct FakeContact {
    FakeContact(Id i, std::string a, bool g, bool r, bool arch = false, std::optional<Id> m = std::nullopt)
        : id(i), address(std::move(a)), guest(g), registered(r), archived(arch), merged_into(m) {}
    Id id;
    std::string address;
    bool guest, registered, archived;
    std::optional<Id> merged_into;
};

class FakeLookups : public Lookups {
public:
    std::vector<CaseRef> cases;
    std::map<std::string, Id> message_case;  // Message-ID -> case id
    std::multimap<std::string, std::optional<Id>> reused;  // Message-ID -> the cases of its carriers
    std::vector<FakeContact> contacts;
    std::vector<QueueRef> queues{{1, "Public Works", "311PublicWorks@city.example"},
                                 {2, "DWP", "311DWP@city.example"}};
    std::map<std::string, int> acks;

    std::optional<CaseRef> case_by_token(const std::string& token) override {
        for (const auto& c : cases)
            if (c.token == token) return c;
        return std::nullopt;
    }
    std::vector<std::optional<CaseRef>> cases_by_message_id(const std::string& id) override {
        std::vector<std::optional<CaseRef>> out;
        auto case_of = [&](std::optional<Id> case_id) -> std::optional<CaseRef> {
            for (const auto& c : cases)
                if (case_id && c.id == *case_id) return c;
            return std::nullopt;
        };
        // Distinct cases, as the store's SELECT DISTINCT answers.
        auto add = [&](std::optional<Id> case_id) {
            auto c = case_of(case_id);
            for (const auto& o : out)
                if ((o ? o->id : 0) == (c ? c->id : 0)) return;
            out.push_back(c);
        };
        if (auto it = message_case.find(id); it != message_case.end()) add(it->second);
        for (auto [it, end] = reused.equal_range(id); it != end; ++it) add(it->second);
        return out;
    }
    std::vector<ContactRef> active_contacts(const std::string& norm) override {
        std::vector<ContactRef> out;
        for (const auto& c : contacts)
            if (casemail::mime::normalize_address(c.address) == norm && !c.archived && !c.merged_into)
                out.push_back({c.id, c.guest, c.registered});
        return out;
    }
    std::optional<QueueRef> queue_by_address(const std::string& norm) override {
        for (const auto& q : queues)
            if (casemail::mime::normalize_address(q.mailbox) == norm) return q;
        return std::nullopt;
    }
    int acks_since(const std::string& norm, TimePoint) override { return acks[norm]; }
    std::optional<QueueRef> queue_by_name(const std::string& name) override {
        for (const auto& q : queues)
            if (q.name == name) return q;
        return std::nullopt;
    }
    // Who writes on which case; with everyone_on_cases, every sender does (the rules before
    // the foreign-sender check).
    bool everyone_on_cases = true;
    std::set<std::pair<Id, std::string>> on_case;
    bool sender_on_case(Id case_id, const std::string& norm) override {
        return everyone_on_cases || on_case.count({case_id, norm}) > 0;
    }
    std::map<std::string, OpenedCases> opened;  // "addr" or "@domain" -> cases opened this hour
    OpenedCases cases_opened_by(const std::string& key, bool domain, TimePoint) override {
        auto it = opened.find(domain ? "@" + key : key);
        return it == opened.end() ? OpenedCases{} : it->second;
    }

    Id add_case(const std::string& token, CaseStatus status = CaseStatus::active,
                std::optional<TimePoint> resolved_at = std::nullopt, Id customer = 1,
                std::optional<std::string> work_order_system = std::nullopt) {
        Id id = static_cast<Id>(cases.size()) + 100;
        cases.push_back({id, token, status, resolved_at, customer, work_order_system});
        return id;
    }
};

const QueueRef public_works{1, "Public Works", "311PublicWorks@city.example"};
const TimePoint now = std::chrono::system_clock::from_time_t(1795000000);

ParsedMessage mail(const std::string& from, const std::string& subject = "Pothole on Elm St") {
    ParsedMessage m;
    m.from = {{"Ann Lee", from}};
    m.to = {{"", "311PublicWorks@city.example"}};
    m.subject = subject;
    m.message_id = "m1@example.org";
    m.text = "There is a pothole.";
    return m;
}

IngestPlan plan(const ParsedMessage& m, FakeLookups& f, IngestRules rules = {}) {
    rules.own_message_id_domain = "casemail.city.example";
    return plan_ingest(m, public_works, rules, f, now);
}

const PartyPlan& party(const IngestPlan& p, const std::string& role, std::size_t nth = 0) {
    for (const auto& x : p.parties)
        if (x.role == role && nth-- == 0) return x;
    FAIL("no such party");
    throw;
}

}  // namespace

TEST_CASE("subject tokens") {
    CHECK(find_subject_tokens("RE: AW: [311-000042-K7QX] Pothole", "311") == std::vector<std::string>{"311-000042-K7QX"});
    CHECK(find_subject_tokens("Fw: 311-000042-k7qx follow-up", "311") == std::vector<std::string>{"311-000042-K7QX"});
    CHECK(find_subject_tokens("A311-000042-K7QX", "311").empty());      // part of a word
    CHECK(find_subject_tokens("311-000042-K7QXZ", "311").empty());      // too long a suffix
    CHECK(find_subject_tokens("311-00042-K7QX", "311").empty());        // too few digits
    CHECK(find_subject_tokens("DWP-000042-K7QX", "311").empty());       // other prefix
    CHECK(find_subject_tokens("[311-000001-AAAA] and [311-000002-BBBB]", "311").size() == 2);
}

TEST_CASE("case titles") {
    CHECK(case_title("RE: AW: Fwd: [311-000042-K7QX] Pothole on Elm", "311") == "Pothole on Elm");
    CHECK(case_title("Re[2]: RE: Missed  trash", "311") == "Missed trash");
    CHECK(case_title("   ", "311") == "(no subject)");
    CHECK(case_title("[311-000042-K7QX]", "311") == "(no subject)");
    CHECK(case_title("Réponse: Rebate", "311") == "Réponse: Rebate");  // not a prefix word
    CHECK(case_title("SV: Vattenläcka", "311") == "Vattenläcka");
}

TEST_CASE("no-reply addresses") {
    CHECK(is_no_reply_address("noreply@x.org"));
    CHECK(is_no_reply_address("No-Reply+abc@x.org"));
    CHECK(is_no_reply_address("do_not_reply@x.org"));
    CHECK(is_no_reply_address("MAILER-DAEMON@x.org"));
    CHECK_FALSE(is_no_reply_address("ann@x.org"));
    CHECK_FALSE(is_no_reply_address("replyto@x.org"));
}

TEST_CASE("rule 2: loop, bounce and bulk guard") {
    FakeLookups f;
    auto token_case = f.add_case("311-000001-AAAA");
    SUBCASE("an auto-reply without a case is ignored with the reason") {
        auto m = mail("ann@example.org", "Out of office");
        m.flags.auto_reply = {true, "Auto-Submitted: auto-replied"};
        auto p = plan(m, f);
        CHECK(p.action == Action::ignored);
        CHECK(p.reason.find("auto-reply") != std::string::npos);
        CHECK_FALSE(p.queue_ack);
        CHECK_FALSE(p.create_guest);
    }
    SUBCASE("an auto-reply to a case is linked, never a new case or ack") {
        auto m = mail("ann@example.org", "Automatic reply: [311-000001-AAAA] Pothole");
        m.flags.auto_reply = {true, "X-Autoreply: yes"};
        auto p = plan(m, f);
        CHECK(p.action == Action::linked);
        CHECK(p.linked_case->id == token_case);
        CHECK_FALSE(p.queue_ack);
    }
    SUBCASE("bounces and bulk") {
        auto m = mail("MAILER-DAEMON@mx.example.org");
        m.flags.bounce = {true, "From: MAILER-DAEMON@mx.example.org"};
        CHECK(plan(m, f).action == Action::ignored);
        auto b = mail("news@example.org");
        b.flags.bulk = {true, "Precedence: bulk"};
        CHECK(plan(b, f).reason.find("bulk") != std::string::npos);
    }
    SUBCASE("mail from our own mailbox, or with our Message-ID domain") {
        CHECK(plan(mail("311dwp@CITY.example"), f).reason.find("own mailbox") != std::string::npos);
        auto m = mail("ann@example.org");
        m.message_id = "311-000001-AAAA.1@casemail.city.example";
        CHECK(plan(m, f).action == Action::ignored);
    }
}

TEST_CASE("rule 3: correlation order and conflicts") {
    FakeLookups f;
    auto a = f.add_case("311-000001-AAAA");
    auto b = f.add_case("311-000002-BBBB");
    f.message_case["agent-reply-b@casemail.city.example"] = b;
    f.message_case["first-a@example.org"] = a;
    SUBCASE("token in subject") {
        auto p = plan(mail("ann@example.org", "RE: [311-000001-AAAA] Pothole"), f);
        CHECK(p.action == Action::linked);
        CHECK(p.linked_case->id == a);
    }
    SUBCASE("X-311-Case header when the subject has none") {
        auto m = mail("ann@example.org", "Re: your request");
        m.tracking = "311-000002-bbbb";
        CHECK(plan(m, f).linked_case->id == b);
    }
    SUBCASE("In-Reply-To alone") {
        auto m = mail("ann@example.org", "Re: your request");
        m.in_reply_to = {"agent-reply-b@casemail.city.example"};
        auto p = plan(m, f);
        CHECK(p.linked_case->id == b);
        CHECK(p.reason.find("In-Reply-To") != std::string::npos);
    }
    SUBCASE("References when In-Reply-To is unknown, nearest known ancestor first") {
        auto m = mail("ann@example.org", "Re: Re: request");
        m.in_reply_to = {"never-seen@example.org"};
        m.references = {"first-a@example.org", "agent-reply-b@casemail.city.example", "never-seen@example.org"};
        CHECK(plan(m, f).linked_case->id == b);
    }
    SUBCASE("the token wins over a conflicting reply chain, with a defect") {
        auto m = mail("ann@example.org", "RE: [311-000001-AAAA]");
        m.in_reply_to = {"agent-reply-b@casemail.city.example"};
        auto p = plan(m, f);
        CHECK(p.linked_case->id == a);
        REQUIRE_FALSE(p.defects.empty());
        CHECK(p.defects.back().find("token wins") != std::string::npos);
    }
    SUBCASE("a reused Message-ID in the reply chain names no case: a new case for review, no receipt") {
        f.reused.insert({"1@scanner", a});
        f.reused.insert({"1@scanner", b});
        auto m = mail("ann@example.org", "Re: scan");
        m.in_reply_to = {"1@scanner"};
        m.references = {"first-a@example.org", "1@scanner"};  // an older, unambiguous ancestor is no excuse to guess
        auto p = plan(m, f);
        CHECK(p.action == Action::created);
        CHECK(p.flag_needs_review);
        CHECK_FALSE(p.queue_ack);
        CHECK(p.reason.find("<1@scanner>") != std::string::npos);
        REQUIRE_FALSE(p.defects.empty());
        CHECK(p.defects.front().find("311-000001-AAAA, 311-000002-BBBB") != std::string::npos);
        SUBCASE("a token still decides") {
            m.subject = "Re: [311-000002-BBBB] scan";
            auto q = plan(m, f);
            CHECK(q.action == Action::linked);
            CHECK(q.linked_case->id == b);
            CHECK_FALSE(q.flag_needs_review);
        }
    }
    SUBCASE("an id carried by several emails all on one case still names it; on no case, none") {
        f.reused.insert({"same@x", b});
        f.reused.insert({"same@x", b});  // the store answers distinct cases; a repeat changes nothing here
        f.reused.insert({"lost@x", std::nullopt});
        auto m = mail("ann@example.org", "Re: x");
        m.in_reply_to = {"lost@x", "same@x"};
        auto p = plan(m, f);
        REQUIRE(p.linked_case);
        CHECK(p.linked_case->id == b);
    }
    SUBCASE("a spoofed token (right shape, no such case) does not match") {
        auto p = plan(mail("ann@example.org", "RE: [311-000001-ZZZZ] give me that case"), f);
        CHECK(p.action == Action::created);
        CHECK(p.defects.front().find("unknown case token") != std::string::npos);
    }
    SUBCASE("a token only in the body or a forwarded message does not match") {
        auto m = mail("ann@example.org", "Fwd: complaint");
        m.text = "see case 311-000001-AAAA";
        casemail::mime::Attachment fwd;
        fwd.content_type = "message/rfc822";
        fwd.nested_subject = "[311-000001-AAAA] old";
        m.attachments.push_back(fwd);
        CHECK(plan(m, f).action == Action::created);
    }
}

TEST_CASE("mail on a case with the work-order system: linked for history and flagged for its owner") {
    FakeLookups f;
    auto c = f.add_case("311-000001-AAAA", CaseStatus::active, std::nullopt, 1, std::string("nexgen"));
    IngestRules r;
    r.on_resolved = OnResolved::reactivate;  // (nothing to reactivate: the case is active)
    auto p = plan(mail("ann@example.org", "RE: [311-000001-AAAA] still broken"), f, r);
    CHECK(p.action == Action::linked);
    CHECK(p.linked_case->id == c);
    CHECK(p.flag_needs_review);
    CHECK_FALSE(p.reactivate);
    CHECK(p.review_reason == "mail on case 311-000001-AAAA while its work order is with nexgen");
    CHECK(p.reason.find("with the work-order system nexgen") != std::string::npos);
}

TEST_CASE("rule 4: resolved cases and the window") {
    FakeLookups f;
    auto recent = f.add_case("311-000001-AAAA", CaseStatus::resolved, now - std::chrono::hours(24 * 13));
    auto old = f.add_case("311-000002-BBBB", CaseStatus::resolved, now - std::chrono::hours(24 * 15));
    auto cancelled = f.add_case("311-000003-CCCC", CaseStatus::cancelled);
    SUBCASE("inside the window: linked and flagged, status unchanged") {
        auto p = plan(mail("ann@example.org", "RE: [311-000001-AAAA]"), f);
        CHECK(p.action == Action::linked);
        CHECK(p.linked_case->id == recent);
        CHECK(p.flag_needs_review);
        CHECK_FALSE(p.reactivate);
    }
    SUBCASE("after the window: a new case with the old one as parent") {
        auto p = plan(mail("ann@example.org", "RE: [311-000002-BBBB] Pothole again"), f);
        CHECK(p.action == Action::created);
        CHECK(p.parent_case_id == old);
        CHECK(p.title == "Pothole again");
    }
    SUBCASE("a cancelled case gets a follow-up case too") {
        CHECK(plan(mail("ann@example.org", "RE: [311-000003-CCCC]"), f).parent_case_id == cancelled);
    }
    SUBCASE("configurable inside the window: reactivate, or always a new case") {
        IngestRules r;
        r.on_resolved = OnResolved::reactivate;
        auto p = plan(mail("ann@example.org", "RE: [311-000001-AAAA]"), f, r);
        CHECK(p.reactivate);
        CHECK_FALSE(p.flag_needs_review);
        r.on_resolved = OnResolved::new_case;
        CHECK(plan(mail("ann@example.org", "RE: [311-000001-AAAA]"), f, r).parent_case_id == recent);
    }
    SUBCASE("the window is configurable") {
        IngestRules r;
        r.resolved_window = std::chrono::hours(24 * 30);
        CHECK(plan(mail("ann@example.org", "RE: [311-000002-BBBB]"), f, r).action == Action::linked);
    }
}

TEST_CASE("rule 5: identity of the sender") {
    FakeLookups f;
    SUBCASE("exactly one registered contact is the customer") {
        f.contacts = {{1, "Ann@Example.org", false, true}, {2, "ann@example.org", true, false}};
        auto p = plan(mail("ANN@example.ORG"), f);
        CHECK(p.action == Action::created);
        CHECK(p.customer_contact_id == 1);
        CHECK_FALSE(p.create_guest);
        CHECK(p.history_contact_ids == std::vector<Id>{1, 2});  // the guest keeps the history too
        CHECK(party(p, "from").contact_id == 1);
    }
    SUBCASE("no contact: a new guest named from the display name") {
        auto p = plan(mail("new@example.org"), f);
        CHECK(p.create_guest);
        CHECK(p.guest_name == "Ann Lee");
        CHECK(p.guest_address == "new@example.org");
        CHECK(party(p, "from").is_new_guest);
        CHECK(p.link_history_to_new_guest);
    }
    SUBCASE("only guests: another new guest, no dedup") {
        f.contacts = {{5, "g@example.org", true, false}, {6, "g@example.org", true, false}};
        auto p = plan(mail("g@example.org"), f);
        CHECK(p.create_guest);
        CHECK_FALSE(p.ambiguous_sender);
        CHECK(p.history_contact_ids == std::vector<Id>{5, 6});
    }
    SUBCASE("several registered: a guest, never a guess, and a review item") {
        f.contacts = {{1, "family@example.net", false, true}, {2, "family@example.net", false, true}};
        auto p = plan(mail("family@example.net"), f);
        CHECK(p.create_guest);
        CHECK(p.ambiguous_sender);
        CHECK_FALSE(p.customer_contact_id.has_value());
        const auto& from = party(p, "from");
        CHECK_FALSE(from.resolved);
        CHECK(from.candidates == std::vector<Id>{1, 2});
        CHECK(p.history_contact_ids == std::vector<Id>{1, 2});
    }
    SUBCASE("archived and merged contacts do not count") {
        f.contacts = {{1, "a@example.org", false, true, true}, {2, "a@example.org", true, false, false, 3},
                      {3, "a@example.org", false, true}};
        auto p = plan(mail("a@example.org"), f);
        CHECK(p.customer_contact_id == 3);
        CHECK(p.history_contact_ids == std::vector<Id>{3});
    }
    SUBCASE("Sender stands in for a missing From") {
        auto m = mail("x@example.org");
        m.from.clear();
        m.sender = {{"Desk", "desk@example.org"}};
        auto p = plan(m, f);
        CHECK(p.guest_address == "desk@example.org");
        CHECK(party(p, "from").address == "desk@example.org");
    }
    SUBCASE("a linked case never changes its customer because of who wrote") {
        f.add_case("311-000001-AAAA", CaseStatus::active, std::nullopt, 77);
        f.contacts = {{9, "other@example.org", false, true}};
        auto p = plan(mail("other@example.org", "Re: [311-000001-AAAA]"), f);
        CHECK(p.action == Action::linked);
        CHECK_FALSE(p.create_guest);
        CHECK_FALSE(p.customer_contact_id.has_value());
        CHECK(party(p, "from").contact_id == 9);
    }
}

TEST_CASE("rule 6: parties") {
    FakeLookups f;
    f.contacts = {{1, "one@example.org", false, true}, {2, "two@example.org", false, true},
                  {3, "two@example.org", true, false}};
    auto m = mail("ann@example.org");
    m.to = {{"", "311PublicWorks@city.example"}, {"", "One@Example.org"}};
    m.cc = {{"", "two@example.org"}, {"", "nobody@example.org"}};
    m.bcc = {{"", "311DWP@city.example"}};
    auto p = plan(m, f);
    CHECK(party(p, "to", 0).queue_id == 1);
    CHECK(party(p, "to", 0).resolved);
    CHECK(party(p, "to", 1).contact_id == 1);
    CHECK_FALSE(party(p, "cc", 0).resolved);
    CHECK(party(p, "cc", 0).candidates == std::vector<Id>{2, 3});
    CHECK_FALSE(party(p, "cc", 1).resolved);
    CHECK(party(p, "cc", 1).candidates.empty());
    CHECK(party(p, "bcc", 0).queue_id == 2);
    CHECK(p.history_contact_ids == std::vector<Id>{1, 2, 3});
}

TEST_CASE("rules 8 and 9: new case fields and acknowledgement") {
    FakeLookups f;
    auto p = plan(mail("ann@example.org", "RE: FW: Missed trash pickup"), f);
    CHECK(p.title == "Missed trash pickup");
    CHECK(p.description == "There is a pothole.");
    CHECK(p.queue_id == public_works.id);
    CHECK(p.queue_ack);
    CHECK(p.ack_address == "ann@example.org");
    SUBCASE("never to a no-reply address") {
        CHECK_FALSE(plan(mail("no-reply@shop.example"), f).queue_ack);
    }
    SUBCASE("at most three per address per hour") {
        f.acks["ann@example.org"] = 3;
        auto q = plan(mail("Ann@example.org"), f);
        CHECK_FALSE(q.queue_ack);
        CHECK(q.action == Action::created);
    }
    SUBCASE("disabled by configuration") {
        IngestRules r;
        r.auto_ack = false;
        CHECK_FALSE(plan(mail("ann@example.org"), f, r).queue_ack);
    }
}

TEST_CASE("the same message, whatever mailbox or fetch it came through") {
    auto m = mail("ann@example.org");
    auto fp = message_fingerprint(m);
    CHECK(fp.size() == 64);
    auto copy = m;
    copy.headers.push_back({"Received", "from mx2.city.example"});
    copy.return_path = "<bounce@example.org>";
    copy.to = {{"", "311DWP@city.example"}};  // delivered to another 311 mailbox
    CHECK(message_fingerprint(copy) == fp);
    auto other_sender = m;
    other_sender.from = {{"Tree Crew", "crew@example.net"}};
    auto other_subject = m;
    other_subject.subject = "Tree down on Pine Ave";
    auto other_date = m;
    other_date.date = now;
    auto other_body = m;
    other_body.text = "A tree is down.";
    auto other_attachment = m;
    other_attachment.attachments.push_back({});
    other_attachment.attachments.back().sha256 = std::string(64, 'a');
    for (const auto* other : {&other_sender, &other_subject, &other_date, &other_body, &other_attachment})
        CHECK(message_fingerprint(*other) != fp);
}

TEST_CASE("the attachment block-list") {
    IngestRules rules;
    for (const char* name : {"invoice.exe", "INVOICE.EXE", "invoice.pdf.exe", "invoice.pdf.exe ", "invoice.exe.",
                             "invoice.exe. . ", "run.JS"})
        CHECK_MESSAGE(attachment_blocked(name, rules.blocked_extensions), name);
    for (const char* name : {"form.pdf", "exe", "", "photo.jpeg", "notes.exe.txt", "..."})
        CHECK_FALSE_MESSAGE(attachment_blocked(name, rules.blocked_extensions), name);
    CHECK_FALSE(attachment_blocked("tool.exe", {"js"}));
}

TEST_CASE("a stranger's match: linked for history and reviewed, or a case of its own") {
    FakeLookups f;
    f.everyone_on_cases = false;
    auto c = f.add_case("311-000001-AAAA", CaseStatus::resolved, now - std::chrono::hours(1), 7);
    f.on_case.insert({c, "ann@example.org"});
    f.message_case["agent-1@casemail.city.example"] = c;

    SUBCASE("the customer's own reply links as before, with its evidence") {
        auto p = plan(mail("ann@example.org", "RE: [311-000001-AAAA] Pothole"), f);
        CHECK(p.action == Action::linked);
        CHECK(p.evidence.method == "subject-token");
        CHECK(p.evidence.detail == "311-000001-AAAA");
        CHECK(p.review_reason == "mail on resolved case 311-000001-AAAA");
    }
    SUBCASE("a stranger with the token: linked, on the review list, no reactivation, no acknowledgement") {
        IngestRules rules;
        rules.on_resolved = OnResolved::reactivate;
        auto p = plan(mail("mallory@evil.example", "RE: [311-000001-AAAA] give me the file"), f, rules);
        CHECK(p.action == Action::linked);
        CHECK(p.linked_case->id == c);
        CHECK_FALSE(p.reactivate);
        CHECK(p.flag_needs_review);
        CHECK_FALSE(p.queue_ack);
        CHECK_FALSE(p.create_guest);
        CHECK_FALSE(p.customer_contact_id);
        CHECK(p.review_reason == "sender not on this case: mallory@evil.example matched 311-000001-AAAA by subject-token");
    }
    SUBCASE("a stranger by the reply chain: the Message-ID is the evidence") {
        auto m = mail("mallory@evil.example", "Re: your request");
        m.in_reply_to = {"agent-1@casemail.city.example"};
        auto p = plan(m, f);
        CHECK(p.action == Action::linked);
        CHECK(p.evidence.method == "in-reply-to");
        CHECK(p.evidence.detail == "<agent-1@casemail.city.example>");
        CHECK(p.review_reason.find("sender not on this case") == 0);
    }
    SUBCASE("on_foreign_sender = new_case: the stranger gets a case of their own, acknowledged") {
        IngestRules rules;
        rules.on_foreign_sender = OnForeignSender::new_case;
        auto p = plan(mail("mallory@evil.example", "RE: [311-000001-AAAA] give me the file"), f, rules);
        CHECK(p.action == Action::created);
        CHECK_FALSE(p.parent_case_id);
        CHECK(p.create_guest);
        CHECK(p.queue_ack);
        CHECK(p.evidence.method == "new-case");
        CHECK(p.review_reason.empty());
        CHECK(std::find_if(p.defects.begin(), p.defects.end(), [](const std::string& d) {
                  return d.find("is not on case 311-000001-AAAA") != std::string::npos;
              }) != p.defects.end());
    }
    SUBCASE("mail without a sender address cannot prove it belongs") {
        auto m = mail("", "RE: [311-000001-AAAA] Pothole");
        m.from.clear();
        auto p = plan(m, f);
        CHECK(p.action == Action::linked);
        CHECK(p.review_reason.find("sender not on this case: (no sender address)") == 0);
    }
}

TEST_CASE("flood guard: past the hourly limit mail is history on the latest case, one review item") {
    FakeLookups f;
    auto latest = f.add_case("311-000010-JJJJ");
    IngestRules rules;
    rules.max_new_cases_per_sender = 10;
    SUBCASE("at the limit minus one a case is still opened") {
        f.opened["flood@example.org"] = {9, f.cases.back(), false};
        auto p = plan(mail("flood@example.org"), f, rules);
        CHECK(p.action == Action::created);
        CHECK(p.opened_by == "flood@example.org");
    }
    SUBCASE("at the limit: linked, flagged once, no acknowledgement") {
        f.opened["flood@example.org"] = {10, f.cases.back(), false};
        auto p = plan(mail("Flood@Example.org"), f, rules);
        CHECK(p.action == Action::linked);
        CHECK(p.linked_case->id == latest);
        CHECK(p.flood_started);
        CHECK(p.flag_needs_review);
        CHECK_FALSE(p.queue_ack);
        CHECK(p.evidence.method == "flood");
        CHECK(p.review_reason == "flood guard: flood@example.org opened 10 cases in the last hour; linked to "
                                 "311-000010-JJJJ as history");
        f.opened["flood@example.org"].flood_noted = true;
        auto next = plan(mail("flood@example.org"), f, rules);
        CHECK(next.action == Action::linked);
        CHECK_FALSE(next.flood_started);
        CHECK_FALSE(next.flag_needs_review);
        CHECK(next.review_reason.empty());
    }
    SUBCASE("a reply to its case still links by its token") {
        f.opened["flood@example.org"] = {50, f.cases.back(), true};
        auto p = plan(mail("flood@example.org", "RE: [311-000010-JJJJ] more"), f, rules);
        CHECK(p.evidence.method == "subject-token");
    }
    SUBCASE("0 turns it off; the domain limit is off unless set") {
        f.opened["flood@example.org"] = {500, f.cases.back(), false};
        f.opened["@example.org"] = {500, f.cases.back(), false};
        rules.max_new_cases_per_sender = 0;
        CHECK(plan(mail("flood@example.org"), f, rules).action == Action::created);
        rules.max_new_cases_per_domain = 100;
        auto p = plan(mail("other@example.org"), f, rules);
        CHECK(p.action == Action::linked);
        CHECK(p.review_reason.find("flood guard: @example.org opened 500 cases") == 0);
    }
}

TEST_CASE("routing in plan_ingest: no_case, queue and fields for new cases; replies never re-routed") {
    FakeLookups f;
    auto c = f.add_case("311-000001-AAAA");
    (void)c;
    IngestRules rules;
    RouteRule spam;
    spam.name = "spam";
    spam.subject_words = {"lottery"};
    spam.no_case = true;
    RouteRule water;
    water.name = "water";
    water.subject_words = {"leak"};
    water.queue = "DWP";
    water.category = "Water";
    water.request_type = "Report";
    water.priority = "high";
    RouteRule lost;
    lost.name = "lost";
    lost.subject_words = {"lost"};
    lost.queue = "Nowhere";
    rules.routes = {spam, water, lost};

    auto p = plan(mail("ann@example.org", "You won the lottery"), f, rules);
    CHECK(p.action == Action::ignored);
    CHECK(p.reason == "no case: routing rule 'spam'");
    CHECK_FALSE(p.queue_ack);
    CHECK_FALSE(p.parties.empty());  // still linked to the sender's contacts for history

    p = plan(mail("ann@example.org", "Leak on Elm"), f, rules);
    CHECK(p.action == Action::created);
    CHECK(p.queue_id == 2);
    CHECK(p.route == "water");
    CHECK(p.category == "Water");
    CHECK(p.request_type == "Report");
    CHECK(p.priority == "high");
    CHECK(p.evidence.detail == "routed by rule 'water' (subject has the word 'leak')");
    CHECK(p.queue_ack);

    p = plan(mail("ann@example.org", "Lost dog"), f, rules);
    CHECK(p.queue_id == 1);  // the mailbox's queue keeps it
    CHECK(p.defects.back().find("no queue named 'Nowhere'") != std::string::npos);

    p = plan(mail("ann@example.org", "RE: [311-000001-AAAA] lottery leak"), f, rules);
    CHECK(p.action == Action::linked);  // a reply is never routed
}
