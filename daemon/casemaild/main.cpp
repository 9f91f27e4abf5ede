// casemaild: the 311 mail daemon (IMAP poller, SMTP relay, outbox). See daemon.hpp.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "daemon/casemaild/daemon.hpp"
#include "daemon/casemaild/setup.hpp"
#include "mime/printable.hpp"

int main(int argc, char** argv) {
    using namespace casemail;
    using namespace casemail::casemaild;
    CLI::App app{"casemaild: polls the 311 mailboxes over IMAP and turns their mail into cases"};
    app.set_version_flag("--version", "casemaild " CASEMAIL_VERSION);
    DaemonOptions options;
    bool check_only = false;
    const char* env_config = std::getenv("CASEMAIL_CONFIG");
    app.add_option("--config", options.config_path, "casemail.toml (default: $CASEMAIL_CONFIG)");
    app.add_flag("--once", options.once, "poll every mailbox once and exit (exit 1 if one failed)");
    app.add_flag("--check-config", check_only, "validate the configuration and exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (options.config_path.empty() && env_config) options.config_path = env_config;
    if (options.config_path.empty()) {
        std::cerr << "casemaild: no configuration: pass --config FILE or set CASEMAIL_CONFIG (see --help)\n";
        return 2;
    }
    if (check_only) {
        auto cfg = config::load_config(options.config_path);
        if (!cfg) {
            for (const auto& line : casemail::mime::printable_lines(cfg.error())) std::cerr << line << '\n';
            return 1;
        }
        if (auto ok = check_requirements(*cfg); !ok) {
            for (const auto& line : casemail::mime::printable_lines(ok.error())) std::cerr << line << '\n';
            return 1;
        }
        std::cout << fmt::format("{}: OK ({} mailbox(es), store {})\n", options.config_path, cfg->mailboxes.size(),
                                 cfg->store_path);
        return 0;
    }
    return run_daemon(options);
}
