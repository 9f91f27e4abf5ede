#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "daemon/config/config.hpp"

using namespace casemail;
using namespace casemail::config;

namespace {

std::string write_config(const std::string& name, const std::string& text) {
    auto dir = std::filesystem::temp_directory_path() / ("casemail-cfg-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto p = dir / name;
    std::ofstream(p) << text;
    return p.string();
}

std::string fmt_line(int line) { return "bounds.toml:" + std::to_string(line) + ": key '"; }

}  // namespace

TEST_CASE("config: defaults and relative store path") {
    auto path = write_config("ok.toml", "[store]\npath = \"data/casemail.db\"\n[tracking]\nprefix = \"CITY\"\n");
    auto cfg = config::load_config(path);
    REQUIRE(cfg);
    CHECK(cfg->token_prefix == "CITY");
    CHECK(cfg->store_path_set);
    CHECK(cfg->store_path == (std::filesystem::path(path).parent_path() / "data/casemail.db").string());
}

TEST_CASE("config errors name the key and the line") {
    SUBCASE("unknown key") {
        auto cfg = config::load_config(write_config("typo.toml", "[store]\n\npth = \"x.db\"\n"));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("typo.toml:3: key 'store.pth': unknown key") != std::string::npos);
    }
    SUBCASE("wrong type") {
        auto cfg = config::load_config(write_config("type.toml", "[store]\npath = 5\n"));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("type.toml:2: key 'store.path': must be a string") != std::string::npos);
    }
    SUBCASE("a value of another type is refused, never converted") {
        // 3e79 as an integer was a float-to-long cast beyond range (undefined behaviour, found by fuzz_config).
        auto cfg = config::load_config(write_config(
            "types.toml", "[ingest]\nack_limit_per_hour = 3e79\nmax_new_cases_per_sender = 3.0\nauto_ack = 1\n"
                          "blocked_extensions = [\"exe\", 2.5]\n[daemon]\nfetch_batch = true\n"));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("types.toml:2: key 'ingest.ack_limit_per_hour': must be an integer") != std::string::npos);
        CHECK(cfg.error().find("types.toml:3: key 'ingest.max_new_cases_per_sender': must be an integer") != std::string::npos);
        CHECK(cfg.error().find("types.toml:4: key 'ingest.auto_ack': must be true or false") != std::string::npos);
        CHECK(cfg.error().find("types.toml:5: key 'ingest.blocked_extensions': must be an array of strings") !=
              std::string::npos);
        CHECK(cfg.error().find("types.toml:7: key 'daemon.fetch_batch': must be an integer") != std::string::npos);
    }
    SUBCASE("bad prefix") {
        auto cfg = config::load_config(write_config("prefix.toml", "[tracking]\nprefix = \"3-1\"\n"));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("prefix.toml:2: key 'tracking.prefix'") != std::string::npos);
    }
    SUBCASE("TOML syntax error") {
        auto cfg = config::load_config(write_config("syntax.toml", "[store\npath = 1\n"));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("syntax.toml:1:") != std::string::npos);
    }
    SUBCASE("missing file") {
        auto cfg = config::load_config("/nonexistent/casemail.toml");
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("does not exist") != std::string::npos);
    }
}

