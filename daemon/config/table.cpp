// The settings table: one row per configuration key (type, default, bounds, help, where it
// goes). Longer than the ~400 lines a file here keeps to because it is a table, read row by row;
// splitting it by section would scatter what `casemail settings` prints in one place.
#include "daemon/config/table.hpp"

#include <fmt/format.h>

#include <cctype>
#include <filesystem>

#include "daemon/common/login.hpp"
#include "daemon/protocol/imap.hpp"
#include "daemon/protocol/network.hpp"
#include "matching/route_rule.hpp"
#include "matching/sla.hpp"
#include "matching/token.hpp"
#include "matching/workflow.hpp"
#include "mime/address.hpp"
#include "mime/strings.hpp"

namespace casemail::config::detail {

const char* type_name(Type t) {
    switch (t) {
        case Type::string: return "string";
        case Type::path: return "path";
        case Type::boolean: return "boolean";
        case Type::integer: return "integer";
        case Type::duration: return "duration";
        case Type::list: return "list";
    }
    return "?";
}

namespace {

std::string ok() { return {}; }

std::string not_empty(const std::string& s) { return s.empty() ? "must not be empty" : ""; }

std::string compile_into(const std::string& expression, std::optional<matching::Pattern>& into) {
    auto p = matching::Pattern::compile(expression);
    if (!p) return p.error();
    into = std::move(*p);
    return {};
}

// imaps://host[:port] or smtps://host[:port] (the secure scheme is the default): no
// credentials, no path. `url` is completed in place.
std::string check_server_url(std::string& url, std::string_view secure, std::string_view starttls, bool mailbox) {
    if (url.find("://") == std::string::npos) url = std::string(secure) + "://" + url;
    auto rest = url.substr(url.find("://") + 3);
    if (!url.starts_with(std::string(secure) + "://") && !url.starts_with(std::string(starttls) + "://"))
        return fmt::format("must start with {}:// or {}://", secure, starttls);
    if (rest.find('@') != std::string::npos) return "must not contain credentials: use 'user' and 'password_file'";
    auto slash = rest.find('/');
    if (mailbox && slash != std::string::npos && slash + 1 < rest.size())
        return "must not contain a path: the folder is the 'folder' key";
    if (rest.empty() || rest[0] == '/') return mailbox ? "must name a host" : "must be smtps://HOST[:PORT] without a path";
    if (!mailbox && slash != std::string::npos && slash + 1 < rest.size()) return "must be smtps://HOST[:PORT] without a path";
    return ok();
}

// "127.0.0.1:2525", "[::1]:2525" into host and port; "" when it is not that.
std::string split_listen(const std::string& listen, std::string& host_out, int& port_out) {
    auto colon = listen.rfind(':');
    std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
    if (host.empty() || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) > 65535)
        return "must be ADDRESS:PORT, like \"127.0.0.1:2525\" or \"[::1]:2525\"";
    host_out = host;
    port_out = std::stoi(port);
    return ok();
}

std::string apply_listen(Target& t, const Value& v) {
    return split_listen(text(v), t.cfg.relay.listen_address, t.cfg.relay.port);
}

std::string apply_networks(Target& t, const Value& v) {
    for (const auto& n : list(v))
        if (auto parsed = protocol::parse_network(n); !parsed) return parsed.error();
    t.cfg.relay.allowed_networks = list(v);
    return ok();
}

std::string apply_after_processing(Target& t, const Value& v) {
    const auto& after = text(v);
    auto& m = *t.mailbox;
    if (after == "flag") m.after_processing = AfterProcessing::flag;
    else if (after == "delete") m.after_processing = AfterProcessing::remove;
    else if (after.starts_with("move:") && protocol::imap::valid_folder_name(after.substr(5))) {
        m.after_processing = AfterProcessing::move;
        m.move_to = after.substr(5);
    } else {
        return "must be \"flag\", \"delete\" or \"move:FOLDER\" (another folder)";
    }
    return ok();
}

std::string apply_templates_dir(Target& t, const Value& v) {
    t.cfg.templates_dir = text(v);
    std::error_code ec;
    if (!t.cfg.templates_dir.empty() && !std::filesystem::is_directory(t.cfg.templates_dir, ec))
        return fmt::format("'{}' is not a directory", t.cfg.templates_dir);
    return ok();
}

// The IANA zone named by cfg.timezone, from the system's tz database (package tzdata).
std::string locate_zone(Config& cfg) {
    try {
        cfg.zone = date::locate_zone(cfg.timezone);
        return ok();
    } catch (const std::exception&) {
        return fmt::format("'{}' is not a time zone of the system's tz database (like \"America/Los_Angeles\"; "
                           "is tzdata installed?)", cfg.timezone);
    }
}

// Returns a setter choosing among `choices` ({"text", value}...) for a string key.
template <class T, std::size_t N>
std::string choose(const std::string& given, const std::pair<const char*, T> (&choices)[N], T& out) {
    std::string names;
    for (const auto& [name, value] : choices) {
        if (given == name) {
            out = value;
            return ok();
        }
        names += fmt::format("{}\"{}\"", names.empty() ? "" : (&name == &choices[N - 1].first ? " or " : ", "), name);
    }
    return "must be " + names;
}

// The OAuth2 client of a [[mailbox]] (true) or of [upstream] (false).
template <bool Mailbox>
common::OAuth2Client& oauth2_of(Target& t) {
    if constexpr (Mailbox) return t.mailbox->secret.oauth2;
    else return t.cfg.upstream.secret.oauth2;
}

template <bool Mailbox>
std::string set_token_url(Target& t, const Value& v) {
    oauth2_of<Mailbox>(t).token_url = text(v);
    if (!text(v).starts_with("https://") && !text(v).starts_with("http://")) return "must be an https:// URL";
    return ok();
}

template <bool Mailbox>
std::string set_tenant(Target& t, const Value& v) {
    for (char c : text(v))
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.')
            return std::string("must be a tenant id or domain (letters, digits, '-', '.')");
    if (text(v).empty()) return std::string("must not be empty");
    oauth2_of<Mailbox>(t).token_url = common::microsoft_token_url(text(v));
    return ok();
}

template <bool Mailbox>
std::string set_client_id(Target& t, const Value& v) {
    oauth2_of<Mailbox>(t).client_id = text(v);
    return not_empty(text(v));
}

template <bool Mailbox>
std::string set_scope(Target& t, const Value& v) {
    oauth2_of<Mailbox>(t).scope = text(v);
    return not_empty(text(v));
}

template <bool Mailbox>
std::string set_client_secret_file(Target& t, const Value& v) {
    oauth2_of<Mailbox>(t).client_secret_file = text(v);
    return ok();
}

template <bool Mailbox>
std::string set_refresh_token_file(Target& t, const Value& v) {
    oauth2_of<Mailbox>(t).refresh_token_file = text(v);
    return ok();
}

const char* const default_blocked =
    R"(["exe", "js", "vbs", "vbe", "bat", "cmd", "com", "scr", "pif", "msi", "jar", "ps1", "wsf", "hta", "cpl", "lnk", "reg", "jse", "msp", "scf"])";

}  // namespace

