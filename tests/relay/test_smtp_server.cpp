// The relay's network shell: agents' passwords (crypt(3) hashes) and the users file.
#include <doctest/doctest.h>

#include <fstream>

#include "daemon/relay/smtp_server.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail::relay;

namespace {

// openssl passwd -6 -salt casemailsalt agent-secret
const std::string agent_hash =
    "$6$casemailsalt$8PjsesZIoku/BxTo/w4YKtVYHCvqg2cgdK7uQWxUOhAyR.wlIA20Y.z6T6zcRydJ6o0utUyID/j8Frv4olL3Y0";

}  // namespace

TEST_CASE("relay: passwords and the users file") {
    CHECK(check_password("agent-secret", agent_hash));
    CHECK_FALSE(check_password("agent-secreT", agent_hash));
    CHECK_FALSE(check_password("", agent_hash));
    CHECK_FALSE(check_password("plain", "plain"));  // only crypt(3) hashes

    casemail::test::TempDir tmp;
    auto path = tmp.file("relay-users");
    std::ofstream(path) << "# agents\n\nagent:" << agent_hash << "\n";
    auto users = load_users_file(path);
    REQUIRE(users);
    CHECK(users->at("agent") == agent_hash);
    std::ofstream(path) << "agent:plaintext\n";
    auto bad = load_users_file(path);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().find(":1: expected 'user:$crypt-hash'") != std::string::npos);
    CHECK_FALSE(load_users_file(tmp.file("missing")));
}