TEST_CASE("config: [[mailbox]] entries") {
    auto dir = std::filesystem::path(write_config("pw", "s3cret\n")).parent_path();
    std::string mailbox = "[[mailbox]]\naddress = \"311DWP@city.example\"\nqueue = \"DWP\"\n"
                          "url = \"imap.city.example\"\nuser = \"dwp\"\npassword_file = \"pw\"\n";
    SUBCASE("defaults") {
        auto cfg = config::load_config(write_config("mb.toml", mailbox));
        REQUIRE(cfg);
        REQUIRE(cfg->mailboxes.size() == 1);
        const auto& m = cfg->mailboxes[0];
        CHECK(m.url == "imaps://imap.city.example");
        CHECK(m.folder == "INBOX");
        CHECK(m.after_processing == AfterProcessing::move);
        CHECK(m.move_to == "Processed");
        CHECK(m.poll_interval == std::chrono::seconds(30));
        CHECK(m.line == 1);
        CHECK(m.secret.password_file == (dir / "pw").string());
        auto secret = common::read_secret(m.secret);
        REQUIRE(secret);
        CHECK(*secret == "s3cret");
    }
    SUBCASE("after_processing and poll_interval") {
        auto cfg = config::load_config(write_config("mb2.toml", mailbox + "after_processing = \"move:311/Done\"\npoll_interval = \"2m\"\n"));
        REQUIRE(cfg);
        CHECK(cfg->mailboxes[0].move_to == "311/Done");
        CHECK(cfg->mailboxes[0].poll_interval == std::chrono::seconds(120));
        cfg = config::load_config(write_config("mb3.toml", mailbox + "after_processing = \"delete\"\n"));
        REQUIRE(cfg);
        CHECK(cfg->mailboxes[0].after_processing == AfterProcessing::remove);
    }
    struct Bad {
        std::string extra, key_and_line, what;
    };
    for (const auto& bad : std::vector<Bad>{
             {"after_processing = \"archive\"\n", "mb-bad.toml:7: key 'mailbox[1].after_processing'", "move:FOLDER"},
             {"after_processing = \"move:INBOX\"\n", "mb-bad.toml:7: key 'mailbox[1].after_processing'", "another folder"},
             {"poll_interval = \"soon\"\n", "mb-bad.toml:7: key 'mailbox[1].poll_interval'", "duration"},
             {"folder = \"Posteingang\xc3\xa4\"\n", "mb-bad.toml:7: key 'mailbox[1].folder'", "printable ASCII"},
             {"password_env = \"X\"\n", "mb-bad.toml:1: key 'mailbox[1]'", "exactly one of"},
             {"pasword = \"x\"\n", "mb-bad.toml:7: key 'mailbox[1].pasword'", "unknown key"},
         }) {
        CAPTURE(bad.extra);
        auto cfg = config::load_config(write_config("mb-bad.toml", mailbox + bad.extra));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find(bad.key_and_line) != std::string::npos);
        CHECK(cfg.error().find(bad.what) != std::string::npos);
    }
    SUBCASE("credentials in the URL, a plain-text URL path, a missing secret, a duplicate") {
        auto with = [&](const std::string& from, const std::string& to) {
            auto text = mailbox;
            text.replace(text.find(from), from.size(), to);
            return text;
        };
        auto cfg = config::load_config(write_config("u1.toml", with("imap.city.example", "imaps://dwp:pw@imap.city.example")));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("u1.toml:4: key 'mailbox[1].url': must not contain credentials") != std::string::npos);
        CHECK(cfg.error().find(":pw@") == std::string::npos);  // the secret is not echoed
        cfg = config::load_config(write_config("u2.toml", with("imap.city.example", "imaps://imap.city.example/INBOX")));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("must not contain a path") != std::string::npos);
        cfg = config::load_config(write_config("u3.toml", with("\"pw\"", "\"missing-file\"")));
        REQUIRE(cfg);  // the admin CLI needs no IMAP secrets; casemaild checks them (tests/casemaild)
        cfg = config::load_config(write_config("u4.toml", mailbox + "\n" + mailbox));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("u4.toml:9: key 'mailbox[2].address': 311DWP@city.example is already configured at line 1") !=
              std::string::npos);
    }
}

TEST_CASE("config: [relay] and [upstream] errors name the key and line") {
    struct Bad { std::string text, expect; };
    for (const auto& b : std::vector<Bad>{
             {"[relay]\nlisten = \"2525\"\n", "r.toml:2: key 'relay.listen'"},
             {"[relay]\nallowed_networks = [\"10.0.0.0/40\"]\n", "r.toml:2: key 'relay.allowed_networks': '10.0.0.0/40'"},
             {"[relay]\nconfidential = \"maybe\"\n", "r.toml:2: key 'relay.confidential'"},
             {"[relay]\ntls_cert = \"a.crt\"\n", "key 'relay': tls_cert and tls_key go together"},
             {"[upstream]\nurl = \"http://x\"\n", "r.toml:2: key 'upstream.url': must start with smtps:// or smtp://"},
             {"[upstream]\nurl = \"smtps://u:p@x\"\n", "must not contain credentials"},
             {"[upstream]\nurl = \"x\"\npassword_env = \"P\"\n", "key 'upstream.user': is required"},
             {"[upstream]\nmax_age = \"forever\"\n", "r.toml:2: key 'upstream.max_age'"},
         }) {
        CAPTURE(b.text);
        auto cfg = config::load_config(write_config("r.toml", b.text));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find(b.expect) != std::string::npos);
    }
    auto cfg = config::load_config(write_config("ok.toml", "[relay]\nlisten = \"[::1]:2600\"\n[upstream]\nurl = \"mail.city.example:587\"\n"));
    REQUIRE(cfg);
    CHECK(cfg->relay.listen_address == "::1");
    CHECK(cfg->relay.port == 2600);
    CHECK(cfg->upstream.url == "smtps://mail.city.example:587");
}

