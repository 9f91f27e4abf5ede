#include "daemon/config/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/config/table.hpp"
#include "matching/workflow.hpp"
#include "mime/address.hpp"
#include "mime/printable.hpp"

namespace casemail::config {
namespace {

using namespace detail;

const Setting* find_setting(std::string_view section, std::string_view name) {
    for (const auto& s : table())
        if (s.section == section && s.name == name) return &s;
    return nullptr;
}

bool is_section(std::string_view name) {
    for (const auto& s : table())
        if (s.section == name) return true;
    return false;
}

// Collects errors as "FILE:LINE: key 'a.b': what", reported in the file's line order.
class Errors {
public:
    explicit Errors(std::string file) : file_(std::move(file)) {}
    // Keys and values come from the file: made printable, so each error stays one line.
    void add(const toml::node* node, const std::string& key, const std::string& what) {
        auto line = node ? node->source().begin.line : 0;
        auto text = fmt::format("key '{}': {}", mime::printable(key, 200), mime::printable(what, 400));
        errors_.emplace_back(line, line ? fmt::format("{}:{}: {}", file_, line, text) : fmt::format("{}: {}", file_, text));
    }
    bool empty() const { return errors_.empty(); }
    std::string joined() {
        std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        std::string out;
        for (const auto& [line, text] : errors_) out += (out.empty() ? "" : "\n") + text;
        return out;
    }

private:
    std::string file_;
    std::vector<std::pair<std::uint32_t, std::string>> errors_;
};

// The node as the setting's type, inside its bounds; or what is wrong with it.
// value_exact: only a node of that very type. toml++'s value<T>() also converts other types, and
// casts a float beyond T's range (`3e79` for an integer key) with undefined behaviour.
Result<Value> convert(const Setting& s, const toml::node& node) {
    switch (s.type) {
        case Type::string:
        case Type::path:
            if (auto v = node.value_exact<std::string>()) return Value(*v);
            return fail("must be a string");
        case Type::boolean:
            if (auto v = node.value_exact<bool>()) return Value(*v);
            return fail("must be true or false");
        case Type::integer: {
            auto v = node.value_exact<std::int64_t>();
            if (!v) return fail("must be an integer");
            if (*v < s.min || *v > s.max) return fail(fmt::format("must be between {} and {}", s.min, s.max));
            return Value(*v);
        }
        case Type::duration: {
            auto v = node.value_exact<std::string>();
            auto d = v ? parse_duration(*v) : std::nullopt;
            if (!d || d->count() < s.min) return fail("must be a duration like \"30s\", \"5m\", \"1h\" or \"14d\"");
            return Value(*d);
        }
        case Type::list: {
            const auto* arr = node.as_array();
            if (!arr) return fail("must be an array of strings");
            std::vector<std::string> items;
            for (const auto& item : *arr) {
                auto v = item.value_exact<std::string>();
                if (!v) return fail("must be an array of strings");
                items.push_back(*v);
            }
            return Value(std::move(items));
        }
    }
    return fail("unsupported type");
}

std::string relative_to(const std::string& config_path, const std::string& file) {
    if (file.empty() || std::filesystem::path(file).is_absolute()) return file;
    return (std::filesystem::path(config_path).parent_path() / file).string();
}

// Reads every key of one section's table through the settings table.
void read_section(const toml::table& table, std::string_view section, const std::string& prefix, Target target,
                  const std::string& config_path, Errors& errors) {
    for (const auto& [k, node] : table) {
        std::string name(k.str());
        std::string key = prefix + "." + name;
        const Setting* s = find_setting(section, name);
        if (!s) {
            errors.add(&node, key, "unknown key");
            continue;
        }
        auto value = convert(*s, node);
        if (!value) {
            errors.add(&node, key, value.error());
            continue;
        }
        if (s->type == Type::path) *value = relative_to(config_path, text(*value));
        if (auto why = s->apply(target, *value); !why.empty()) errors.add(&node, key, why);
    }
}

// An OAuth2 client needs its endpoint and one grant; http:// only with allow_plaintext.
void check_oauth2(const toml::table& t, const std::string& key, const common::OAuth2Client& o, bool allow_plaintext,
                  Errors& errors) {
    bool any = t.get("oauth2_tenant") || t.get("oauth2_token_url") || t.get("oauth2_scope") ||
               t.get("oauth2_client_secret_file") || t.get("oauth2_refresh_token_file");
    if (!o.configured()) {
        if (any) errors.add(&t, key, "oauth2_* keys need oauth2_client_id");
        return;
    }
    if (!!t.get("oauth2_tenant") == !!t.get("oauth2_token_url"))
        errors.add(&t, key, "needs exactly one of oauth2_tenant, oauth2_token_url");
    if (o.client_secret_file.empty() && o.refresh_token_file.empty())
        errors.add(&t, key, "needs oauth2_client_secret_file, oauth2_refresh_token_file or both");
    if (o.token_url.starts_with("http://") && !allow_plaintext)
        errors.add(t.get("oauth2_token_url"), key + ".oauth2_token_url", "must be https:// (http:// only with allow_plaintext)");
}

void check_mailbox(const toml::table& t, const std::string& key, const MailboxConfig& m, const Config& cfg,
                   Errors& errors) {
    for (const char* name : {"address", "queue", "url", "user"})
        if (!t.get(name)) errors.add(&t, key + "." + name, "is required");
    if (m.secret.count() != 1)
        errors.add(&t, key, "needs exactly one of password_file, password_env, oauth2_token_file, oauth2_client_id");
    check_oauth2(t, key, m.secret.oauth2, m.allow_plaintext, errors);
    if (m.after_processing == AfterProcessing::move && m.move_to == m.folder && t.get("after_processing"))
        errors.add(t.get("after_processing"), key + ".after_processing",
                   "must be \"flag\", \"delete\" or \"move:FOLDER\" (another folder)");
    for (const auto& other : cfg.mailboxes)
        if (!m.address.empty() && mime::normalize_address(other.address) == mime::normalize_address(m.address))
            errors.add(t.get("address"), key + ".address",
                       fmt::format("{} is already configured at line {}", m.address, other.line));
}

// Every [[name]] table of `node` read as one T by the section's settings (through `slot`, the
// Target member that points at the T being read), then checked by `check(table, key, t)`.
template <class T, class Check>
void read_tables(const toml::node& node, std::string_view name, const std::string& config_path, Config& cfg,
                 Errors& errors, std::vector<T>& into, T* Target::*slot, Check check) {
    const auto* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables()) {
        errors.add(&node, std::string(name), fmt::format("must be [[{}]] tables", name));
        return;
    }
    for (const auto& item : *arr) {
        const auto& t = *item.as_table();
        T value;
        value.line = static_cast<int>(t.source().begin.line);
        std::string key = fmt::format("{}[{}]", name, into.size() + 1);
        Target target{cfg, nullptr};
        target.*slot = &value;
        read_section(t, name, key, target, config_path, errors);
        check(t, key, value);
        into.push_back(std::move(value));
    }
}

void read_routes(const toml::node& node, const std::string& config_path, Config& cfg, Errors& errors) {
    read_tables(node, "route", config_path, cfg, errors, cfg.routes, &Target::route,
                [&](const toml::table& t, const std::string& key, const matching::RouteRule& r) {
        if (!t.get("name")) errors.add(&t, key + ".name", "is required");
        if (!r.no_case && r.queue.empty() && r.category.empty() && r.request_type.empty() && r.priority.empty())
            errors.add(&t, key, "needs an action: no_case, queue, category, request_type or priority");
        if (r.no_case && (!r.queue.empty() || !r.category.empty() || !r.request_type.empty() || !r.priority.empty()))
            errors.add(&t, key, "no_case makes no case: it takes no queue, category, request_type or priority");
        if ((t.get("subject") && t.get("subject_regex")) || (t.get("body") && t.get("body_regex")))
            errors.add(&t, key, "give words or a regular expression, not both");
    });
}

void read_slas(const toml::node& node, const std::string& config_path, Config& cfg, Errors& errors) {
    if (!node.is_array_of_tables()) {
        errors.add(&node, "sla", "must be [[sla]] tables (the calendar is [business_hours])");
        return;
    }
    read_tables(node, "sla", config_path, cfg, errors, cfg.slas, &Target::sla,
                [&](const toml::table& t, const std::string& key, matching::sla::SlaPolicy& p) {
        if (p.name.empty()) p.name = key;
        if (!p.first_response && !p.resolve_within) errors.add(&t, key, "needs first_response, resolve_within or both");
    });
}

// Required keys, and a value of `field` that must not repeat across the tables.
template <class T>
auto required_and_unique(Errors& errors, const std::vector<T>& earlier, std::initializer_list<const char*> required,
                         std::string T::*field, const char* field_name) {
    return [&errors, &earlier, required, field, field_name](const toml::table& t, const std::string& key, const T& value) {
        for (const char* r : required)
            if (!t.get(r)) errors.add(&t, key + "." + r, "is required");
        for (const auto& other : earlier)
            if (!(value.*field).empty() && other.*field == value.*field)
                errors.add(t.get(field_name), key + "." + field_name,
                           fmt::format("'{}' is already configured at line {}", value.*field, other.line));
    };
}

void read_workorders(const toml::node& node, const std::string& config_path, Config& cfg, Errors& errors) {
    read_tables(node, "workorder", config_path, cfg, errors, cfg.workorders, &Target::workorder,
                required_and_unique(errors, cfg.workorders, {"name", "outbox_dir", "inbox_dir"}, &WorkorderConfig::name, "name"));
}

void read_open311_services(const toml::node& node, const std::string& config_path, Config& cfg, Errors& errors) {
    read_tables(node, "open311_service", config_path, cfg, errors, cfg.open311_services, &Target::service,
                required_and_unique(errors, cfg.open311_services, {"category", "code", "name"}, &Open311Service::category,
                                    "category"));
}

void read_mailboxes(const toml::node& node, const std::string& config_path, Config& cfg, Errors& errors) {
    read_tables(node, "mailbox", config_path, cfg, errors, cfg.mailboxes, &Target::mailbox,
                [&](const toml::table& t, const std::string& key, const MailboxConfig& m) { check_mailbox(t, key, m, cfg, errors); });
}

// Rules that tie several keys of one section together.
void check_sections(const toml::table& root, const Config& cfg, Errors& errors) {
    if (const auto* arr = root.get_as<toml::array>("workorder"))
        for (std::size_t i = 0; i < cfg.workorders.size() && i < arr->size(); ++i)
            if (const auto& type = cfg.workorders[i].resolution_type;
                !type.empty() && !matching::resolution_type(type, cfg.resolution_types))
                errors.add(arr->get(i), fmt::format("workorder[{}].resolution_type", i + 1),
                           fmt::format("'{}' is not one of cases.resolution_types", type));
    if (const auto* relay = root.get_as<toml::table>("relay"))
        if (cfg.relay.tls_cert.empty() != cfg.relay.tls_key.empty())
            errors.add(relay, "relay", "tls_cert and tls_key go together");
    if (const auto* up = root.get_as<toml::table>("upstream")) {
        if (cfg.upstream.secret.count() > 1)
            errors.add(up, "upstream", "at most one of password_file, password_env, oauth2_token_file, oauth2_client_id");
        check_oauth2(*up, "upstream", cfg.upstream.secret.oauth2, cfg.upstream.allow_plaintext, errors);
        if (cfg.upstream.secret.count() == 1 && cfg.upstream.user.empty())
            errors.add(up, "upstream.user", "is required with a password or token");
    }
}

Result<common::ServerLogin> login_from(const std::string& url, const std::string& user,
                                       const common::SecretSource& source, bool allow_plaintext,
                                       const std::string& ca_file, const Config& cfg) {
    auto secret = common::read_secret(source);
    if (!secret) return fail(secret.error());
    common::ServerLogin login;
    login.url = url;
    login.user = user;
    (source.oauth2_token_file.empty() ? login.password : login.oauth2_token) = *secret;
    login.allow_plaintext = allow_plaintext;
    login.ca_file = ca_file;
    login.connect_timeout = cfg.connect_timeout;
    login.oauth2 = source.oauth2;
    login.oauth2.ca_file = ca_file;
    login.oauth2.allow_plaintext = allow_plaintext;
    login.oauth2.timeout = cfg.connect_timeout;
    return login;
}

}  // namespace

