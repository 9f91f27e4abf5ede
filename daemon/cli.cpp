#include "daemon/cli.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <fstream>
#include <iterator>
#include <sstream>
#include <fmt/format.h>
#include <iostream>

#include "daemon/settings.hpp"
#include "daemon/json_views.hpp"
#include "mime/address.hpp"
#include "mime/message.hpp"
#include "mime/printable.hpp"
#include "daemon/inbound/ingestor.hpp"
#include "store/ingest.hpp"
#include "store/mailbox_state.hpp"
#include "store/outbox.hpp"
#include "mime/strings.hpp"
#include "store/store.hpp"

namespace casemail::daemon {
namespace {

// A request the user can fix: printed as one line, exit code 2.
class BadRequest : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Globals {
    std::string db;
    std::string config;
    std::string actor;
};

struct Paths {
    std::string db;
    Config config;  // defaults when no config file is given
};

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

// --db, then [store] path of --config (or $CASEMAIL_CONFIG), then $CASEMAIL_DB, then ./casemail.db.
Paths resolve_paths(const Globals& g) {
    Paths p;
    std::string config_path = g.config.empty() ? env_or("CASEMAIL_CONFIG", "") : g.config;
    std::optional<Config> cfg;
    if (!config_path.empty()) {
        auto loaded = config::load_config(config_path);
        if (!loaded) throw BadRequest(loaded.error());
        cfg = *loaded;
        p.config = *cfg;
    }
    if (!g.db.empty())
        p.db = g.db;
    else if (cfg && cfg->store_path_set)
        p.db = cfg->store_path;
    else
        p.db = env_or("CASEMAIL_DB", "casemail.db");
    return p;
}

void print_message_human(const mime::ParsedMessage& m) {
    auto list = [](const std::vector<mime::Address>& as) {
        std::string out;
        for (const auto& a : as)
            out += (out.empty() ? "" : ", ") +
                   (a.name.empty() ? a.address : fmt::format("{} <{}>", a.name, a.address));
        return mime::printable(out, 400);
    };
    std::cout << "Message-ID: " << mime::printable(m.message_id) << '\n'
              << "Subject:    " << mime::printable(m.subject, 400) << '\n'
              << "From:       " << list(m.from) << '\n'
              << "To:         " << list(m.to) << '\n';
    if (!m.cc.empty()) std::cout << "Cc:         " << list(m.cc) << '\n';
    if (m.date) std::cout << "Date:       " << store::format_time(*m.date) << '\n';
    for (const auto* f : {&m.flags.auto_reply, &m.flags.bulk, &m.flags.bounce})
        if (f->set) std::cout << "Flag:       " << f->trigger << '\n';
    for (const auto& a : m.attachments)
        std::cout << fmt::format("Attachment: {} ({}, {} bytes){}\n", mime::printable(a.filename),
                                 a.content_type, a.size, a.tnef ? " [TNEF]" : "");
    for (const auto& d : m.defects) std::cout << "Defect:     " << mime::printable(d) << '\n';
    std::cout << '\n' << m.text << '\n';
}

store::Store open_store(const Paths& p, bool create) {
    store::StoreOptions opts;
    opts.token_prefix = p.config.token_prefix;
    opts.open.create = create;
    try {
        return store::Store::open(p.db, opts);
    } catch (const store::Error& e) {
        throw BadRequest(e.what());
    }
}

std::string actor_of(const Globals& g) {
    if (!g.actor.empty()) return g.actor;
    return "cli:" + env_or("SUDO_USER", env_or("USER", "unknown"));
}

// Reads a whole file, or standard input for "-". Raw bytes, no newline translation.
std::string read_input(const std::string& path) {
    if (path == "-") {
        std::ostringstream os;
        os << std::cin.rdbuf();
        return os.str();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw BadRequest(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void print(const nlohmann::json& j) { std::cout << dump(j) << '\n'; }

nlohmann::json ingest_result_json(const std::string& file, const inbound::IngestResult& r) {
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    return {{"file", file},          {"message_id", r.message_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.message_id)},
            {"action", r.action},    {"case", opt(r.case_token)},
            {"customer_id", opt(r.customer_id)}, {"email_id", opt(r.email_id)},
            {"reason", r.reason},    {"defects", r.defects}};
}

// FILE arguments: files, directories (their regular files, sorted), or "-" for stdin.
std::vector<std::string> expand_inputs(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    for (const auto& a : args) {
        std::error_code ec;
        if (a != "-" && std::filesystem::is_directory(a, ec)) {
            std::vector<std::string> files;
            for (const auto& entry : std::filesystem::directory_iterator(a, ec))
                if (entry.is_regular_file(ec)) files.push_back(entry.path().string());
            if (ec) throw BadRequest(fmt::format("cannot list '{}': {}", a, ec.message()));
            std::sort(files.begin(), files.end());
            out.insert(out.end(), files.begin(), files.end());
        } else {
            out.push_back(a);
        }
    }
    return out;
}

// Runs the pipeline over `files`, `batch` messages per transaction. Results are printed only
// after their batch commits: nothing is reported as stored before it is. Returns the exit code.
int run_ingest(store::Store& s, const inbound::IngestOptions& options, const std::string& mailbox,
               const std::vector<std::string>& files, std::size_t batch, bool json) {
    inbound::Ingestor ingestor(s, options);
    std::map<std::string, int> counts;
    int errors = 0;
    auto started = std::chrono::steady_clock::now();
    std::vector<std::pair<std::string, inbound::IngestResult>> pending;
    auto report = [&](const std::string& file, const inbound::IngestResult& r) {
        ++counts[r.action];
        if (json) {
            std::cout << ingest_result_json(file, r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        } else {
            std::cout << fmt::format("{}: {}{}{} - {}\n", mime::printable(file), r.action,
                                     r.case_token ? " " + *r.case_token : "",
                                     r.customer_id ? fmt::format(" (customer {})", *r.customer_id) : "",
                                     mime::printable(r.reason, 300));
        }
    };
    std::size_t i = 0;
    while (i < files.size()) {
        store::Transaction tx(s.db());
        for (std::size_t n = 0; n < batch && i < files.size(); ++n, ++i) {
            const auto& file = files[i];
            inbound::IngestResult r;
            try {
                r = ingestor.ingest(read_input(file), mailbox);
            } catch (const store::Refused&) {
                throw;  // no such mailbox: nothing can be ingested
            } catch (const BadRequest& e) {
                r.action = "error";
                r.reason = e.what();
                ++errors;
            } catch (const store::Error& e) {
                r.action = "error";  // this message rolled back; the batch goes on
                r.reason = e.what();
                ++errors;
            }
            pending.emplace_back(file, std::move(r));
        }
        tx.commit();
        for (const auto& [file, r] : pending) report(file, r);
        pending.clear();
        std::cout.flush();
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cerr << fmt::format("casemail: ingested {} message(s) in {:.2f} s ({:.0f} msgs/s): {} created, {} linked, "
                             "{} duplicate, {} ignored, {} quarantined, {} error(s)\n",
                             files.size(), secs, secs > 0 ? files.size() / secs : 0.0, counts["created"],
                             counts["linked"], counts["duplicate"], counts["ignored"], counts["quarantined"],
                             errors);
    return errors ? exit_failed : exit_ok;
}


void require_address(const std::string& address, const char* what) {
    if (!mime::valid_addr_spec(mime::normalize_address(address)))
        throw BadRequest(fmt::format("invalid {} address '{}'", what, mime::printable(address)));
}

store::Id require_contact(store::Store& s, store::Id id) {
    if (!s.find_contact(id)) throw BadRequest(fmt::format("no contact with id {}", id));
    return id;
}

std::optional<store::Id> require_account(store::Store& s, const std::optional<store::Id>& id,
                                         const char* kind) {
    if (!id) return std::nullopt;
    auto a = s.find_account(*id);
    if (!a) throw BadRequest(fmt::format("no account with id {}", *id));
    if (a->fields.kind != kind)
        throw BadRequest(fmt::format("account {} is a {}, not a {}", *id, a->fields.kind, kind));
    return id;
}

void print_case_human(const store::CaseRecord& c, const std::vector<store::EmailRecord>& emails,
                      const std::vector<store::Event>& events) {
    std::cout << fmt::format("{}  {}\n", c.token, c.title);
    std::cout << fmt::format("  status: {}{}   origin: {}   priority: {}   queue: {}\n", c.status,
                             c.needs_review ? " (needs review)" : "", c.origin, c.priority,
                             c.queue_name.value_or("-"));
    std::cout << fmt::format("  customer contact: {}   created: {}   updated: {}\n",
                             c.customer_contact_id, c.created_at, c.updated_at);
    if (c.resolution) std::cout << fmt::format("  resolution: {}\n", *c.resolution);
    if (!c.description.empty()) std::cout << "\n" << c.description << "\n";
    std::cout << fmt::format("\n  emails ({}):\n", emails.size());
    for (const auto& e : emails) {
        std::cout << fmt::format("    #{} {} {}  <{}>\n", e.id, e.direction, e.subject,
                                 e.message_id.value_or(""));
        for (const auto& p : e.parties)
            std::cout << fmt::format("      {:<5} {} {}\n", p.role, mime::printable(p.address, 100),
                                     p.contact_id ? fmt::format("-> contact {}", *p.contact_id)
                                     : p.queue_id ? fmt::format("-> queue {}", *p.queue_id)
                                                  : fmt::format("(unresolved, {} candidates)",
                                                                p.candidate_count));
    }
    std::cout << "\n  history:\n";
    for (const auto& ev : events)
        std::cout << fmt::format("    {} {} {} {}\n", ev.at, ev.actor, ev.kind, ev.detail);
}

// `casemail settings`: the config module's settings table, as text, JSON or Markdown.
void print_settings(bool json, bool markdown) {
    auto rows = config::settings_reference();
    if (json) {
        auto arr = nlohmann::json::array();
        for (const auto& r : rows)
            arr.push_back({{"key", r.key}, {"type", r.type}, {"default", r.default_text}, {"bounds", r.bounds}, {"help", r.help}});
        print(arr);
        return;
    }
    if (markdown) std::cout << "| key | type | default | meaning |\n| --- | --- | --- | --- |\n";
    for (const auto& r : rows) {
        auto type = r.bounds.empty() ? r.type : fmt::format("{} ({})", r.type, r.bounds);
        auto shown = r.default_text.starts_with("(") ? r.default_text : "`" + r.default_text + "`";
        if (markdown) std::cout << fmt::format("| `{}` | {} | {} | {} |\n", r.key, type, shown, r.help);
        else std::cout << fmt::format("{:<34} {:<22} {:<20} {}\n", r.key, type, r.default_text, r.help);
    }
}

}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{"casemail: 311 email-to-case store and admin tool"};
    app.set_version_flag("--version", "casemail 0.1.0");
    app.require_subcommand(1);
    app.fallthrough();
    Globals g;
    app.add_option("--db", g.db, "SQLite store (default: [store] path of --config, $CASEMAIL_DB, ./casemail.db)");
    app.add_option("--config", g.config, "casemail.toml (default: $CASEMAIL_CONFIG)");
    app.add_option("--actor", g.actor, "name recorded in the audit log (default: cli:$USER)");
    bool json = false;
    auto json_flag = [&](CLI::App* sub) { sub->add_flag("--json", json, "print JSON"); };

    auto* init = app.add_subcommand("init", "create or migrate the store (safe to repeat)");

    // contact
    auto* contact = app.add_subcommand("contact", "citizens (customers) and guests");
    contact->require_subcommand(1);
    store::NewContact nc;
    std::string nc_phone;
    auto* contact_add = contact->add_subcommand("add", "add a contact");
    contact_add->add_option("--email", nc.email, "email address")->required();
    contact_add->add_option("--name", nc.name, "full name")->required();
    contact_add->add_option("--phone", nc_phone, "phone number");
    contact_add->add_flag("--registered", nc.is_registered, "authenticated portal user");
    contact_add->add_flag("--guest", nc.is_guest, "guest contact (as created from email)");
    json_flag(contact_add);
    std::string contact_email;
    auto* contact_list = contact->add_subcommand("list", "list contacts");
    contact_list->add_option("--email", contact_email, "only contacts with this address");
    json_flag(contact_list);

    // account
    auto* account = app.add_subcommand("account", "properties and businesses (context, never customers)");
    account->require_subcommand(1);
    store::NewAccount na;
    auto* account_add = account->add_subcommand("add", "add an account");
    account_add->add_option("--kind", na.kind, "property | business")
        ->required()
        ->check(CLI::IsMember({"property", "business"}));
    account_add->add_option("--name", na.name, "name")->required();
    account_add->add_option("--address", na.civic_address, "civic address");
    account_add->add_option("--parcel", na.parcel_id, "parcel id");
    account_add->add_option("--ward", na.ward, "ward");
    account_add->add_option("--property-type", na.property_type, "property type");
    account_add->add_option("--license", na.business_license, "business license");
    account_add->add_option("--category", na.category, "category");
    json_flag(account_add);

    // queue
    auto* queue = app.add_subcommand("queue", "team queues and their 311 mailboxes");
    queue->require_subcommand(1);
    std::string q_name, q_mailbox;
    std::optional<std::string> q_display;
    auto* queue_add = queue->add_subcommand("add", "add a queue");
    queue_add->add_option("--name", q_name, "queue (team) name")->required();
    queue_add->add_option("--mailbox", q_mailbox, "its 311 mailbox address")->required();
    queue_add->add_option("--display-name", q_display, "From display name for replies");
    json_flag(queue_add);
    auto* queue_list = queue->add_subcommand("list", "list queues");
    json_flag(queue_list);

    // case
    auto* cases = app.add_subcommand("case", "inspect and manage cases");
    cases->require_subcommand(1);
    store::CaseFilter filter;
    auto* case_list = cases->add_subcommand("list", "list cases");
    case_list->add_option("--queue", filter.queue, "queue name or mailbox");
    case_list->add_option("--status", filter.status, "active | resolved | cancelled")
        ->check(CLI::IsMember({"active", "resolved", "cancelled"}));
    json_flag(case_list);
    std::string token;
    auto* case_show = cases->add_subcommand("show", "show a case with its emails and history");
    case_show->add_option("TOKEN", token, "case token")->required();
    json_flag(case_show);
    std::string resolution;
    auto* case_resolve = cases->add_subcommand("resolve", "resolve a case");
    case_resolve->add_option("TOKEN", token, "case token")->required();
    case_resolve->add_option("--resolution", resolution, "resolution text")->required();
    auto* case_reactivate = cases->add_subcommand("reactivate", "reactivate a resolved case");
    case_reactivate->add_option("TOKEN", token, "case token")->required();
    store::NewCase ncase;
    std::optional<std::string> ncase_queue;
    auto* case_add = cases->add_subcommand("add", "open a case taken by phone, walk-in or portal");
    case_add->add_option("--customer", ncase.customer_contact_id, "customer contact id")->required();
    case_add->add_option("--title", ncase.title, "title")->required();
    case_add->add_option("--description", ncase.description, "description");
    case_add->add_option("--origin", ncase.origin, "phone | walk-in | portal | email")
        ->default_val("phone")
        ->check(CLI::IsMember({"phone", "walk-in", "portal", "email"}));
    case_add->add_option("--queue", ncase_queue, "queue name or mailbox");
    case_add->add_option("--property", ncase.property_account_id, "property account id");
    case_add->add_option("--business", ncase.business_account_id, "business account id");
    case_add->add_option("--category", ncase.category, "category");
    case_add->add_option("--request-type", ncase.request_type, "request type");
    case_add->add_option("--priority", ncase.priority, "low | normal | high | urgent")
        ->default_val("normal")
        ->check(CLI::IsMember({"low", "normal", "high", "urgent"}));
    json_flag(case_add);
    store::CaseEdit edit;
    auto* case_update = cases->add_subcommand("update", "change fields of an active case");
    case_update->add_option("TOKEN", token, "case token")->required();
    case_update->add_option("--title", edit.title, "title");
    case_update->add_option("--priority", edit.priority, "low | normal | high | urgent")
        ->check(CLI::IsMember({"low", "normal", "high", "urgent"}));
    case_update->add_option("--category", edit.category, "category");
    case_update->add_option("--request-type", edit.request_type, "request type");
    case_update->add_option("--owner", edit.owner, "owning agent");
    case_update->add_option("--property", edit.property_account_id, "property account id");
    case_update->add_option("--business", edit.business_account_id, "business account id");
    case_update->add_option("--anonymous", edit.anonymous, "true | false");
    case_update->add_option("--wants-updates", edit.wants_updates, "true | false");
    case_update->add_option("--confidential", edit.confidential, "true | false");

    // contact merge / archive
    store::Id merge_guest_id = 0, merge_into_id = 0, archive_id = 0;
    auto* contact_merge = contact->add_subcommand("merge", "merge a guest into a registered contact");
    contact_merge->add_option("GUEST_ID", merge_guest_id, "guest contact id")->required();
    contact_merge->add_option("--into", merge_into_id, "registered contact id")->required();
    auto* contact_archive = contact->add_subcommand("archive", "archive a contact (no longer matches mail)");
    contact_archive->add_option("ID", archive_id, "contact id")->required();

    std::string older_than;
    auto* contact_archive_guests = contact->add_subcommand(
        "archive-guests", "archive guests created more than DURATION ago (e.g. 90d)");
    contact_archive_guests->add_option("--older-than", older_than, "age, like 90d or 720h")->required();

    // ingest
    std::string ingest_mailbox;
    std::vector<std::string> ingest_files;
    std::size_t ingest_batch = 200;
    auto* ingest = app.add_subcommand("ingest", "run the inbound pipeline on raw messages");
    ingest->add_option("--mailbox", ingest_mailbox, "the 311 mailbox the mail arrived at")->required();
    ingest->add_option("FILE", ingest_files, "message files or directories, - for stdin")->required();
    ingest->add_option("--batch", ingest_batch, "messages per transaction")->default_val(200)->check(CLI::Range(1, 10000));
    json_flag(ingest);

    // unresolved
    auto* unresolved = app.add_subcommand("unresolved", "review addresses that match several contacts");
    unresolved->require_subcommand(1);
    auto* unresolved_list = unresolved->add_subcommand("list", "list review items");
    json_flag(unresolved_list);
    store::Id party_id = 0, party_contact = 0;
    bool as_customer = false;
    auto* unresolved_link = unresolved->add_subcommand("link", "link an unresolved address to a contact");
    unresolved_link->add_option("PARTY_ID", party_id, "party id from 'unresolved list'")->required();
    unresolved_link->add_option("CONTACT_ID", party_contact, "contact with that address")->required();
    unresolved_link->add_flag("--as-customer", as_customer, "also make it the customer of the case this email opened");

    // quarantine
    auto* quarantine = app.add_subcommand("quarantine", "mail that could not be parsed");
    quarantine->require_subcommand(1);
    auto* quarantine_list_cmd = quarantine->add_subcommand("list", "list quarantined messages");
    json_flag(quarantine_list_cmd);
    store::Id quarantine_id = 0;
    auto* quarantine_retry = quarantine->add_subcommand("retry", "parse a quarantined message again");
    quarantine_retry->add_option("ID", quarantine_id, "quarantine id")->required();
    json_flag(quarantine_retry);

    // parse
    std::string parse_file;
    auto* parse = app.add_subcommand("parse", "parse one email (FILE or - for stdin) and print it");
    parse->add_option("FILE", parse_file, "raw RFC 5322 message")->required();
    json_flag(parse);

    // settings
    auto* settings_cmd = app.add_subcommand("settings", "every configuration key: type, default, bounds, meaning");
    bool settings_markdown = false;
    json_flag(settings_cmd);
    settings_cmd->add_flag("--markdown", settings_markdown, "print the README's reference table");

    // status
    auto* status = app.add_subcommand("status", "per-mailbox polling state of casemaild");
    json_flag(status);

    // outbound
    auto* outbound = app.add_subcommand("outbound", "agents' replies as the relay rewrites them");
    outbound->require_subcommand(1);
    std::string rewrite_file;
    std::vector<std::string> rewrite_rcpts;
    auto* outbound_rewrite = outbound->add_subcommand("rewrite", "show the rewrite of a reply (FILE or -), without sending");
    outbound_rewrite->add_option("FILE", rewrite_file, "the agent's message")->required();
    outbound_rewrite->add_option("--rcpt", rewrite_rcpts, "envelope recipients the relay would have received");
    json_flag(outbound_rewrite);

    // outbox
    auto* outbox = app.add_subcommand("outbox", "outbound mail waiting for, or done with, delivery");
    outbox->require_subcommand(1);
    std::optional<std::string> outbox_status;
    auto* outbox_list = outbox->add_subcommand("list", "list outbox entries");
    outbox_list->add_option("--status", outbox_status, "pending | delivered | failed | held")
        ->check(CLI::IsMember({"pending", "delivered", "failed", "held"}));
    json_flag(outbox_list);
    store::Id outbox_id = 0;
    auto* outbox_retry = outbox->add_subcommand("retry", "queue a failed or held entry again (held: release it)");
    outbox_retry->add_option("ID", outbox_id, "outbox entry id")->required();

    // template
    auto* tmpl = app.add_subcommand("template", "email templates");
    tmpl->require_subcommand(1);
    std::string template_name;
    auto* template_render = tmpl->add_subcommand("render", "preview a template for a case");
    template_render->add_option("NAME", template_name, "template name, e.g. acknowledgement")->required();
    template_render->add_option("--case", token, "case token")->required();
    json_flag(template_render);

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

    if (*settings_cmd) {
        print_settings(json, settings_markdown);
        return exit_ok;
    }
    try {
        const Paths paths = resolve_paths(g);  // config read and validated once per run
        if (*init) {
            auto s = open_store(paths, true);
            std::cout << fmt::format("store {} ready (schema version {})\n", s.db().path(),
                                     s.schema_version());
            return exit_ok;
        }
        if (*parse) {
            auto raw = read_input(parse_file);
            auto parsed = mime::parse_message(raw, paths.config.limits);
            if (!parsed) {
                std::cerr << "casemail: cannot parse " << mime::printable(parse_file) << ": "
                          << mime::printable(parsed.error(), 400) << '\n';
                return exit_failed;
            }
            if (json) print(parsed_message_json(*parsed));
            else print_message_human(*parsed);
            return exit_ok;
        }
        auto s = open_store(paths, false);
        if (*contact_add) {
            require_address(nc.email, "email");
            if (nc.is_guest && nc.is_registered)
                throw BadRequest("a contact is either --guest or --registered, not both");
            if (!nc_phone.empty()) nc.phone = nc_phone;
            auto id = s.add_contact(nc);
            s.record_event(actor_of(g), "contact-created", std::nullopt, id, std::nullopt,
                           nc.is_registered ? "registered" : (nc.is_guest ? "guest" : "contact"));
            if (json) print({{"id", id}});
            else std::cout << fmt::format("contact {} added\n", id);
        } else if (*contact_list) {
            std::optional<std::string> email;
            if (!contact_email.empty()) email = contact_email;
            auto all = s.list_contacts(email);
            if (json) {
                auto arr = nlohmann::json::array();
                for (const auto& c : all) arr.push_back(contact_json(c));
                print(arr);
            } else {
                for (const auto& c : all)
                    std::cout << fmt::format("{:>6}  {:<30} {:<32} {}{}\n", c.id, c.name, c.email,
                                             c.is_registered ? "registered" : (c.is_guest ? "guest" : "contact"),
                                             c.archived_at ? " (archived)" : "");
            }
        } else if (*contact_merge) {
            s.merge_guest(merge_guest_id, merge_into_id, actor_of(g));
            std::cout << fmt::format("guest {} merged into contact {}\n", merge_guest_id, merge_into_id);
        } else if (*contact_archive) {
            s.archive_contact(archive_id, actor_of(g));
            std::cout << fmt::format("contact {} archived\n", archive_id);
        } else if (*contact_archive_guests) {
            auto age = config::parse_duration(older_than);
            if (!age) throw BadRequest(fmt::format("--older-than: '{}' is not a duration like 90d", mime::printable(older_than)));
            store::Transaction tx(s.db());
            int n = s.archive_guests_before(s.now() - *age, actor_of(g));
            tx.commit();
            std::cout << fmt::format("{} guest contact(s) archived\n", n);
        } else if (*ingest) {
            auto files = expand_inputs(ingest_files);
            return run_ingest(s, ingest_options(paths.config, actor_of(g)), ingest_mailbox, files,
                              ingest_batch, json);
        } else if (*unresolved_list) {
            auto items = store::review_items(s);
            if (json) {
                auto arr = nlohmann::json::array();
                for (const auto& it : items)
                    arr.push_back({{"party_id", it.party_id}, {"email_id", it.email_id},
                                   {"case", it.case_token ? nlohmann::json(*it.case_token) : nlohmann::json(nullptr)},
                                   {"role", it.role}, {"address", it.address},
                                   {"candidate_contact_ids", it.candidate_contact_ids}});
                print(arr);
            } else {
                for (const auto& it : items) {
                    std::string ids;
                    for (auto id : it.candidate_contact_ids) ids += (ids.empty() ? "" : ",") + std::to_string(id);
                    std::cout << fmt::format("party {:>6}  email {:>6}  {:<18} {:<4} {:<32} candidates {}\n",
                                             it.party_id, it.email_id, it.case_token.value_or("-"), it.role,
                                             mime::printable(it.address, 60), ids);
                }
            }
        } else if (*unresolved_link) {
            store::Transaction tx(s.db());
            store::link_party(s, party_id, party_contact, as_customer, actor_of(g));
            tx.commit();
            std::cout << fmt::format("party {} linked to contact {}{}\n", party_id, party_contact,
                                     as_customer ? " (now the case customer)" : "");
        } else if (*quarantine_list_cmd) {
            auto entries = store::quarantine_list(s);
            if (json) {
                auto arr = nlohmann::json::array();
                for (const auto& q : entries)
                    arr.push_back({{"id", q.id}, {"email_id", q.email_id}, {"mailbox", q.mailbox},
                                   {"reason", q.reason}, {"created_at", q.created_at},
                                   {"retried_at", q.retried_at ? nlohmann::json(*q.retried_at) : nlohmann::json(nullptr)},
                                   {"size", q.size}});
                print(arr);
            } else {
                for (const auto& q : entries)
                    std::cout << fmt::format("{:>6}  {}  {:<28} {:>9} bytes  {}\n", q.id, q.created_at,
                                             mime::printable(q.mailbox, 28), q.size, mime::printable(q.reason, 200));
            }
        } else if (*quarantine_retry) {
            inbound::Ingestor ingestor(s, ingest_options(paths.config, actor_of(g)));
            store::Transaction tx(s.db());
            auto r = ingestor.retry_quarantined(quarantine_id);
            tx.commit();
            if (json) print(ingest_result_json("quarantine:" + std::to_string(quarantine_id), r));
            else std::cout << fmt::format("quarantine {}: {}{} - {}\n", quarantine_id, r.action,
                                          r.case_token ? " " + *r.case_token : "", mime::printable(r.reason, 300));
        } else if (*status) {
            auto states = store::all_mailbox_states(s);
            if (json) {
                auto arr = nlohmann::json::array();
                for (const auto& m : states) arr.push_back(mailbox_state_json(m));
                print(arr);
            } else {
                for (const auto& m : states)
                    std::cout << fmt::format("{:<32} {:<10} last poll {}  {}  processed {}  backlog {}{}\n", m.mailbox,
                                             m.folder, m.last_poll_at.value_or("never"),
                                             m.failures ? fmt::format("FAILING ({}x): {}", m.failures, m.last_error.value_or(""))
                                                        : std::string("ok"),
                                             m.processed, m.backlog ? std::to_string(*m.backlog) : "?",
                                             m.pending_acks ? fmt::format("  ({} awaiting server ack)", m.pending_acks) : "");
            }
        } else if (*outbound_rewrite) {
            auto raw = read_input(rewrite_file);
            auto preview = relay::preview_rewrite(s, raw, rewrite_rcpts, accept_settings(paths.config));
            if (!preview) throw BadRequest(preview.error());
            const auto& r = preview->rewritten;
            if (json) {
                print(rewrite_json(preview->case_token, r));
            } else {
                std::cout << fmt::format("case {}\nenvelope: {} -> {}\ndropped: {}\n\n{}", preview->case_token,
                                         r.envelope_from, mime::join(r.envelope_to, ", "),
                                         r.dropped.empty() ? "-" : mime::printable(mime::join(r.dropped, ", "), 1000),
                                         r.raw.substr(0, r.raw.find("\r\n\r\n") + 2));
            }
        } else if (*outbox_list) {
            auto entries = store::list_outbox(s, outbox_status);
            if (json) {
                auto arr = nlohmann::json::array();
                for (const auto& e : entries) arr.push_back(outbox_entry_json(e));
                print(arr);
            } else {
                for (const auto& e : entries)
                    std::cout << fmt::format("{:>6}  {:<12} {:<9} {:<18} {:<32} attempts {}  {}\n", e.id, e.kind, e.status,
                                             e.case_token.value_or("-"), mime::printable(e.to_address, 32), e.attempts,
                                             mime::printable(e.last_error.value_or(e.hold_reason.value_or("")), 200));
            }
        } else if (*outbox_retry) {
            store::Transaction tx(s.db());
            store::retry_outbox(s, outbox_id, actor_of(g));
            tx.commit();
            std::cout << fmt::format("outbox entry {} queued again; casemaild sends it on its next outbox run\n", outbox_id);
        } else if (*template_render) {
            auto t = outbox::load_named_template(render_settings(paths.config), template_name);
            if (!t) throw BadRequest(t.error());
            auto r = templates::render(*t, outbox::case_values(s, token));
            if (json)
                print({{"subject", r.subject}, {"text", r.text}, {"html", r.html ? nlohmann::json(*r.html) : nlohmann::json(nullptr)}});
            else
                std::cout << "Subject: " << r.subject << "\n\n" << r.text << (r.html ? "\n--- HTML ---\n" + *r.html : "") << '\n';
        } else if (*account_add) {
            auto id = s.add_account(na);
            if (json) print({{"id", id}});
            else std::cout << fmt::format("account {} added\n", id);
        } else if (*queue_add) {
            require_address(q_mailbox, "mailbox");
            auto id = s.add_queue(q_name, q_mailbox, q_display);
            if (json) print({{"id", id}});
            else std::cout << fmt::format("queue {} added\n", id);
        } else if (*queue_list) {
            auto all = s.list_queues();
            if (json) {
                auto arr = nlohmann::json::array();
                for (const auto& q : all) arr.push_back(queue_json(q));
                print(arr);
            } else {
                for (const auto& q : all)
                    std::cout << fmt::format("{:>4}  {:<24} {}\n", q.id, q.name, q.mailbox);
            }
        } else if (*case_list) {
            auto all = s.list_cases(filter);
            if (json) {
                auto arr = nlohmann::json::array();
                for (const auto& c : all) arr.push_back(case_summary_json(c));
                print(arr);
            } else {
                for (const auto& c : all)
                    std::cout << fmt::format("{:<18} {:<9} {:<20} {:>3} mail  {}\n", c.token,
                                             c.status, c.queue_name.value_or("-"), c.email_count,
                                             c.title);
            }
        } else if (*case_show) {
            auto c = s.require_case(token);
            auto emails = s.case_emails(c.id);
            auto events = s.case_events(c.id);
            if (json) print(case_detail_json(c, emails, events));
            else print_case_human(c, emails, events);
        } else if (*case_resolve) {
            s.resolve_case(token, resolution, actor_of(g));
            std::cout << fmt::format("case {} resolved\n", s.require_case(token).token);
        } else if (*case_reactivate) {
            s.reactivate_case(token, actor_of(g));
            std::cout << fmt::format("case {} reactivated\n", s.require_case(token).token);
        } else if (*case_add) {
            require_contact(s, ncase.customer_contact_id);
            require_account(s, ncase.property_account_id, "property");
            require_account(s, ncase.business_account_id, "business");
            if (ncase_queue) {
                auto q = s.find_queue(*ncase_queue);
                if (!q) throw BadRequest(fmt::format("no queue named '{}'", *ncase_queue));
                ncase.queue_id = q->id;
            }
            auto c = s.create_case(ncase, actor_of(g));
            if (json) print({{"token", c.token}, {"id", c.id}});
            else std::cout << fmt::format("case {} created\n", c.token);
        } else if (*case_update) {
            require_account(s, edit.property_account_id, "property");
            require_account(s, edit.business_account_id, "business");
            s.edit_case(token, edit, actor_of(g));
            std::cout << fmt::format("case {} updated\n", s.require_case(token).token);
        }
        return exit_ok;
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

}  // namespace casemail::daemon