TEST_CASE("config: every path key is relative to the config file, a mailbox's ca_file too") {
    auto path = write_config("paths.toml",
                             "[[mailbox]]\naddress = \"311DWP@city.example\"\nqueue = \"DWP\"\nurl = \"imap.city.example\"\n"
                             "user = \"dwp\"\npassword_file = \"pw\"\nca_file = \"certs/city-ca.pem\"\n"
                             "[upstream]\nurl = \"smtp.city.example\"\nca_file = \"certs/up.pem\"\n"
                             "[relay]\nusers_file = \"/etc/casemail/users\"\n");
    auto dir = std::filesystem::path(path).parent_path();
    auto cfg = load_config(path);
    REQUIRE(cfg);
    CHECK(cfg->mailboxes[0].ca_file == (dir / "certs/city-ca.pem").string());
    CHECK(cfg->mailboxes[0].secret.password_file == (dir / "pw").string());
    CHECK(cfg->upstream.ca_file == (dir / "certs/up.pem").string());
    CHECK(cfg->relay.users_file == "/etc/casemail/users");  // absolute stays
}

TEST_CASE("config: the settings table bounds every integer at N and N+1, and errors come in file order") {
    for (const auto& row : settings_reference()) {
        if (row.type != "integer") continue;
        CAPTURE(row.key);
        auto dash = row.bounds.find('-');
        REQUIRE(dash != std::string::npos);
        auto section = row.key.substr(0, row.key.find('.'));
        auto name = row.key.substr(row.key.find('.') + 1);
        // Keys of [[sla]] entries sit in one, after the key it needs; the others in their table.
        bool entry = section == "sla";
        std::string head = entry ? "[[sla]]\nfirst_response = \"1h\"\n" : "[" + section + "]\n";
        auto at = [&](const std::string& value) {
            return load_config(write_config("bounds.toml", head + name + " = " + value + "\n"));
        };
        auto min = std::stoll(row.bounds.substr(0, dash)), max = std::stoll(row.bounds.substr(dash + 1));
        CHECK(at(std::to_string(min)));
        CHECK(at(std::to_string(max)));
        CHECK_FALSE(at(std::to_string(min - 1)));
        auto over = at(std::to_string(max + 1));
        REQUIRE_FALSE(over);
        auto key = entry ? "sla[1]." + name : row.key;
        CHECK(over.error().find(fmt_line(entry ? 3 : 2) + key + "': must be between") != std::string::npos);
    }
    auto cfg = load_config(write_config("order.toml", "[store]\ncolour = 1\n[daemon]\nfetch_batch = 0\n[limits]\nmax_depth = 0\n"));
    REQUIRE_FALSE(cfg);
    auto lines = cfg.error();
    CHECK(lines.find("order.toml:2:") < lines.find("order.toml:4:"));
    CHECK(lines.find("order.toml:4:") < lines.find("order.toml:6:"));
    CHECK(std::count(lines.begin(), lines.end(), '\n') == 2);
}

TEST_CASE("config: the shipped example loads") {
    auto cfg = load_config(CASEMAIL_SOURCE_DIR "/examples/casemail.toml");
    REQUIRE_MESSAGE(cfg, cfg.error());
    CHECK(cfg->mailboxes.size() == 3);
    CHECK(cfg->relay.max_connections == 20);
}