Result<Config> load_config(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return fail(fmt::format("config file '{}' does not exist or is not a file", path));
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return fail(fmt::format("config file '{}' cannot be read: {}", path, std::strerror(errno)));
    return parse_config(text.str(), path);
}

Result<Config> parse_config(std::string_view text, const std::string& path) {
    toml::table root;
    try {
        root = toml::parse(text, path);
    } catch (const toml::parse_error& e) {
        // toml++ quotes the offending character, which may be a line break.
        return fail(fmt::format("{}:{}: {}", path, e.source().begin.line, mime::printable(e.description(), 400)));
    }
    Config cfg;
    cfg.source = path;
    Errors errors(path);
    for (const auto& [k, node] : root) {
        std::string section(k.str());
        if (section == "mailbox") {
            read_mailboxes(node, path, cfg, errors);
        } else if (section == "route") {
            read_routes(node, path, cfg, errors);
        } else if (section == "sla") {
            read_slas(node, path, cfg, errors);
        } else if (section == "workorder") {
            read_workorders(node, path, cfg, errors);
        } else if (section == "open311_service") {
            read_open311_services(node, path, cfg, errors);
        } else if (!is_section(section)) {
            errors.add(&node, section, "unknown key");
        } else if (const auto* t = node.as_table()) {
            if (section == "upstream") cfg.upstream.line = static_cast<int>(t->source().begin.line);
            read_section(*t, section, section, Target{cfg, nullptr}, path, errors);
        } else {
            errors.add(&node, section, "must be a table");
        }
    }
    check_sections(root, cfg, errors);
    if (!cfg.zone && !cfg.slas.empty()) {  // the default zone, needed only when clocks run
        try {
            cfg.zone = date::locate_zone(cfg.timezone);
        } catch (const std::exception&) {
            errors.add(root.get("sla"), "business_hours.timezone",
                       fmt::format("'{}' is not in the system's tz database: is tzdata installed?", cfg.timezone));
        }
    }
    if (!errors.empty()) return fail(errors.joined());
    return cfg;
}

