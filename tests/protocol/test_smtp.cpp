// The relay's SMTP state machine, line by line, without a socket.
#include <doctest/doctest.h>

#include "daemon/protocol/network.hpp"
#include "daemon/protocol/smtp.hpp"

using namespace casemail::protocol;
using namespace casemail::protocol::smtp;

namespace {

struct Client {
    Session s;
    explicit Client(SessionPolicy p = trusted(), Limits l = {})
        : s(l, p, [](const std::string& u, const std::string& pw) {
              if (u == "locked-out") return LoginCheck::deferred;
              return u == "agent" && pw == "agent-secret" ? LoginCheck::accepted : LoginCheck::rejected;
          }) {}
    static SessionPolicy trusted() {
        SessionPolicy p;
        p.client_trusted = true;
        return p;
    }
    // The reply code of one line.
    int say(std::string_view line, bool too_long = false) {
        last = s.on_line(line, too_long);
        return last.text.size() >= 3 ? std::stoi(last.text.substr(0, 3)) : 0;
    }
    Reply last;
};

}  // namespace

TEST_CASE("smtp: a whole transaction with dot-transparency") {
    Client c;
    CHECK(c.s.greeting().rfind("220 ", 0) == 0);
    CHECK(c.say("EHLO agent-pc") == 250);
    CHECK(c.last.text.find("250-SIZE 26214400\r\n") != std::string::npos);
    CHECK(c.last.text.find("250-8BITMIME\r\n") != std::string::npos);
    CHECK(c.last.text.find("250-PIPELINING\r\n") != std::string::npos);
    CHECK(c.last.text.find("STARTTLS") == std::string::npos);  // no certificate configured
    CHECK(c.last.text.find("AUTH") == std::string::npos);
    CHECK(c.say("MAIL FROM:<asmith@city.example> SIZE=1000 BODY=8BITMIME") == 250);
    CHECK(c.say("RCPT TO:<ann@example.org>") == 250);
    CHECK(c.say("RCPT TO:<bob@example.org>") == 250);
    CHECK(c.say("DATA") == 354);
    CHECK(c.say("Subject: hi") == 0);
    CHECK(c.say("") == 0);
    CHECK(c.say("..leading dot") == 0);
    CHECK(c.say(".") == 0);
    REQUIRE(c.last.message);
    CHECK(c.s.envelope().mail_from == "asmith@city.example");
    CHECK(c.s.envelope().rcpt_to == std::vector<std::string>{"ann@example.org", "bob@example.org"});
    CHECK(c.s.data() == "Subject: hi\r\n\r\n.leading dot\r\n");
    c.s.message_handled();
    CHECK(c.say("MAIL FROM:<>") == 250);  // the null sender
    CHECK(c.say("RSET") == 250);
    CHECK(c.say("RCPT TO:<a@b.example>") == 503);
    CHECK(c.say("QUIT") == 221);
    CHECK(c.last.close);
}

TEST_CASE("smtp: order of commands") {
    Client c;
    CHECK(c.say("MAIL FROM:<a@b.example>") == 503);  // EHLO first
    CHECK(c.say("HELO agent-pc") == 250);
    CHECK(c.say("DATA") == 503);
    CHECK(c.say("MAIL FROM:<a@b.example>") == 250);
    CHECK(c.say("MAIL FROM:<a@b.example>") == 503);
    CHECK(c.say("DATA") == 503);
    CHECK(c.say("RCPT TO:<not an address>") == 501);
    CHECK(c.say("RCPT TO:<>") == 501);
    CHECK(c.say("NOOP") == 250);
    CHECK(c.say("VRFY ann") == 252);
    CHECK(c.say("EHLO") == 501);
    CHECK(c.say("WHAT") == 500);
}

