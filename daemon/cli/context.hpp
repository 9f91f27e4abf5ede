// What every `casemail` command handler shares: the global options, the configuration and
// store (each opened once, on first use), the audit actor, input and output helpers, and the
// table that maps each subcommand to its handler.
//
// Errors: a handler throws BadRequest (or store::Refused) for something the user can fix:
// printed as "casemail: ...", one line per problem, exit 2. Anything else is exit 1.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "daemon/cli/cli.hpp"
#include "daemon/config/config.hpp"
#include "store/store.hpp"

namespace casemail::cli {

// A request the user can fix: printed line by line, exit code 2.
class BadRequest : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Globals {
    std::string db;      // --db
    std::string config;  // --config, else $CASEMAIL_CONFIG
    std::string actor;   // --actor
    bool json = false;   // --json of the command given
};

class Context {
public:
    explicit Context(const Globals& globals) : globals_(globals) {}

    bool json() const { return globals_.json; }
    // The configuration (defaults when none is given), read and validated once per run.
    const config::Config& config();
    // --db, then [store] path of the config, then $CASEMAIL_DB, then ./casemail.db.
    const std::string& store_path();
    // The store, opened once. Only `init` may create one: a mistyped path never makes an
    // empty store.
    store::Store& store(bool create = false);
    // Recorded in the audit log: --actor, else cli:$SUDO_USER, $USER, or the login name.
    std::string actor() const;

private:
    const Globals& globals_;
    std::optional<config::Config> config_;
    std::string store_path_;
    std::unique_ptr<store::Store> store_;
};

using Handler = std::function<int(Context&)>;

// The subcommands and the handler each one runs.
class CommandTable {
public:
    CommandTable(CLI::App& app, Globals& globals) : app_(app), globals_(globals) {}
    // A subcommand that holds subcommands ("contact", "case", ...).
    CLI::App* group(const std::string& name, const std::string& help);
    // A group another file registered (throws when there is none: a programmer error).
    CLI::App* existing_group(const std::string& name) { return app_.get_subcommand(name); }
    // A subcommand of `parent` (the app itself when null) that runs `run`; `json`: it takes --json.
    CLI::App* command(CLI::App* parent, const std::string& name, const std::string& help, Handler run,
                      bool json = false);
    // The handler of the subcommand given on the command line, if any.
    const Handler* chosen() const;

private:
    CLI::App& app_;
    Globals& globals_;
    std::vector<std::pair<CLI::App*, Handler>> commands_;
};

// Each command group registers its subcommands (cli/*.cpp, one file per group).
void add_admin_commands(CommandTable& t);     // init, settings, status
void add_contact_commands(CommandTable& t);   // contact, account, queue
void add_case_commands(CommandTable& t);      // case
void add_inbound_commands(CommandTable& t);   // ingest, parse, quarantine, unresolved
void add_outbound_commands(CommandTable& t);  // outbound, outbox, template
void add_workflow_commands(CommandTable& t);  // case assign/release/resolve/link-child, queue show (after case, queue)
void add_sla_commands(CommandTable& t);       // case ack/hold/resume (after case)
void add_workorder_commands(CommandTable& t); // case submit-workorder, workorder sync|list (after case)
void add_export_commands(CommandTable& t);    // case export (after case)
void add_kb_commands(CommandTable& t);        // kb, case link-kb|send-kb (after case)
void add_report_commands(CommandTable& t);    // report
void add_open311_commands(CommandTable& t);   // export open311

// Reads a whole file, or standard input for "-". Raw bytes, no newline translation.
std::string read_input(const std::string& path);
// FILE arguments: files, directories (their regular files, sorted), or "-" for stdin.
std::vector<std::string> expand_inputs(const std::vector<std::string>& args);
void print(const nlohmann::json& j);
// An array of `items` each made JSON by `to_json`.
template <class T, class F>
nlohmann::json json_array(const std::vector<T>& items, F to_json) {
    auto arr = nlohmann::json::array();
    for (const auto& item : items) arr.push_back(to_json(item));
    return arr;
}
// A listing: JSON (an array of `to_json` of each item) with --json, else one `line` per item.
template <class T, class J, class L>
int print_list(Context& ctx, const std::vector<T>& items, J to_json, L line) {
    if (ctx.json()) print(json_array(items, to_json));
    else
        for (const auto& item : items) std::cout << line(item) << '\n';
    return exit_ok;
}
void require_address(const std::string& address, const char* what);
// Writes `data` to a new file (never over an existing one), mode 0600, synced; BadRequest
// naming the path when it cannot.
void write_new_file(const std::string& path, const std::string& data);

// Runs one change to the store in a transaction, then says what happened (`done`).
template <typename Change>
int apply_change(Context& ctx, Change&& change, const std::string& done) {
    auto& s = ctx.store();
    store::Transaction tx(s.db());
    change(s);
    tx.commit();
    std::cout << done << "\n";
    return exit_ok;
}

}  // namespace casemail::cli