TEST_CASE("config errors stay one line whatever the file holds (found by fuzz_config)") {
    auto syntax = config::parse_config("[relay]\nenabled = t\n", "/etc/casemail.toml");
    REQUIRE_FALSE(syntax);
    CHECK(syntax.error().find('\n') == std::string::npos);
    CHECK(syntax.error().rfind("/etc/casemail.toml:2: ", 0) == 0);
    auto key = config::parse_config("\"a\\nb\" = 1\n[relay]\n\"x\\ny\" = 2\n", "/etc/casemail.toml");
    REQUIRE_FALSE(key);
    CHECK(key.error() == "/etc/casemail.toml:1: key 'a?b': unknown key\n/etc/casemail.toml:3: key 'relay.x?y': unknown key");
}

TEST_CASE("config: [business_hours] and [[sla]] are checked, errors name the key and line") {
    struct Bad { std::string text, expect; };
    for (const auto& b : std::vector<Bad>{
             {"[business_hours]\nhours = \"Mon-Fry 08:00-17:00\"\n", "s.toml:2: key 'business_hours.hours': 'Mon-Fry' is not a day"},
             {"[business_hours]\ntimezone = \"Mars/Olympus\"\n", "s.toml:2: key 'business_hours.timezone': 'Mars/Olympus' is not a time zone"},
             {"[business_hours]\nholidays = [\"2026-13-01\"]\n", "s.toml:2: key 'business_hours.holidays': '2026-13-01' is not a date"},
             {"[[sla]]\nname = \"x\"\n", "s.toml:1: key 'sla[1]': needs first_response, resolve_within or both"},
             {"[[sla]]\nfirst_response = \"4h\"\nwarn_at = 100\n", "s.toml:3: key 'sla[1].warn_at': must be between 1 and 99"},
             {"[[sla]]\nfirst_response = \"4h\"\npriority = \"asap\"\n", "s.toml:3: key 'sla[1].priority': must be low"},
             {"[[sla]]\nfirst_response = \"soon\"\n", "s.toml:2: key 'sla[1].first_response': must be a duration"},
             {"[sla]\nfirst_response = \"4h\"\n", "key 'sla': must be [[sla]] tables (the calendar is [business_hours])"},
             {"[[mailbox]]\naddress = \"a@city.example\"\nqueue = \"Q\"\nurl = \"x\"\nuser = \"u\"\npassword_env = \"P\"\n"
              "alert_to = [\"not an address\"]\n", "s.toml:7: key 'mailbox[1].alert_to': 'not an address' is not an email address"},
         }) {
        CAPTURE(b.text);
        auto cfg = config::parse_config(b.text, "s.toml");
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find(b.expect) != std::string::npos);
    }
    auto cfg = config::parse_config(
        "[business_hours]\nhours = \"Mon-Fri 09:00-17:00\"\ntimezone = \"Europe/Berlin\"\nholidays = [\"2026-12-25\"]\n"
        "[[sla]]\nname = \"urgent\"\npriority = \"urgent\"\nfirst_response = \"1h\"\n"
        "[[sla]]\nrequest_type = \"request\"\nresolve_within = \"40h\"\nwarn_at = 50\n",
        "ok.toml");
    REQUIRE(cfg);
    REQUIRE(cfg->slas.size() == 2);
    CHECK(cfg->slas[0].name == "urgent");
    CHECK(cfg->slas[0].line == 5);
    CHECK(cfg->slas[1].name == "sla[2]");
    CHECK(cfg->slas[1].request_type == "Request");
    CHECK(cfg->slas[1].warn_percent == 50);
    auto hours = business_hours(*cfg);
    CHECK(hours.zone->name() == "Europe/Berlin");
    CHECK(hours.holidays.size() == 1);
    CHECK(hours.by_weekday[1] == std::vector<matching::sla::Window>{{540, 1020}});
    // Without a timezone the clocks run in UTC.
    auto utc = config::parse_config("[[sla]]\nfirst_response = \"1h\"\n", "u.toml");
    REQUIRE(utc);
    CHECK(utc->zone->name() == "UTC");
}

