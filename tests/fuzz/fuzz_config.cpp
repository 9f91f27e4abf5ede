// Fuzz target for the config loader (toml++ and our settings table): what an operator's typo or
// a damaged file may hold. Invariants, whatever the text: loading returns a Config or a reason,
// never throws; every reason line names the file and a line ("FILE:N: ..."); a loaded Config
// keeps every bounded setting inside its bounds and every mailbox has exactly one secret source.
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/config/config.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {
using casemail::fuzz::require;

const std::string path = "/fuzz/casemail.toml";

void check_reason(const std::string& reason) {
    require(!reason.empty(), "failure without a reason");
    std::size_t at = 0;
    while (at < reason.size()) {
        auto end = reason.find('\n', at);
        if (end == std::string::npos) end = reason.size();
        std::string_view line(reason.data() + at, end - at);
        require(line.substr(0, path.size() + 1) == path + ":", "a reason line that does not name the file");
        at = end + 1;
    }
}

void check_config(const casemail::config::Config& cfg) {
    require(cfg.relay.max_connections >= 1 && cfg.relay.max_connections <= 10000, "relay.max_connections out of bounds");
    require(cfg.relay.idle_timeout.count() > 0, "relay.idle_timeout not positive");
    require(cfg.relay.port >= 0 && cfg.relay.port <= 65535, "relay port out of range");
    require(cfg.fetch_batch >= 1, "daemon.fetch_batch below 1");
    for (const auto& m : cfg.mailboxes) {
        require(m.secret.count() == 1, "a mailbox without exactly one secret source");
        require(m.poll_interval.count() > 0, "mailbox.poll_interval not positive");
        require(!m.address.empty(), "a mailbox without an address");
    }
    auto rules = casemail::config::ingest_rules(cfg);
    (void)rules;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto cfg = casemail::config::parse_config(text, path);
    if (cfg) check_config(*cfg);
    else check_reason(cfg.error());
    return 0;
}