std::vector<SettingInfo> settings_reference() {
    std::vector<SettingInfo> out;
    for (const auto& s : table()) {
        std::string bounds;
        if (s.type == Type::integer) bounds = fmt::format("{}-{}", s.min, s.max);
        else if (s.type == Type::duration && s.min > 0) bounds = "> 0";
        out.push_back({fmt::format("{}.{}", s.section, s.name), type_name(s.type), std::string(s.default_text), bounds,
                       std::string(s.help)});
    }
    return out;
}

matching::IngestRules ingest_rules(const Config& cfg) {
    matching::IngestRules r;
    r.token_prefix = cfg.token_prefix;
    r.own_message_id_domain = cfg.message_id_domain;
    r.resolved_window = cfg.resolved_window;
    r.on_resolved = cfg.on_resolved;
    r.auto_ack = cfg.auto_ack;
    r.ack_limit_per_hour = cfg.ack_limit_per_hour;
    r.on_foreign_sender = cfg.on_foreign_sender;
    r.max_new_cases_per_sender = cfg.max_new_cases_per_sender;
    r.max_new_cases_per_domain = cfg.max_new_cases_per_domain;
    r.routes = cfg.routes;
    if (!cfg.blocked_extensions.empty()) r.blocked_extensions = cfg.blocked_extensions;
    return r;
}