TEST_CASE("config: OAuth2 clients of mailboxes and the upstream are checked") {
    std::string mailbox = "[[mailbox]]\naddress = \"a@city.example\"\nqueue = \"Q\"\nurl = \"x\"\nuser = \"u\"\n";
    struct Bad { std::string text, expect; };
    for (const auto& b : std::vector<Bad>{
             {mailbox + "oauth2_client_id = \"app\"\noauth2_client_secret_file = \"s\"\n",
              "key 'mailbox[1]': needs exactly one of oauth2_tenant, oauth2_token_url"},
             {mailbox + "oauth2_client_id = \"app\"\noauth2_tenant = \"city.example\"\n",
              "needs oauth2_client_secret_file, oauth2_refresh_token_file or both"},
             {mailbox + "oauth2_tenant = \"city.example\"\npassword_env = \"P\"\n", "oauth2_* keys need oauth2_client_id"},
             {mailbox + "oauth2_client_id = \"app\"\noauth2_tenant = \"c\"\noauth2_client_secret_file = \"s\"\npassword_env = \"P\"\n",
              "needs exactly one of password_file, password_env, oauth2_token_file, oauth2_client_id"},
             {mailbox + "oauth2_client_id = \"app\"\noauth2_token_url = \"http://127.0.0.1/t\"\noauth2_client_secret_file = \"s\"\n",
              "must be https:// (http:// only with allow_plaintext)"},
             {mailbox + "oauth2_client_id = \"app\"\noauth2_tenant = \"city example\"\noauth2_client_secret_file = \"s\"\n",
              "key 'mailbox[1].oauth2_tenant': must be a tenant id or domain"},
             {"[upstream]\nurl = \"x\"\nuser = \"u\"\noauth2_client_id = \"app\"\noauth2_client_secret_file = \"s\"\n",
              "key 'upstream': needs exactly one of oauth2_tenant, oauth2_token_url"},
         }) {
        CAPTURE(b.text);
        auto cfg = config::parse_config(b.text, "o.toml");
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find(b.expect) != std::string::npos);
    }
    auto cfg = config::parse_config(mailbox + "oauth2_client_id = \"app\"\noauth2_tenant = \"contoso.onmicrosoft.com\"\n"
                                              "oauth2_client_secret_file = \"secret\"\n",
                                    "/etc/casemail/ok.toml");
    REQUIRE(cfg);
    const auto& o = cfg->mailboxes[0].secret.oauth2;
    CHECK(o.token_url == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    CHECK(o.scope == "https://outlook.office365.com/.default");
    CHECK(o.client_secret_file == "/etc/casemail/secret");
    auto login = config::mailbox_login(cfg->mailboxes[0], *cfg);
    REQUIRE_FALSE(login);  // the secret file is read (checked) at each connection
    CHECK(login.error().find("oauth2_client_secret_file '/etc/casemail/secret' cannot be read") != std::string::npos);
}

TEST_CASE("config: [[workorder]] and [[open311_service]]: required keys, no repeats, a known resolution type") {
    auto cfg = config::parse_config(
        "[[workorder]]\nname = \"nexgen\"\noutbox_dir = \"out\"\ninbox_dir = \"in\"\n"
        "[[open311_service]]\ncategory = \"Streets\"\ncode = \"POTHOLE\"\nname = \"Pothole\"\n",
        "/etc/casemail/casemail.toml");
    REQUIRE_MESSAGE(cfg, cfg.error());
    REQUIRE(cfg->workorders.size() == 1);
    CHECK(cfg->workorders[0].outbox_dir == "/etc/casemail/out");  // relative to the config file
    CHECK(cfg->workorders[0].line == 1);
    CHECK(cfg->open311_services[0].code == "POTHOLE");
    auto bad = config::parse_config(
        "[[workorder]]\nname = \"nexgen\"\noutbox_dir = \"out\"\ninbox_dir = \"in\"\nresolution_type = \"Magic\"\n"
        "[[workorder]]\nname = \"nexgen\"\noutbox_dir = \"out\"\n"
        "[[open311_service]]\ncategory = \"Streets\"\n",
        "c.toml");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().find("c.toml:1: key 'workorder[1].resolution_type': 'Magic' is not one of cases.resolution_types") !=
          std::string::npos);
    CHECK(bad.error().find("c.toml:7: key 'workorder[2].name': 'nexgen' is already configured at line 1") != std::string::npos);
    CHECK(bad.error().find("key 'workorder[2].inbox_dir': is required") != std::string::npos);
    CHECK(bad.error().find("key 'open311_service[1].code': is required") != std::string::npos);
    CHECK(bad.error().find("key 'open311_service[1].name': is required") != std::string::npos);
}