TEST_CASE("smtp: never an open relay") {
    SessionPolicy p;  // untrusted network, AUTH offered over plaintext (tests only)
    p.auth_offered = true;
    p.allow_plaintext_auth = true;
    Client c(p);
    CHECK(c.say("EHLO outside") == 250);
    CHECK(c.last.text.find("250-AUTH PLAIN LOGIN\r\n") != std::string::npos);
    CHECK(c.say("MAIL FROM:<spammer@example.com>") == 530);
    SUBCASE("AUTH PLAIN with an initial response") {
        CHECK(c.say("AUTH PLAIN AGFnZW50AHdyb25n") == 535);        // \0agent\0wrong
        CHECK(c.say("AUTH PLAIN AGFnZW50AGFnZW50LXNlY3JldA==") == 235);  // \0agent\0agent-secret
        CHECK(c.s.envelope().user == "agent");
        CHECK(c.say("MAIL FROM:<asmith@city.example>") == 250);
        CHECK(c.say("AUTH PLAIN AGFnZW50AGFnZW50LXNlY3JldA==") == 503);
    }
    SUBCASE("AUTH LOGIN in steps") {
        CHECK(c.say("AUTH LOGIN") == 334);
        CHECK(c.say("YWdlbnQ=") == 334);                // agent
        CHECK(c.say("YWdlbnQtc2VjcmV0") == 235);        // agent-secret
        CHECK(c.say("MAIL FROM:<asmith@city.example>") == 250);
    }
    SUBCASE("cancel and garbage") {
        CHECK(c.say("AUTH PLAIN") == 334);
        CHECK(c.say("*") == 501);
        CHECK(c.say("AUTH CRAM-MD5") == 504);
        CHECK(c.say("AUTH PLAIN") == 334);
        CHECK(c.say("!!!not base64") == 501);
    }
    SUBCASE("three wrong passwords close the connection") {
        CHECK(c.say("AUTH PLAIN AGFnZW50AHgx") == 535);
        CHECK(c.say("AUTH PLAIN AGFnZW50AHgy") == 535);
        CHECK(c.say("AUTH PLAIN AGFnZW50AHgz") == 421);
        CHECK(c.last.close);
    }
}

TEST_CASE("smtp: AUTH needs TLS unless allowed in plaintext; STARTTLS resets the session") {
    SessionPolicy p;
    p.auth_offered = true;
    p.tls_offered = true;
    Client c(p);
    CHECK(c.say("EHLO outside") == 250);
    CHECK(c.last.text.find("250-STARTTLS\r\n") != std::string::npos);
    CHECK(c.last.text.find("AUTH") == std::string::npos);
    CHECK(c.say("AUTH PLAIN AGFnZW50AGFnZW50LXNlY3JldA==") == 538);
    CHECK(c.say("STARTTLS now") == 501);
    CHECK(c.say("STARTTLS") == 220);
    CHECK(c.last.start_tls);
    c.s.tls_established();
    CHECK(c.say("MAIL FROM:<a@b.example>") == 503);  // RFC 3207: EHLO again
    CHECK(c.say("EHLO outside") == 250);
    CHECK(c.last.text.find("STARTTLS") == std::string::npos);
    CHECK(c.last.text.find("250-AUTH PLAIN LOGIN") != std::string::npos);
    CHECK(c.say("STARTTLS") == 503);
    CHECK(c.say("AUTH PLAIN AGFnZW50AGFnZW50LXNlY3JldA==") == 235);
}

TEST_CASE("smtp: an address backing off is closed with 421 4.7.0, its password unchecked") {
    SessionPolicy p;
    p.auth_offered = true;
    p.allow_plaintext_auth = true;
    Client c(p);
    CHECK(c.say("EHLO outside") == 250);
    // AUTH PLAIN \0locked-out\0agent-secret
    CHECK(c.say("AUTH PLAIN AGxvY2tlZC1vdXQAYWdlbnQtc2VjcmV0") == 421);
    CHECK(c.last.close);
    CHECK(c.last.text.find("4.7.0 too many failed logins from your address") != std::string::npos);
}