// One entry per key, a few lines each: the table is long because the configuration is, and
// keeping every key in one place is the point (Postfix's parameter tables are the model).
const std::vector<Setting>& table() {
    static const std::vector<Setting> settings = {
        {"store", "path", Type::path, "\"casemail.db\"", 0, 0, "the SQLite case store",
         [](Target& t, const Value& v) {
             t.cfg.store_path = text(v);
             t.cfg.store_path_set = true;
             return not_empty(text(v));
         }},
        {"tracking", "prefix", Type::string, "\"311\"", 0, 0, "case token prefix: 1-16 of A-Z, 0-9 (311-000042-K7QX)",
         [](Target& t, const Value& v) {
             t.cfg.token_prefix = text(v);
             return matching::valid_token_prefix(text(v)) ? ok() : "must be 1-16 characters of A-Z and 0-9";
         }},
        {"tracking", "message_id_domain", Type::string, "\"casemail.invalid\"", 0, 0,
         "domain of the Message-IDs casemail writes; mail carrying it is a loop and opens no case",
         [](Target& t, const Value& v) {
             t.cfg.message_id_domain = text(v);
             return mime::valid_addr_spec("x@" + text(v)) ? ok() : "must be a domain name";
         }},
        {"ingest", "resolved_window", Type::duration, "\"14d\"", 0, 0,
         "how long after resolution a reply still belongs to the old case",
         [](Target& t, const Value& v) {
             t.cfg.resolved_window = duration(v);
             return ok();
         }},
        {"ingest", "on_resolved", Type::string, "\"link\"", 0, 0,
         "inside the window: link (flag for review), reactivate or new_case",
         [](Target& t, const Value& v) {
             static constexpr std::pair<const char*, matching::OnResolved> choices[] = {
                 {"link", matching::OnResolved::link},
                 {"new_case", matching::OnResolved::new_case},
                 {"reactivate", matching::OnResolved::reactivate}};
             return choose(text(v), choices, t.cfg.on_resolved);
         }},
        {"ingest", "auto_ack", Type::boolean, "true", 0, 0,
         "acknowledge each new case (never auto-replies, bounces, bulk, no-reply senders)",
         [](Target& t, const Value& v) {
             t.cfg.auto_ack = flag(v);
             return ok();
         }},
        {"ingest", "ack_limit_per_hour", Type::integer, "3", 0, 1000, "acknowledgements per address per hour",
         [](Target& t, const Value& v) {
             t.cfg.ack_limit_per_hour = static_cast<int>(number(v));
             return ok();
         }},
        {"ingest", "on_foreign_sender", Type::string, "\"review\"", 0, 0,
         "a token or reply-chain match from an address not on the case: review (linked, flagged) or new_case",
         [](Target& t, const Value& v) {
             static constexpr std::pair<const char*, matching::OnForeignSender> choices[] = {
                 {"review", matching::OnForeignSender::review}, {"new_case", matching::OnForeignSender::new_case}};
             return choose(text(v), choices, t.cfg.on_foreign_sender);
         }},
        {"ingest", "max_new_cases_per_sender", Type::integer, "10", 0, 100000,
         "new cases one address may open per hour; further mail is linked to its latest (0: no limit)",
         [](Target& t, const Value& v) {
             t.cfg.max_new_cases_per_sender = static_cast<int>(number(v));
             return ok();
         }},
        {"ingest", "max_new_cases_per_domain", Type::integer, "0", 0, 1000000,
         "the same per sending domain (0: no limit; public mail domains are shared by many citizens)",
         [](Target& t, const Value& v) {
             t.cfg.max_new_cases_per_domain = static_cast<int>(number(v));
             return ok();
         }},
        {"ingest", "blocked_extensions", Type::list, default_blocked, 0, 0,
         "attachment extensions kept as metadata only",
         [](Target& t, const Value& v) {
             for (const auto& ext : list(v))
                 if (ext.empty() || ext.find('.') != std::string::npos)
                     return std::string("entries are extensions without a dot, like \"exe\"");
             t.cfg.blocked_extensions = list(v);
             return ok();
         }},
        {"cases", "child_closure", Type::string, "\"independent\"", 0, 0,
         "resolving a parent: independent, close_children (resolved with it) or block_parent (refused while one is active)",
         [](Target& t, const Value& v) {
             static constexpr std::pair<const char*, matching::ChildClosure> choices[] = {
                 {"independent", matching::ChildClosure::independent},
                 {"close_children", matching::ChildClosure::close_children},
                 {"block_parent", matching::ChildClosure::block_parent}};
             return choose(text(v), choices, t.cfg.child_closure);
         }},
        {"cases", "resolution_types", Type::list,
         R"(["Problem Solved", "Information Provided", "Referred", "Duplicate", "Cancelled"])", 0, 0,
         "what `case resolve --type` accepts; the first is the default",
         [](Target& t, const Value& v) {
             if (list(v).empty()) return std::string("needs at least one type");
             t.cfg.resolution_types = list(v);
             return ok();
         }},
        {"route", "name", Type::string, "(required)", 0, 0, "the rule's name, recorded on the cases it routes",
         [](Target& t, const Value& v) {
             t.route->name = text(v);
             return not_empty(text(v));
         }},
        {"route", "mailbox", Type::string, "(any)", 0, 0, "condition: received at this 311 mailbox",
         [](Target& t, const Value& v) {
             t.route->mailbox = mime::normalize_address(text(v));
             return mime::valid_addr_spec(t.route->mailbox) ? ok() : "must be an email address";
         }},
        {"route", "from", Type::list, "(any)", 0, 0, "condition: the sender is one of these addresses or @domains",
         [](Target& t, const Value& v) {
             for (const auto& f : list(v)) {
                 auto norm = mime::normalize_address(f);
                 bool domain = norm.starts_with("@") && norm.size() > 1 && norm.find('@', 1) == std::string::npos;
                 if (!domain && !mime::valid_addr_spec(norm)) return fmt::format("'{}' is neither an address nor an @domain", f);
                 t.route->from.push_back(norm);
             }
             return ok();
         }},
        {"route", "subject", Type::list, "(any)", 0, 0, "condition: the subject has one of these words (case-insensitive)",
         [](Target& t, const Value& v) {
             t.route->subject_words = list(v);
             return ok();
         }},
        {"route", "subject_regex", Type::string, "(any)", 0, 0, "condition: the subject matches this RE2 expression",
         [](Target& t, const Value& v) { return compile_into(text(v), t.route->subject_regex); }},
        {"route", "body", Type::list, "(any)", 0, 0, "condition: the body text has one of these words",
         [](Target& t, const Value& v) {
             t.route->body_words = list(v);
             return ok();
         }},
        {"route", "body_regex", Type::string, "(any)", 0, 0,
         "condition: the body text (its first 256 KB) matches this RE2 expression",
         [](Target& t, const Value& v) { return compile_into(text(v), t.route->body_regex); }},
        {"route", "has_attachment", Type::string, "(any)", 0, 0,
         "condition: an attachment of this type (\"image/*\", \"application/pdf\") or extension (\"pdf\")",
         [](Target& t, const Value& v) {
             t.route->has_attachment = text(v);
             return not_empty(text(v));
         }},
        {"route", "header", Type::string, "(any)", 0, 0,
         "condition: the header is present (\"X-Spam-Flag\") or equal (\"X-Spam-Flag: YES\")",
         [](Target& t, const Value& v) {
             auto colon = text(v).find(':');
             t.route->header_name = std::string(mime::trim(text(v).substr(0, colon)));
             if (colon != std::string::npos) t.route->header_value = std::string(mime::trim(text(v).substr(colon + 1)));
             return not_empty(t.route->header_name);
         }},
        {"route", "no_case", Type::boolean, "false", 0, 0,
         "action: store and link for history, no case, no acknowledgement (spam, unsolicited mail)",
         [](Target& t, const Value& v) {
             t.route->no_case = flag(v);
             return ok();
         }},
        {"route", "queue", Type::string, "(the mailbox's)", 0, 0, "action: the team queue of the new case",
         [](Target& t, const Value& v) {
             t.route->queue = text(v);
             return not_empty(text(v));
         }},
        {"route", "category", Type::string, "(none)", 0, 0, "action: the new case's category",
         [](Target& t, const Value& v) {
             t.route->category = text(v);
             return not_empty(text(v));
         }},
        {"route", "request_type", Type::string, "(none)", 0, 0, "action: Report, Request or Inquire About",
         [](Target& t, const Value& v) {
             auto name = matching::request_type_name(text(v));
             if (!name) return std::string("must be \"Report\", \"Request\" or \"Inquire About\"");
             t.route->request_type = *name;
             return ok();
         }},
        {"route", "priority", Type::string, "(normal)", 0, 0, "action: low, normal, high or urgent",
         [](Target& t, const Value& v) {
             for (const char* p : {"low", "normal", "high", "urgent"})
                 if (text(v) == p) {
                     t.route->priority = text(v);
                     return ok();
                 }
             return std::string("must be \"low\", \"normal\", \"high\" or \"urgent\"");
         }},
        {"business_hours", "hours", Type::string, "\"Mon-Fri 08:00-17:00\"", 0, 0,
         "when SLA clocks run: days and local windows, like \"Mon-Fri 08:00-12:00 13:00-17:00, Sat 09:00-12:00\", or \"always\"",
         [](Target& t, const Value& v) {
             auto week = matching::sla::parse_hours(text(v));
             if (!week) return week.error();
             t.cfg.business_week = *week;
             return ok();
         }},
        {"business_hours", "timezone", Type::string, "\"UTC\"", 0, 0,
         "the city's IANA time zone, like \"America/Los_Angeles\" (DST changes follow it)",
         [](Target& t, const Value& v) {
             t.cfg.timezone = text(v);
             return locate_zone(t.cfg);
         }},
        {"business_hours", "holidays", Type::list, "[]", 0, 0, "dates without business hours, like [\"2026-12-25\"]",
         [](Target& t, const Value& v) {
             for (const auto& d : list(v)) {
                 auto day = matching::sla::parse_date(d);
                 if (!day) return day.error();
                 t.cfg.holidays.insert(*day);
             }
             return ok();
         }},
        {"sla", "name", Type::string, "(sla[N])", 0, 0, "the policy's name, in alerts and `case show`",
         [](Target& t, const Value& v) {
             t.sla->name = text(v);
             return not_empty(text(v));
         }},
        {"sla", "priority", Type::string, "(any)", 0, 0, "condition: the case's priority (low, normal, high, urgent)",
         [](Target& t, const Value& v) {
             for (const char* p : {"low", "normal", "high", "urgent"})
                 if (text(v) == p) {
                     t.sla->priority = text(v);
                     return ok();
                 }
             return std::string("must be low, normal, high or urgent");
         }},
        {"sla", "request_type", Type::string, "(any)", 0, 0, "condition: the case's request type (Report, Request, Inquire About)",
         [](Target& t, const Value& v) {
             auto name = matching::request_type_name(text(v));
             if (!name) return std::string("must be Report, Request or Inquire About");
             t.sla->request_type = *name;
             return ok();
         }},
        {"sla", "first_response", Type::duration, "(no clock)", 1, 0,
         "business time until the initial acknowledgement (an agent's reply or `case ack`)",
         [](Target& t, const Value& v) {
             t.sla->first_response = duration(v);
             return ok();
         }},
        {"sla", "resolve_within", Type::duration, "(no clock)", 1, 0, "business time until the case is resolved",
         [](Target& t, const Value& v) {
             t.sla->resolve_within = duration(v);
             return ok();
         }},
        {"sla", "warn_at", Type::integer, "75", 1, 99, "percent of a clock's time after which it is in warning",
         [](Target& t, const Value& v) {
             t.sla->warn_percent = static_cast<int>(number(v));
             return ok();
         }},
        {"limits", "max_message_bytes", Type::integer, "41943040", 1024, std::int64_t{1} << 30,
         "larger mail is quarantined with its first bytes",
         [](Target& t, const Value& v) {
             t.cfg.limits.max_message_bytes = static_cast<std::size_t>(number(v));
             return ok();
         }},
        {"limits", "max_depth", Type::integer, "32", 1, 256, "MIME nesting",
         [](Target& t, const Value& v) {
             t.cfg.limits.max_depth = static_cast<std::size_t>(number(v));
             return ok();
         }},
        {"limits", "max_parts", Type::integer, "1000", 1, 100000, "MIME parts per message",
         [](Target& t, const Value& v) {
             t.cfg.limits.max_parts = static_cast<std::size_t>(number(v));
             return ok();
         }},
        {"limits", "max_headers", Type::integer, "2000", 10, 100000, "header fields per part",
         [](Target& t, const Value& v) {
             t.cfg.limits.max_headers = static_cast<std::size_t>(number(v));
             return ok();
         }},
        {"limits", "max_header_bytes", Type::integer, "1048576", 1000, std::int64_t{64} << 20, "one header field",
         [](Target& t, const Value& v) {
             t.cfg.limits.max_header_bytes = static_cast<std::size_t>(number(v));
             return ok();
         }},
        {"daemon", "fetch_batch", Type::integer, "200", 1, 10000,
         "casemaild: messages per IMAP fetch and per server acknowledgement (also bounded by 64 MB a batch)",
         [](Target& t, const Value& v) {
             t.cfg.fetch_batch = static_cast<int>(number(v));
             return ok();
         }},
        {"daemon", "max_backoff", Type::duration, "\"15m\"", 1, 0,
         "cap of a failing mailbox's retry delay (doubling from its poll interval, +-20% jitter)",
         [](Target& t, const Value& v) {
             t.cfg.max_backoff = duration(v);
             return ok();
         }},
        {"daemon", "connect_timeout", Type::duration, "\"15s\"", 1, 0, "IMAP and SMTP connect timeout",
         [](Target& t, const Value& v) {
             t.cfg.connect_timeout = duration(v);
             return ok();
         }},
        {"daemon", "stall_timeout", Type::duration, "\"60s\"", 1, 0, "an IMAP transfer idle this long is abandoned",
         [](Target& t, const Value& v) {
             t.cfg.stall_timeout = duration(v);
             return ok();
         }},
        {"daemon", "commit_group_max", Type::integer, "256", 1, 100000,
         "the store's writer commits at most this many items (batches, replies, outbox updates) at once",
         [](Target& t, const Value& v) {
             t.cfg.commit_group_max = static_cast<int>(number(v));
             return ok();
         }},
        {"daemon", "commit_group_wait_us", Type::integer, "0", 0, 1000000,
         "microseconds a short group waits for more work before it commits (0: never waits)",
         [](Target& t, const Value& v) {
             t.cfg.commit_group_wait_us = static_cast<int>(number(v));
             return ok();
         }},
        {"daemon", "workorder_sync_interval", Type::duration, "\"5m\"", 1, 0,
         "how often casemaild reads the [[workorder]] inbox directories",
         [](Target& t, const Value& v) {
             t.cfg.workorder_sync_interval = duration(v);
             return ok();
         }},
        {"workorder", "name", Type::string, "(required)", 0, 0,
         "the work-order system's name (letters, digits, - and _), as `case submit-workorder --system` takes it",
         [](Target& t, const Value& v) {
             t.workorder->name = text(v);
             for (unsigned char c : text(v))
                 if (!std::isalnum(c) && c != '-' && c != '_') return std::string("must be letters, digits, - and _");
             return not_empty(text(v));
         }},
        {"workorder", "outbox_dir", Type::path, "(required)", 0, 0,
         "directory the case documents are written to (atomically) for the system to pick up",
         [](Target& t, const Value& v) {
             t.workorder->outbox_dir = text(v);
             return ok();
         }},
        {"workorder", "inbox_dir", Type::path, "(required)", 0, 0,
         "directory the system drops status updates in; applied ones move to processed/, bad ones to rejected/",
         [](Target& t, const Value& v) {
             t.workorder->inbox_dir = text(v);
             return ok();
         }},
        {"workorder", "resolution_type", Type::string, "(the first of cases.resolution_types)", 0, 0,
         "the resolution type of the cases its updates resolve",
         [](Target& t, const Value& v) {
             t.workorder->resolution_type = text(v);
             return not_empty(text(v));
         }},
        {"open311_service", "category", Type::string, "(required)", 0, 0,
         "the case category published as this service (cases of other categories: service_code \"other\")",
         [](Target& t, const Value& v) {
             t.service->category = text(v);
             return not_empty(text(v));
         }},
        {"open311_service", "code", Type::string, "(required)", 0, 0, "its GeoReport v2 service_code",
         [](Target& t, const Value& v) {
             t.service->code = text(v);
             return not_empty(text(v));
         }},
        {"open311_service", "name", Type::string, "(required)", 0, 0, "its GeoReport v2 service_name",
         [](Target& t, const Value& v) {
             t.service->name = text(v);
             return not_empty(text(v));
         }},
        {"daemon", "sla_check_interval", Type::duration, "\"1m\"", 1, 0,
         "how often casemaild checks SLA clocks for warnings and breaches",
         [](Target& t, const Value& v) {
             t.cfg.sla_check_interval = duration(v);
             return ok();
         }},
        {"alerts", "to", Type::list, "[]", 0, 0, "addresses mailed when an alarm is raised, changes or clears (empty: logged only)",
         [](Target& t, const Value& v) {
             for (const auto& a : list(v))
                 if (!mime::valid_addr_spec(mime::normalize_address(a)))
                     return fmt::format("'{}' is not an email address", a);
             t.cfg.alerts.to = list(v);
             return ok();
         }},
        {"alerts", "from", Type::string, "(the first mailbox)", 0, 0, "the sender of alarm mail",
         [](Target& t, const Value& v) {
             t.cfg.alerts.from = text(v);
             return mime::valid_addr_spec(mime::normalize_address(text(v))) ? ok() : "must be an email address";
         }},
        {"alerts", "repeat", Type::duration, "\"6h\"", 1, 0, "a standing alarm is mailed again after this long",
         [](Target& t, const Value& v) {
             t.cfg.alerts.repeat = duration(v);
             return ok();
         }},
        {"alerts", "check_interval", Type::duration, "\"1m\"", 1, 0, "how often casemaild evaluates the alarms",
         [](Target& t, const Value& v) {
             t.cfg.alerts.check_interval = duration(v);
             return ok();
         }},
        {"alerts", "outbox_age", Type::duration, "\"1h\"", 1, 0, "warning when the oldest pending outbox entry waits longer",
         [](Target& t, const Value& v) {
             t.cfg.alerts.outbox_age = duration(v);
             return ok();
         }},
        {"alerts", "failing_critical_after", Type::duration, "\"15m\"", 1, 0,
         "a failing mailbox is a warning, and critical after failing this long",
         [](Target& t, const Value& v) {
             t.cfg.alerts.failing_critical_after = duration(v);
             return ok();
         }},
        {"alerts", "review_warning", Type::integer, "100", 1, 10000000, "warning at this many review items waiting",
         [](Target& t, const Value& v) {
             t.cfg.alerts.review_warning = static_cast<int>(number(v));
             return ok();
         }},
        {"alerts", "disk_free_warning", Type::integer, "10", 0, 100, "warning below this percent free under the store",
         [](Target& t, const Value& v) {
             t.cfg.alerts.disk_free_warning = static_cast<int>(number(v));
             return ok();
         }},
        {"alerts", "disk_free_critical", Type::integer, "2", 0, 100, "critical below this percent free under the store",
         [](Target& t, const Value& v) {
             t.cfg.alerts.disk_free_critical = static_cast<int>(number(v));
             return ok();
         }},
        {"metrics", "listen", Type::string, "(off)", 0, 0,
         "ADDRESS:PORT serving GET /metrics (Prometheus text format), like \"127.0.0.1:9311\"",
         [](Target& t, const Value& v) { return split_listen(text(v), t.cfg.metrics_address, t.cfg.metrics_port); }},
        {"mailbox", "address", Type::string, "(required)", 0, 0, "the 311 mailbox's address",
         [](Target& t, const Value& v) {
             t.mailbox->address = text(v);
             if (text(v).empty()) return not_empty(text(v));
             return mime::valid_addr_spec(mime::normalize_address(text(v))) ? ok() : "must be an email address";
         }},
        {"mailbox", "queue", Type::string, "(required)", 0, 0, "its team queue (created by casemaild when missing)",
         [](Target& t, const Value& v) {
             t.mailbox->queue = text(v);
             return not_empty(text(v));
         }},
        {"mailbox", "url", Type::string, "(required)", 0, 0,
         "imaps://host[:port] (default scheme) or imap:// with STARTTLS required; no credentials or path",
         [](Target& t, const Value& v) {
             t.mailbox->url = text(v);
             if (text(v).empty()) return not_empty(text(v));
             return check_server_url(t.mailbox->url, "imaps", "imap", true);
         }},
        {"mailbox", "user", Type::string, "(required)", 0, 0, "IMAP login name",
         [](Target& t, const Value& v) {
             t.mailbox->user = text(v);
             return not_empty(text(v));
         }},
        {"mailbox", "password_file", Type::path, "(none)", 0, 0,
         "file holding the password, read at each connection (exactly one secret source)",
         [](Target& t, const Value& v) {
             t.mailbox->secret.password_file = text(v);
             return ok();
         }},
        {"mailbox", "password_env", Type::string, "(none)", 0, 0, "environment variable holding the password",
         [](Target& t, const Value& v) {
             t.mailbox->secret.password_env = text(v);
             return ok();
         }},
        {"mailbox", "oauth2_token_file", Type::path, "(none)", 0, 0,
         "file holding an OAuth2 access token for XOAUTH2 (Microsoft 365), read at each connection",
         [](Target& t, const Value& v) {
             t.mailbox->secret.oauth2_token_file = text(v);
             return ok();
         }},
        {"mailbox", "oauth2_tenant", Type::string, "(none)", 0, 0,
         "Microsoft Entra tenant (id or domain): casemail fetches XOAUTH2 tokens from its endpoint",
         set_tenant<true>},
        {"mailbox", "oauth2_token_url", Type::string, "(none)", 0, 0, "another OAuth2 token endpoint instead of oauth2_tenant",
         set_token_url<true>},
        {"mailbox", "oauth2_client_id", Type::string, "(none)", 0, 0, "the application (client) id registered for casemail",
         set_client_id<true>},
        {"mailbox", "oauth2_scope", Type::string, "\"https://outlook.office365.com/.default\"", 0, 0,
         "the scope asked for", set_scope<true>},
        {"mailbox", "oauth2_client_secret_file", Type::path, "(none)", 0, 0,
         "file holding the client secret: the client credentials grant (app-only access)", set_client_secret_file<true>},
        {"mailbox", "oauth2_refresh_token_file", Type::path, "(none)", 0, 0,
         "file holding a refresh token: the refresh token grant; a rotated token is written back (0600)",
         set_refresh_token_file<true>},
        {"mailbox", "allow_plaintext", Type::boolean, "false", 0, 0, "imap:// without TLS: loopback test servers only",
         [](Target& t, const Value& v) {
             t.mailbox->allow_plaintext = flag(v);
             return ok();
         }},
        {"mailbox", "ca_file", Type::path, "(none)", 0, 0, "an extra CA bundle for the server's certificate",
         [](Target& t, const Value& v) {
             t.mailbox->ca_file = text(v);
             return ok();
         }},
        {"mailbox", "folder", Type::string, "\"INBOX\"", 0, 0, "the folder polled (printable ASCII)",
         [](Target& t, const Value& v) {
             t.mailbox->folder = text(v);
             return protocol::imap::valid_folder_name(text(v)) ? ok() : "must be 1-200 printable ASCII characters";
         }},
        {"mailbox", "after_processing", Type::string, "\"move:Processed\"", 0, 0,
         "after the commit: move:FOLDER (created when missing), flag (\\Seen $CasemailProcessed) or delete",
         apply_after_processing},
        {"mailbox", "poll_interval", Type::duration, "\"30s\"", 1, 0,
         "time between polls of a healthy mailbox (with IDLE: the longest wait between them)",
         [](Target& t, const Value& v) {
             t.mailbox->poll_interval = duration(v);
             return ok();
         }},
        {"mailbox", "idle", Type::boolean, "true", 0, 0,
         "wait in IMAP IDLE between polls when the server offers it: new mail is fetched within seconds",
         [](Target& t, const Value& v) {
             t.mailbox->idle = flag(v);
             return ok();
         }},
        {"mailbox", "alert_to", Type::list, "[]", 0, 0,
         "addresses mailed when a case in this mailbox's team queue reaches an SLA warning or breach",
         [](Target& t, const Value& v) {
             for (const auto& a : list(v))
                 if (!mime::valid_addr_spec(mime::normalize_address(a)))
                     return fmt::format("'{}' is not an email address", a);
             t.mailbox->alert_to = list(v);
             return ok();
         }},
        {"mailbox", "expect_mail_within", Type::duration, "(off)", 1, 0,
         "alarm when the mailbox brings no new mail for longer than this, like \"24h\"",
         [](Target& t, const Value& v) {
             t.mailbox->expect_mail_within = duration(v);
             return ok();
         }},
        {"relay", "enabled", Type::boolean, "true", 0, 0, "run the SMTP relay for agents' replies",
         [](Target& t, const Value& v) {
             t.cfg.relay.enabled = flag(v);
             return ok();
         }},
        {"relay", "listen", Type::string, "\"127.0.0.1:2525\"", 0, 0, "ADDRESS:PORT the relay listens on",
         apply_listen},
        {"relay", "allowed_networks", Type::list, R"(["127.0.0.0/8", "::1/128"])", 0, 0,
         "clients trusted without AUTH; others get 530 until they log in", apply_networks},
        {"relay", "users_file", Type::path, "(none)", 0, 0,
         "user:$crypt-hash lines (openssl passwd -6); enables AUTH PLAIN/LOGIN",
         [](Target& t, const Value& v) {
             t.cfg.relay.users_file = text(v);
             return ok();
         }},
        {"relay", "tls_cert", Type::path, "(none)", 0, 0, "PEM certificate chain; with tls_key, STARTTLS is offered",
         [](Target& t, const Value& v) {
             t.cfg.relay.tls_cert = text(v);
             return ok();
         }},
        {"relay", "tls_key", Type::path, "(none)", 0, 0, "PEM private key of tls_cert",
         [](Target& t, const Value& v) {
             t.cfg.relay.tls_key = text(v);
             return ok();
         }},
        {"relay", "allow_plaintext_auth", Type::boolean, "false", 0, 0, "AUTH without STARTTLS: loopback tests only",
         [](Target& t, const Value& v) {
             t.cfg.relay.allow_plaintext_auth = flag(v);
             return ok();
         }},
        {"relay", "max_message_bytes", Type::integer, "26214400", 1024, std::int64_t{1} << 30,
         "larger replies are answered 552 5.3.4",
         [](Target& t, const Value& v) {
             t.cfg.relay.max_message_bytes = static_cast<std::size_t>(number(v));
             return ok();
         }},
        {"relay", "max_recipients", Type::integer, "100", 1, 10000, "more RCPT TO are answered 452 4.5.3",
         [](Target& t, const Value& v) {
             t.cfg.relay.max_recipients = static_cast<std::size_t>(number(v));
             return ok();
         }},
        {"relay", "max_line_length", Type::integer, "1000", 100, 100000,
         "longer lines (CRLF included) are answered 500 5.5.2",
         [](Target& t, const Value& v) {
             t.cfg.relay.max_line_length = static_cast<std::size_t>(number(v));
             return ok();
         }},
        {"relay", "max_connections", Type::integer, "20", 1, 10000,
         "sessions at once; when all are taken, new connections wait in the listen queue",
         [](Target& t, const Value& v) {
             t.cfg.relay.max_connections = static_cast<std::size_t>(number(v));
             return ok();
         }},
        {"relay", "max_connections_per_client", Type::integer, "10", 1, 10000,
         "sessions from one client address; more are answered 421 4.7.0 and closed",
         [](Target& t, const Value& v) {
             t.cfg.relay.max_connections_per_client = static_cast<std::size_t>(number(v));
             return ok();
         }},
        {"relay", "idle_timeout", Type::duration, "\"5m\"", 1, 0,
         "time for each command line, reply write and TLS handshake; then 421 4.4.2 and closed",
         [](Target& t, const Value& v) {
             t.cfg.relay.idle_timeout = duration(v);
             return ok();
         }},
        {"relay", "stress_timeout", Type::duration, "\"10s\"", 1, 0,
         "idle_timeout while more than half of max_connections are taken (silent clients leave fast)",
         [](Target& t, const Value& v) {
             t.cfg.relay.stress_timeout = duration(v);
             return ok();
         }},
        {"relay", "auth_backoff_after", Type::integer, "5", 1, 1000,
         "failed logins from one client address before it must wait (421 4.7.0, password unchecked)",
         [](Target& t, const Value& v) {
             t.cfg.relay.auth_backoff_after = static_cast<int>(number(v));
             return ok();
         }},
        {"relay", "auth_backoff", Type::duration, "\"1m\"", 1, 0,
         "the first wait after auth_backoff_after failures; each further round doubles it, up to 1h",
         [](Target& t, const Value& v) {
             t.cfg.relay.auth_backoff = duration(v);
             return ok();
         }},
        {"relay", "hostname", Type::string, "\"casemail\"", 0, 0, "the name in the relay's greeting and EHLO answer",
         [](Target& t, const Value& v) {
             t.cfg.relay.hostname = text(v);
             return ok();
         }},
        {"relay", "pass_through", Type::boolean, "false", 0, 0,
         "mail that matches no case is relayed unchanged (and logged) instead of refused",
         [](Target& t, const Value& v) {
             t.cfg.relay.pass_through = flag(v);
             return ok();
         }},
        {"relay", "keep_unresolved_as_text", Type::boolean, "false", 0, 0,
         "dropped recipients are listed in a note atop the reply's body",
         [](Target& t, const Value& v) {
             t.cfg.relay.keep_unresolved_as_text = flag(v);
             return ok();
         }},
        {"relay", "confidential", Type::string, "\"send\"", 0, 0, "replies to confidential cases: send, or hold for review",
         [](Target& t, const Value& v) {
             static constexpr std::pair<const char*, bool> choices[] = {{"send", false}, {"hold", true}};
             return choose(text(v), choices, t.cfg.relay.hold_confidential);
         }},
        {"relay", "on_refused", Type::string, "\"reject\"", 0, 0,
         "a reply that may not go out: reject (550), or hold in the outbox for review",
         [](Target& t, const Value& v) {
             static constexpr std::pair<const char*, bool> choices[] = {{"reject", false}, {"hold", true}};
             return choose(text(v), choices, t.cfg.relay.hold_refused);
         }},
        {"upstream", "url", Type::string, "(none)", 0, 0,
         "the smarthost: smtps://host[:port] (default scheme) or smtp:// with STARTTLS; none: nothing is sent",
         [](Target& t, const Value& v) {
             t.cfg.upstream.url = text(v);
             return check_server_url(t.cfg.upstream.url, "smtps", "smtp", false);
         }},
        {"upstream", "user", Type::string, "(none)", 0, 0, "SMTP AUTH login name",
         [](Target& t, const Value& v) {
             t.cfg.upstream.user = text(v);
             return ok();
         }},
        {"upstream", "password_file", Type::path, "(none)", 0, 0, "file holding the password (at most one secret source)",
         [](Target& t, const Value& v) {
             t.cfg.upstream.secret.password_file = text(v);
             return ok();
         }},
        {"upstream", "password_env", Type::string, "(none)", 0, 0, "environment variable holding the password",
         [](Target& t, const Value& v) {
             t.cfg.upstream.secret.password_env = text(v);
             return ok();
         }},
        {"upstream", "oauth2_token_file", Type::path, "(none)", 0, 0, "file holding an OAuth2 access token (XOAUTH2)",
         [](Target& t, const Value& v) {
             t.cfg.upstream.secret.oauth2_token_file = text(v);
             return ok();
         }},
        {"upstream", "oauth2_tenant", Type::string, "(none)", 0, 0,
         "Microsoft Entra tenant (id or domain): casemail fetches XOAUTH2 tokens from its endpoint",
         set_tenant<false>},
        {"upstream", "oauth2_token_url", Type::string, "(none)", 0, 0, "another OAuth2 token endpoint instead of oauth2_tenant",
         set_token_url<false>},
        {"upstream", "oauth2_client_id", Type::string, "(none)", 0, 0, "the application (client) id registered for casemail",
         set_client_id<false>},
        {"upstream", "oauth2_scope", Type::string, "\"https://outlook.office365.com/.default\"", 0, 0,
         "the scope asked for", set_scope<false>},
        {"upstream", "oauth2_client_secret_file", Type::path, "(none)", 0, 0,
         "file holding the client secret: the client credentials grant (app-only access)", set_client_secret_file<false>},
        {"upstream", "oauth2_refresh_token_file", Type::path, "(none)", 0, 0,
         "file holding a refresh token: the refresh token grant; a rotated token is written back (0600)",
         set_refresh_token_file<false>},
        {"upstream", "allow_plaintext", Type::boolean, "false", 0, 0, "smtp:// without TLS: loopback test servers only",
         [](Target& t, const Value& v) {
             t.cfg.upstream.allow_plaintext = flag(v);
             return ok();
         }},
        {"upstream", "ca_file", Type::path, "(none)", 0, 0, "an extra CA bundle for the server's certificate",
         [](Target& t, const Value& v) {
             t.cfg.upstream.ca_file = text(v);
             return ok();
         }},
        {"upstream", "helo_name", Type::string, "\"casemail\"", 0, 0, "the name casemail gives in EHLO",
         [](Target& t, const Value& v) {
             t.cfg.upstream.helo_name = text(v);
             return ok();
         }},
        {"upstream", "max_age", Type::duration, "\"3d\"", 1, 0, "temporary failures (4xx, connection) are retried this long",
         [](Target& t, const Value& v) {
             t.cfg.upstream.max_age = duration(v);
             return ok();
         }},
        {"upstream", "retry_base", Type::duration, "\"1m\"", 1, 0, "first retry delay, doubling",
         [](Target& t, const Value& v) {
             t.cfg.upstream.retry_base = duration(v);
             return ok();
         }},
        {"upstream", "retry_max", Type::duration, "\"1h\"", 1, 0, "cap of the retry delay",
         [](Target& t, const Value& v) {
             t.cfg.upstream.retry_max = duration(v);
             return ok();
         }},
        {"upstream", "poll_interval", Type::duration, "\"10s\"", 1, 0, "how often the outbox is scanned for due entries",
         [](Target& t, const Value& v) {
             t.cfg.upstream.poll_interval = duration(v);
             return ok();
         }},
        {"templates", "dir", Type::path, "\"\"", 0, 0,
         "directory of NAME.subject/.txt/.html templates; \"\" = the shipped ones", apply_templates_dir},
    };
    return settings;
}

}  // namespace casemail::config::detail
