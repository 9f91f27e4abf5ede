#include "daemon/cli/cli.hpp"

#include <iostream>

#include "daemon/cli/context.hpp"
#include "mime/printable.hpp"
#include "store/store.hpp"

namespace casemail::cli {
namespace {

// Runs `run` and turns what it throws into a message and an exit code.
int guarded(const Handler& run, Context& ctx) {
    try {
        return run(ctx);
    } catch (const BadRequest& e) {
        for (const auto& line : mime::printable_lines(e.what())) std::cerr << "casemail: " << line << '\n';
        return exit_bad_request;
    } catch (const store::Refused& e) {
        std::cerr << "casemail: " << mime::printable(e.what(), 1000) << '\n';
        return exit_bad_request;
    } catch (const std::exception& e) {
        std::cerr << "casemail: error: " << mime::printable(e.what(), 1000) << '\n';
        return exit_failed;
    }
}

}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{"casemail: 311 email-to-case store and admin tool"};
    app.set_version_flag("--version", "casemail " CASEMAIL_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    Globals g;
    app.add_option("--db", g.db, "SQLite store (default: [store] path of --config, $CASEMAIL_DB, ./casemail.db)");
    app.add_option("--config", g.config, "casemail.toml (default: $CASEMAIL_CONFIG)");
    app.add_option("--actor", g.actor, "name recorded in the audit log (default: cli:$USER)");
    CommandTable table(app, g);
    add_admin_commands(table);
    add_contact_commands(table);
    add_case_commands(table);
    add_inbound_commands(table);
    add_outbound_commands(table);
    add_workflow_commands(table);
    add_sla_commands(table);
    add_workorder_commands(table);
    add_export_commands(table);
    add_kb_commands(table);
    add_report_commands(table);
    add_open311_commands(table);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "casemail: " << e.what() << " (see --help)\n";
        return exit_bad_request;
    }
    const Handler* run = table.chosen();
    if (!run) {
        std::cerr << "casemail: a subcommand is required (see --help)\n";
        return exit_bad_request;
    }
    Context ctx(g);
    return guarded(*run, ctx);
}

}  // namespace casemail::cli