TEST_CASE("smtp: limits at N and N+1") {
    Limits l;
    l.max_message_bytes = 100;
    l.max_recipients = 2;
    l.max_bad_commands = 3;
    Client c(Client::trusted(), l);
    CHECK(c.say("EHLO a") == 250);
    CHECK(c.say("MAIL FROM:<a@b.example> SIZE=100") == 250);
    CHECK(c.say("RSET") == 250);
    CHECK(c.say("MAIL FROM:<a@b.example> SIZE=101") == 552);
    CHECK(c.say("MAIL FROM:<a@b.example> SIZE=99999999999999999999999") == 552);
    CHECK(c.say("MAIL FROM:<a@b.example> FOO=1") == 555);
    CHECK(c.say("MAIL FROM:<a@b.example>") == 250);
    CHECK(c.say("RCPT TO:<1@b.example>") == 250);
    CHECK(c.say("RCPT TO:<2@b.example>") == 250);
    CHECK(c.say("RCPT TO:<3@b.example>") == 452);
    CHECK(c.say("DATA") == 354);
    SUBCASE("a message of exactly the limit is taken") {
        c.say(std::string(98, 'x'));  // 98 + CRLF = 100
        CHECK(c.say(".") == 0);
        CHECK(c.last.message);
    }
    SUBCASE("one byte more is refused at the end, and nothing is kept") {
        c.say(std::string(99, 'x'));
        CHECK(c.say(".") == 552);
        CHECK_FALSE(c.last.message);
        CHECK(c.s.data().empty());
        CHECK(c.say("MAIL FROM:<a@b.example>") == 250);  // the session goes on
    }
    SUBCASE("an over-long line inside DATA") {
        c.say("xxxx", true);
        CHECK(c.say(".") == 500);
    }
    SUBCASE("an over-long command, then too many errors") {
        c.say(".");
        c.s.message_handled();
        CHECK(c.say("NOOP xxxxxxxx", true) == 500);
        CHECK(c.say("BOGUS") == 500);
        CHECK(c.say("BOGUS") == 421);
        CHECK(c.last.close);
    }
}

TEST_CASE("smtp: paths") {
    std::string a, p;
    CHECK(parse_path("<ann@example.org>", a, p));
    CHECK(a == "ann@example.org");
    CHECK(parse_path(" <ann@example.org> SIZE=10", a, p));
    CHECK(p == "SIZE=10");
    CHECK(parse_path("<@relay.example:ann@example.org>", a, p));
    CHECK(a == "ann@example.org");
    CHECK(parse_path("<>", a, p));
    CHECK(a.empty());
    CHECK_FALSE(parse_path("ann@example.org", a, p));
    CHECK_FALSE(parse_path("<ann@example.org", a, p));
    CHECK_FALSE(parse_path("<a b@example.org>", a, p));
}

TEST_CASE("networks: parsing and membership") {
    std::vector<Network> nets{*parse_network("127.0.0.0/8"), *parse_network("::1/128"), *parse_network("10.1.0.0/16")};
    CHECK(in_networks("127.0.0.1", nets));
    CHECK(in_networks("127.200.3.4", nets));
    CHECK(in_networks("::1", nets));
    CHECK(in_networks("::ffff:10.1.2.3", nets));
    CHECK(in_networks("10.1.255.255", nets));
    CHECK_FALSE(in_networks("10.2.0.1", nets));
    CHECK_FALSE(in_networks("192.168.1.1", nets));
    CHECK_FALSE(in_networks("garbage", nets));
    CHECK_FALSE(parse_network("10.0.0.0/33"));
    CHECK_FALSE(parse_network("city.example"));
    CHECK(parse_network("0.0.0.0/0"));
    CHECK(parse_network("::ffff:10.0.0.0/104"));  // a network in IPv6 form keeps its 128 bits
    CHECK(in_networks("10.1.2.3", {*parse_network("0.0.0.0/0")}));
}

namespace {

// A client's bytes through LineReader and Session, `chunks` as the reads that delivered them.
struct Wire {
    Session s{Limits{}, Client::trusted(), {}};
    LineReader reader{1000};
    std::string replies;
    std::vector<std::string> messages;

    void receive(std::string_view bytes) {
        reader.feed(bytes);
        while (auto line = reader.next(s.in_data())) {
            auto r = s.on_line(line->text, line->too_long, line->bare_line_end);
            replies += r.text;
            if (r.message) {
                messages.push_back(s.data());
                s.message_handled();
                replies += "250 2.0.0 queued\r\n";
            }
        }
    }
    int count(std::string_view reply_start) const {
        int n = 0;
        for (std::size_t i = 0; (i = replies.find(reply_start, i)) != std::string::npos; ++i)
            if (i == 0 || replies[i - 1] == '\n') ++n;
        return n;
    }
};

bool has_bare_line_end(const std::string& data) {
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) return true;
        if (data[i] == '\r' && (i + 1 == data.size() || data[i + 1] != '\n')) return true;
    }
    return false;
}