matching::OutboundPolicy outbound_policy(const Config& cfg) {
    matching::OutboundPolicy p;
    p.token_prefix = cfg.token_prefix;
    p.message_id_domain = cfg.message_id_domain;
    p.hold_confidential = cfg.relay.hold_confidential;
    p.keep_unresolved_as_text = cfg.relay.keep_unresolved_as_text;
    p.pass_through = cfg.relay.pass_through;
    p.hold_refused = cfg.relay.hold_refused;
    return p;
}

matching::sla::BusinessHours business_hours(const Config& cfg) {
    matching::sla::BusinessHours h;
    h.by_weekday = cfg.business_week;
    h.holidays = cfg.holidays;
    h.zone = cfg.zone;
    return h;
}

mime::Limits outbound_limits(const Config& cfg) {
    auto limits = cfg.limits;
    limits.max_message_bytes = std::max(limits.max_message_bytes, cfg.relay.max_message_bytes);
    return limits;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::int64_t n = 0;
    std::size_t i = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
        n = n * 10 + (text[i] - '0');
        if (n > 100000000) return std::nullopt;
    }
    if (i == 0) return std::nullopt;
    auto unit = text.substr(i);
    if (unit.empty() || unit == "s") return std::chrono::seconds(n);
    if (unit == "m") return std::chrono::minutes(n);
    if (unit == "h") return std::chrono::hours(n);
    if (unit == "d") return std::chrono::hours(24 * n);
    return std::nullopt;
}

Result<common::ServerLogin> mailbox_login(const MailboxConfig& m, const Config& cfg) {
    auto login = login_from(m.url, m.user, m.secret, m.allow_plaintext, m.ca_file, cfg);
    if (!login) return fail(fmt::format("mailbox {}: {}", m.address, login.error()));
    return login;
}

Result<common::ServerLogin> upstream_login(const Config& cfg) {
    const auto& u = cfg.upstream;
    auto login = login_from(u.url, u.user, u.secret, u.allow_plaintext, u.ca_file, cfg);
    if (!login) return fail("upstream: " + login.error());
    return login;
}

}  // namespace casemail::config
