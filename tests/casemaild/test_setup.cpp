// casemaild's setup: what it checks before it starts, beyond a valid config file.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "daemon/casemaild/setup.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail;
using namespace casemail::casemaild;

namespace {

casemail::test::TempDir tmp;

std::string write_config(const std::string& name, const std::string& text) {
    auto p = tmp.file(name);
    std::ofstream(p) << text;
    return p;
}

}  // namespace

TEST_CASE("casemaild's requirements: a secret that cannot be read names its key and line") {
    auto cfg = config::load_config(write_config("u3.toml", "[[mailbox]]\naddress = \"311DWP@city.example\"\nqueue = \"DWP\"\n"
                                                           "url = \"imap.city.example\"\nuser = \"dwp\"\n"
                                                           "password_file = \"missing-file\"\n"));
    REQUIRE(cfg);
    auto secrets = check_requirements(*cfg);
    REQUIRE_FALSE(secrets);
    CHECK(secrets.error().find("u3.toml:1: key 'mailbox[1].password_file'") != std::string::npos);
    CHECK(secrets.error().find("cannot be read") != std::string::npos);
}

TEST_CASE("casemaild's requirements: templates and the relay's users file") {
    auto dir = std::filesystem::path(write_config("pw2", "s3cret\n")).parent_path();
    std::filesystem::create_directories(dir / "tmpl");
    std::ofstream(dir / "tmpl" / "acknowledgement.subject") << "Case {{case.token}}\n";
    std::ofstream(dir / "tmpl" / "acknowledgement.txt") << "Hello\n\n{{customer.nmae}}\n";
    auto cfg = config::load_config(write_config("t.toml", "[templates]\ndir = \"tmpl\"\n[relay]\nusers_file = \"users\"\n"));
    REQUIRE(cfg);
    auto ok = check_requirements(*cfg);
    REQUIRE_FALSE(ok);
    CHECK(ok.error().find("key 'templates.dir': " + (dir / "tmpl" / "acknowledgement.txt").string() +
                          ":3: unknown placeholder {{customer.nmae}}") != std::string::npos);
    CHECK(ok.error().find("key 'relay.users_file': users file") != std::string::npos);
    std::ofstream(dir / "tmpl" / "acknowledgement.txt") << "Hello {{customer.name}}\n";
    std::ofstream(dir / "users") << "agent:$6$salt$hash\n";
    CHECK(check_requirements(*cfg));
    std::ofstream(dir / "users") << "agent:plaintext\n";
    auto bad = check_requirements(*cfg);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().find("users:1: expected 'user:$crypt-hash'") != std::string::npos);
}