const std::string transaction_head =
    "EHLO agent\r\nMAIL FROM:<asmith@city.example>\r\nRCPT TO:<ann@example.org>\r\nDATA\r\nSubject: x\r\n\r\nhello";
const std::string smuggled =
    "MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nbad\r\n";

}  // namespace

TEST_CASE("smtp smuggling: only CRLF . CRLF ends DATA, in one write and split at every byte") {
    // The published variants (SEC Consult, 2023): an end of data other than CRLF . CRLF.
    const std::pair<const char*, std::string> variants[] = {
        {"LF . LF", "\n.\n"},         {"LF . CRLF", "\n.\r\n"},   {"CR . CRLF", "\r.\r\n"},
        {"CRLF . CR", "\r\n.\r"},     {"CRLF . LF", "\r\n.\n"},   {"NUL before the dot", std::string("\r\n\0.\r\n", 6)},
    };
    for (const auto& [name, end] : variants) {
        const std::string wire = transaction_head + end + smuggled + ".\r\nQUIT\r\n";
        auto check = [&](const Wire& w, const std::string& how) {
            INFO(name << ", " << how);
            CHECK(w.messages.empty());                      // nothing accepted: no 250 for any message
            CHECK(w.count("250 2.1.0") == 1);               // the smuggled MAIL FROM was never a command
            CHECK(w.count("554 5.6.0") == 1);               // the real end refuses the whole message
            CHECK(w.count("221 ") == 1);                    // and the session goes on after it
        };
        SUBCASE(name) {
            Wire one;
            one.receive(wire);
            check(one, "one write");
            for (std::size_t cut = 1; cut < wire.size(); ++cut) {
                Wire two;
                two.receive(std::string_view(wire).substr(0, cut));
                two.receive(std::string_view(wire).substr(cut));
                check(two, "split at byte " + std::to_string(cut));
            }
            Wire bytewise;
            for (char c : wire) bytewise.receive(std::string_view(&c, 1));
            check(bytewise, "one byte per read");
        }
    }
}

TEST_CASE("smtp framing: proper messages pass whole, pipelined after their end") {
    const std::string wire = transaction_head + "\r\n..dot\r\n.\r\n" +
                             "MAIL FROM:<asmith@city.example>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nsecond\r\n.\r\nQUIT\n";
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
        INFO("split at byte " << cut);
        Wire w;
        w.receive(std::string_view(wire).substr(0, cut));
        w.receive(std::string_view(wire).substr(cut));
        REQUIRE(w.messages.size() == 2);
        CHECK(w.messages[0] == "Subject: x\r\n\r\nhello\r\n.dot\r\n");
        CHECK(w.messages[1] == "second\r\n");
        for (const auto& m : w.messages) CHECK_FALSE(has_bare_line_end(m));
        CHECK(w.count("221 ") == 1);  // a command may still end with a bare LF
    }
}

TEST_CASE("smtp framing: an over-long line is reported once, at N and N+1") {
    LineReader r(10);  // 8 bytes + CRLF fit
    r.feed("12345678\r\n123456789\r\nok\n");
    auto a = r.next(false);
    REQUIRE(a);
    CHECK(a->text == "12345678");
    CHECK_FALSE(a->too_long);
    auto b = r.next(false);
    REQUIRE(b);
    CHECK(b->too_long);
    CHECK(b->text == "123456789");
    auto c = r.next(false);
    REQUIRE(c);
    CHECK(c->text == "ok");
    CHECK_FALSE(r.next(false));

    LineReader d(10);  // in DATA, an over-long line still needs CRLF to end
    d.feed("0123456789abc\nstill the same line\r");
    auto cut = d.next(true);
    REQUIRE(cut);
    CHECK(cut->too_long);
    CHECK(cut->text == "0123456789");
    CHECK_FALSE(d.next(true));
    d.feed("\n.\r\n");  // the CR kept from the last read and this LF end the long line
    auto dot = d.next(true);
    REQUIRE(dot);
    CHECK(dot->text == ".");
    CHECK_FALSE(dot->bare_line_end);
}
