#include "daemon/config.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <set>
#include <toml++/toml.h>

#include "daemon/protocol/imap.hpp"
#include "daemon/smtp_server.hpp"
#include "matching/token.hpp"
#include "mime/address.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace casemail::daemon {
namespace {

class Validator {
public:
    explicit Validator(std::string file) : file_(std::move(file)) {}

    void error(const toml::node* node, const std::string& key, const std::string& what) {
        auto line = node ? node->source().begin.line : 0;
        errors_.push_back(line ? fmt::format("{}:{}: key '{}': {}", file_, line, key, what)
                               : fmt::format("{}: key '{}': {}", file_, key, what));
    }

    // Flags keys of `table` that are not in `known`.
    void only_known(const toml::table& table, const std::string& prefix,
                    const std::set<std::string>& known) {
        for (const auto& [k, v] : table) {
            std::string key(k.str());
            if (!known.count(key))
                error(&v, prefix.empty() ? key : prefix + "." + key, "unknown key");
        }
    }

    // Reads an optional string key into `out`.
    bool string_key(const toml::table& table, const std::string& prefix, const char* name,
                    std::string& out) {
        const toml::node* node = table.get(name);
        if (!node) return false;
        if (auto s = node->value<std::string>()) {
            out = *s;
            return true;
        }
        error(node, prefix + "." + name, "must be a string");
        return false;
    }

    // Reads an optional integer key in [min, max] into `out`.
    template <class T>
    void int_key(const toml::table& table, const std::string& prefix, const char* name, T& out,
                 std::int64_t min, std::int64_t max) {
        const toml::node* node = table.get(name);
        if (!node) return;
        auto v = node->value<std::int64_t>();
        if (!v || !node->is_integer()) return error(node, prefix + "." + name, "must be an integer");
        if (*v < min || *v > max)
            return error(node, prefix + "." + name, fmt::format("must be between {} and {}", min, max));
        out = static_cast<T>(*v);
    }

    void bool_key(const toml::table& table, const std::string& prefix, const char* name, bool& out) {
        const toml::node* node = table.get(name);
        if (!node) return;
        if (auto v = node->value<bool>(); v && node->is_boolean()) out = *v;
        else error(node, prefix + "." + name, "must be true or false");
    }

    void duration_key(const toml::table& table, const std::string& prefix, const char* name,
                      std::chrono::seconds& out) {
        std::string text;
        if (!string_key(table, prefix, name, text)) return;
        auto d = parse_duration(text);
        if (!d || d->count() == 0)
            return error(table.get(name), prefix + "." + name, "must be a duration like \"30s\", \"5m\" or \"1h\"");
        out = *d;
    }

    bool ok() const { return errors_.empty(); }
    std::string joined() const {
        std::string out;
        for (const auto& e : errors_) out += (out.empty() ? "" : "\n") + e;
        return out;
    }

private:
    std::string file_;
    std::vector<std::string> errors_;
};

std::string relative_to(const std::string& config_path, const std::string& file) {
    if (file.empty() || std::filesystem::path(file).is_absolute()) return file;
    return (std::filesystem::path(config_path).parent_path() / file).string();
}

// password_file, password_env, oauth2_token_file; files relative to the config, like the store.
void read_secret_keys(Validator& v, const toml::table& t, const std::string& prefix, const std::string& config_path,
                      common::SecretSource& s) {
    v.string_key(t, prefix, "password_file", s.password_file);
    v.string_key(t, prefix, "password_env", s.password_env);
    v.string_key(t, prefix, "oauth2_token_file", s.oauth2_token_file);
    s.password_file = relative_to(config_path, s.password_file);
    s.oauth2_token_file = relative_to(config_path, s.oauth2_token_file);
}

void read_relay(Validator& v, const toml::table& t, const std::string& config_path, RelayConfig& r) {
    v.only_known(t, "relay", {"enabled", "listen", "allowed_networks", "users_file", "tls_cert", "tls_key",
                              "allow_plaintext_auth", "max_message_bytes", "max_recipients", "max_line_length",
                              "max_connections", "idle_timeout", "hostname", "pass_through",
                              "keep_unresolved_as_text", "confidential", "on_refused"});
    v.bool_key(t, "relay", "enabled", r.enabled);
    std::string listen;
    if (v.string_key(t, "relay", "listen", listen)) {
        // "127.0.0.1:2525", "[::1]:2525"
        auto colon = listen.rfind(':');
        std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
        if (host.empty() || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(port) > 65535)
            v.error(t.get("listen"), "relay.listen", "must be ADDRESS:PORT, like \"127.0.0.1:2525\" or \"[::1]:2525\"");
        else {
            r.listen_address = host;
            r.port = std::stoi(port);
        }
    }
    if (const toml::node* node = t.get("allowed_networks")) {
        r.allowed_networks.clear();
        const auto* arr = node->as_array();
        if (!arr) v.error(node, "relay.allowed_networks", "must be an array of networks like \"10.0.0.0/8\"");
        else
            for (const auto& item : *arr) {
                auto text = item.value<std::string>();
                if (!text) {
                    v.error(&item, "relay.allowed_networks", "entries must be strings");
                    continue;
                }
                if (auto n = protocol::parse_network(*text); !n) v.error(&item, "relay.allowed_networks", n.error());
                else r.allowed_networks.push_back(*text);
            }
    }
    if (v.string_key(t, "relay", "users_file", r.users_file)) r.users_file = relative_to(config_path, r.users_file);
    if (v.string_key(t, "relay", "tls_cert", r.tls_cert)) r.tls_cert = relative_to(config_path, r.tls_cert);
    if (v.string_key(t, "relay", "tls_key", r.tls_key)) r.tls_key = relative_to(config_path, r.tls_key);
    if (r.tls_cert.empty() != r.tls_key.empty())
        v.error(&t, "relay", "tls_cert and tls_key go together");
    v.bool_key(t, "relay", "allow_plaintext_auth", r.allow_plaintext_auth);
    v.int_key(t, "relay", "max_message_bytes", r.max_message_bytes, 1024, std::int64_t{1} << 30);
    v.int_key(t, "relay", "max_recipients", r.max_recipients, 1, 10000);
    v.int_key(t, "relay", "max_line_length", r.max_line_length, 100, 100000);
    v.int_key(t, "relay", "max_connections", r.max_connections, 1, 10000);
    v.duration_key(t, "relay", "idle_timeout", r.idle_timeout);
    v.string_key(t, "relay", "hostname", r.hostname);
    v.bool_key(t, "relay", "pass_through", r.pass_through);
    v.bool_key(t, "relay", "keep_unresolved_as_text", r.keep_unresolved_as_text);
    std::string text;
    if (v.string_key(t, "relay", "confidential", text)) {
        if (text == "send") r.hold_confidential = false;
        else if (text == "hold") r.hold_confidential = true;
        else v.error(t.get("confidential"), "relay.confidential", "must be \"send\" or \"hold\"");
    }
    if (v.string_key(t, "relay", "on_refused", text)) {
        if (text == "reject") r.hold_refused = false;
        else if (text == "hold") r.hold_refused = true;
        else v.error(t.get("on_refused"), "relay.on_refused", "must be \"reject\" or \"hold\"");
    }
}

void read_upstream(Validator& v, const toml::table& t, const std::string& config_path, UpstreamConfig& u) {
    u.line = static_cast<int>(t.source().begin.line);
    v.only_known(t, "upstream", {"url", "user", "password_file", "password_env", "oauth2_token_file",
                                 "allow_plaintext", "ca_file", "helo_name", "max_age", "retry_base", "retry_max",
                                 "poll_interval"});
    if (v.string_key(t, "upstream", "url", u.url)) {
        if (u.url.find("://") == std::string::npos) u.url = "smtps://" + u.url;
        auto rest = u.url.substr(u.url.find("://") + 3);
        if (u.url.rfind("smtps://", 0) != 0 && u.url.rfind("smtp://", 0) != 0)
            v.error(t.get("url"), "upstream.url", "must start with smtps:// or smtp://");
        else if (rest.find('@') != std::string::npos)
            v.error(t.get("url"), "upstream.url", "must not contain credentials: use 'user' and 'password_file'");
        else if (rest.empty() || rest[0] == '/' || (rest.find('/') != std::string::npos && rest.find('/') + 1 < rest.size()))
            v.error(t.get("url"), "upstream.url", "must be smtps://HOST[:PORT] without a path");
    }
    v.string_key(t, "upstream", "user", u.user);
    read_secret_keys(v, t, "upstream", config_path, u.secret);
    if (u.secret.count() > 1) v.error(&t, "upstream", "at most one of password_file, password_env, oauth2_token_file");
    if (u.secret.count() == 1 && u.user.empty()) v.error(&t, "upstream.user", "is required with a password or token");
    v.bool_key(t, "upstream", "allow_plaintext", u.allow_plaintext);
    if (v.string_key(t, "upstream", "ca_file", u.ca_file)) u.ca_file = relative_to(config_path, u.ca_file);
    v.string_key(t, "upstream", "helo_name", u.helo_name);
    v.duration_key(t, "upstream", "max_age", u.max_age);
    v.duration_key(t, "upstream", "retry_base", u.retry_base);
    v.duration_key(t, "upstream", "retry_max", u.retry_max);
    v.duration_key(t, "upstream", "poll_interval", u.poll_interval);
}

void read_mailbox(Validator& v, const toml::table& t, const std::string& config_path, Config& cfg) {
    MailboxConfig m;
    m.line = static_cast<int>(t.source().begin.line);
    std::string key = fmt::format("mailbox[{}]", cfg.mailboxes.size() + 1);
    v.only_known(t, key, {"address", "queue", "url", "user", "password_file", "password_env",
                          "oauth2_token_file", "allow_plaintext", "ca_file", "folder",
                          "after_processing", "poll_interval"});
    auto required = [&](const char* name, std::string& out) {
        if (!v.string_key(t, key, name, out)) {
            if (!t.get(name)) v.error(&t, key + "." + name, "is required");
        } else if (out.empty()) {
            v.error(t.get(name), key + "." + name, "must not be empty");
        }
    };
    required("address", m.address);
    required("queue", m.queue);
    required("url", m.url);
    required("user", m.user);
    if (!m.address.empty() && !mime::valid_addr_spec(mime::normalize_address(m.address)))
        v.error(t.get("address"), key + ".address", "must be an email address");
    if (!m.url.empty()) {
        if (m.url.find("://") == std::string::npos) m.url = "imaps://" + m.url;
        auto rest = m.url.substr(m.url.find("://") + 3);
        if (m.url.rfind("imaps://", 0) != 0 && m.url.rfind("imap://", 0) != 0)
            v.error(t.get("url"), key + ".url", "must start with imaps:// or imap://");
        else if (rest.find('@') != std::string::npos)
            v.error(t.get("url"), key + ".url", "must not contain credentials: use 'user' and 'password_file'");
        else if (auto slash = rest.find('/'); slash != std::string::npos && slash + 1 < rest.size())
            v.error(t.get("url"), key + ".url", "must not contain a path: the folder is the 'folder' key");
        else if (rest.empty() || rest[0] == '/')
            v.error(t.get("url"), key + ".url", "must name a host");
    }
    read_secret_keys(v, t, key, config_path, m.secret);
    if (m.secret.count() != 1) v.error(&t, key, "needs exactly one of password_file, password_env, oauth2_token_file");
    v.bool_key(t, key, "allow_plaintext", m.allow_plaintext);
    v.string_key(t, key, "ca_file", m.ca_file);
    if (v.string_key(t, key, "folder", m.folder) && !protocol::imap::valid_folder_name(m.folder))
        v.error(t.get("folder"), key + ".folder", "must be 1-200 printable ASCII characters");
    std::string after;
    if (v.string_key(t, key, "after_processing", after)) {
        if (after == "flag") m.after_processing = AfterProcessing::flag;
        else if (after == "delete") m.after_processing = AfterProcessing::remove;
        else if (after.rfind("move:", 0) == 0 && protocol::imap::valid_folder_name(after.substr(5)) && after.substr(5) != m.folder) {
            m.after_processing = AfterProcessing::move;
            m.move_to = after.substr(5);
        } else {
            v.error(t.get("after_processing"), key + ".after_processing",
                    "must be \"flag\", \"delete\" or \"move:FOLDER\" (another folder)");
        }
    }
    v.duration_key(t, key, "poll_interval", m.poll_interval);
    for (const auto& other : cfg.mailboxes)
        if (!m.address.empty() && mime::normalize_address(other.address) == mime::normalize_address(m.address))
            v.error(t.get("address"), key + ".address", fmt::format("{} is already configured at line {}", m.address, other.line));
    cfg.mailboxes.push_back(std::move(m));
}

}  // namespace

Result<Config> load_config(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return fail(fmt::format("config file '{}' does not exist or is not a file", path));
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        return fail(fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
    }

    Config cfg;
    cfg.source = path;
    Validator v(path);
    v.only_known(root, "", {"store", "tracking", "ingest", "limits", "daemon", "mailbox", "relay", "upstream", "templates"});

    if (const toml::node* node = root.get("store")) {
        if (const auto* t = node->as_table()) {
            v.only_known(*t, "store", {"path"});
            if (v.string_key(*t, "store", "path", cfg.store_path)) {
                cfg.store_path_set = true;
                if (cfg.store_path.empty()) v.error(t->get("path"), "store.path", "must not be empty");
                // A relative store path is relative to the config file, not the working
                // directory, so a service and an admin shell open the same store.
                else if (std::filesystem::path(cfg.store_path).is_relative())
                    cfg.store_path =
                        (std::filesystem::path(path).parent_path() / cfg.store_path).string();
            }
        } else {
            v.error(node, "store", "must be a table");
        }
    }
    if (const toml::node* node = root.get("tracking")) {
        if (const auto* t = node->as_table()) {
            v.only_known(*t, "tracking", {"prefix", "message_id_domain"});
            if (v.string_key(*t, "tracking", "prefix", cfg.token_prefix) &&
                !matching::valid_token_prefix(cfg.token_prefix))
                v.error(t->get("prefix"), "tracking.prefix",
                        "must be 1-16 characters of A-Z and 0-9");
        } else {
            v.error(node, "tracking", "must be a table");
        }
    }
    auto section = [&](const char* name) -> const toml::table* {
        const toml::node* node = root.get(name);
        if (!node) return nullptr;
        if (const auto* t = node->as_table()) return t;
        v.error(node, name, "must be a table");
        return nullptr;
    };
    if (const auto* t = root.get("tracking") ? root.get("tracking")->as_table() : nullptr) {
        if (v.string_key(*t, "tracking", "message_id_domain", cfg.message_id_domain) &&
            !mime::valid_addr_spec("x@" + cfg.message_id_domain))
            v.error(t->get("message_id_domain"), "tracking.message_id_domain", "must be a domain name");
    }
    if (const auto* t = section("ingest")) {
        v.only_known(*t, "ingest", {"resolved_window", "on_resolved", "auto_ack", "ack_limit_per_hour",
                                    "blocked_extensions"});
        std::string text;
        if (v.string_key(*t, "ingest", "resolved_window", text)) {
            if (auto d = parse_duration(text)) cfg.resolved_window = *d;
            else v.error(t->get("resolved_window"), "ingest.resolved_window", "must be a duration like \"14d\" or \"36h\"");
        }
        if (v.string_key(*t, "ingest", "on_resolved", text)) {
            if (text == "link") cfg.on_resolved = matching::OnResolved::link;
            else if (text == "new_case") cfg.on_resolved = matching::OnResolved::new_case;
            else if (text == "reactivate") cfg.on_resolved = matching::OnResolved::reactivate;
            else v.error(t->get("on_resolved"), "ingest.on_resolved", "must be \"link\", \"new_case\" or \"reactivate\"");
        }
        v.bool_key(*t, "ingest", "auto_ack", cfg.auto_ack);
        v.int_key(*t, "ingest", "ack_limit_per_hour", cfg.ack_limit_per_hour, 0, 1000);
        if (const toml::node* node = t->get("blocked_extensions")) {
            const auto* arr = node->as_array();
            if (!arr) {
                v.error(node, "ingest.blocked_extensions", "must be an array of strings");
            } else {
                for (const auto& item : *arr) {
                    auto ext = item.value<std::string>();
                    if (!ext || ext->empty() || ext->find('.') != std::string::npos)
                        v.error(&item, "ingest.blocked_extensions", "entries are extensions without a dot, like \"exe\"");
                    else
                        cfg.blocked_extensions.push_back(*ext);
                }
            }
        }
    }
    if (const auto* t = section("limits")) {
        v.only_known(*t, "limits", {"max_message_bytes", "max_depth", "max_parts", "max_headers", "max_header_bytes"});
        v.int_key(*t, "limits", "max_message_bytes", cfg.limits.max_message_bytes, 1024, std::int64_t{1} << 30);
        v.int_key(*t, "limits", "max_depth", cfg.limits.max_depth, 1, 256);
        v.int_key(*t, "limits", "max_parts", cfg.limits.max_parts, 1, 100000);
        v.int_key(*t, "limits", "max_headers", cfg.limits.max_headers, 10, 100000);
        v.int_key(*t, "limits", "max_header_bytes", cfg.limits.max_header_bytes, 1000, std::int64_t{64} << 20);
    }
    if (const auto* t = section("daemon")) {
        v.only_known(*t, "daemon", {"fetch_batch", "max_backoff", "connect_timeout", "stall_timeout"});
        v.int_key(*t, "daemon", "fetch_batch", cfg.fetch_batch, 1, 10000);
        v.duration_key(*t, "daemon", "max_backoff", cfg.max_backoff);
        v.duration_key(*t, "daemon", "connect_timeout", cfg.connect_timeout);
        v.duration_key(*t, "daemon", "stall_timeout", cfg.stall_timeout);
    }
    if (const auto* t = section("relay")) read_relay(v, *t, path, cfg.relay);
    if (const auto* t = section("upstream")) read_upstream(v, *t, path, cfg.upstream);
    if (const auto* t = section("templates")) {
        v.only_known(*t, "templates", {"dir"});
        if (v.string_key(*t, "templates", "dir", cfg.templates_dir) && !cfg.templates_dir.empty()) {
            cfg.templates_dir = relative_to(path, cfg.templates_dir);
            std::error_code dir_ec;
            if (!std::filesystem::is_directory(cfg.templates_dir, dir_ec))
                v.error(t->get("dir"), "templates.dir", fmt::format("'{}' is not a directory", cfg.templates_dir));
        }
    }
    if (const toml::node* node = root.get("mailbox")) {
        const auto* arr = node->as_array();
        if (!arr || !arr->is_array_of_tables()) {
            v.error(node, "mailbox", "must be [[mailbox]] tables");
        } else {
            for (const auto& item : *arr) read_mailbox(v, *item.as_table(), path, cfg);
        }
    }
    if (!v.ok()) return fail(v.joined());
    return cfg;
}

Result<bool> check_daemon_requirements(const Config& cfg) {
    std::string errors;
    for (std::size_t i = 0; i < cfg.mailboxes.size(); ++i) {
        const auto& m = cfg.mailboxes[i];
        if (auto secret = common::read_secret(m.secret); !secret)
            errors += fmt::format("{}{}:{}: key 'mailbox[{}].{}': mailbox {}: {}", errors.empty() ? "" : "\n", cfg.source,
                                  m.line, i + 1, m.secret.key(), m.address, secret.error());
    }
    if (auto secret = common::read_secret(cfg.upstream.secret); !secret)
        errors += fmt::format("{}{}:{}: key 'upstream.{}': {}", errors.empty() ? "" : "\n", cfg.source,
                              cfg.upstream.line, cfg.upstream.secret.key(), secret.error());
    if (auto ack = load_named_template(outbound_settings(cfg), "acknowledgement"); !ack)
        errors += fmt::format("{}{}: key 'templates.dir': {}", errors.empty() ? "" : "\n", cfg.source, ack.error());
    if (cfg.relay.enabled && !cfg.relay.users_file.empty())
        if (auto users = load_users_file(cfg.relay.users_file); !users)
            errors += fmt::format("{}{}: key 'relay.users_file': {}", errors.empty() ? "" : "\n", cfg.source, users.error());
    if (!errors.empty()) return fail(errors);
    return true;
}


namespace {

Result<common::ServerLogin> login_from(const std::string& url, const std::string& user, const common::SecretSource& source,
                               bool allow_plaintext, const std::string& ca_file, const Config& cfg) {
    auto secret = common::read_secret(source);
    if (!secret) return fail(secret.error());
    common::ServerLogin login;
    login.url = url;
    login.user = user;
    (source.oauth2_token_file.empty() ? login.password : login.oauth2_token) = *secret;
    login.allow_plaintext = allow_plaintext;
    login.ca_file = ca_file;
    login.connect_timeout = cfg.connect_timeout;
    return login;
}

}  // namespace

Result<common::ServerLogin> mailbox_login(const MailboxConfig& m, const Config& cfg) {
    auto login = login_from(m.url, m.user, m.secret, m.allow_plaintext, m.ca_file, cfg);
    if (!login) return fail(fmt::format("mailbox {}: {}", m.address, login.error()));
    return login;
}

store::IngestOptions ingest_options(const Config& cfg, const std::string& actor) {
    store::IngestOptions o;
    o.rules.token_prefix = cfg.token_prefix;
    o.rules.own_message_id_domain = cfg.message_id_domain;
    o.rules.resolved_window = cfg.resolved_window;
    o.rules.on_resolved = cfg.on_resolved;
    o.rules.auto_ack = cfg.auto_ack;
    o.rules.ack_limit_per_hour = cfg.ack_limit_per_hour;
    o.limits = cfg.limits;
    if (!cfg.blocked_extensions.empty()) o.blocked_extensions = cfg.blocked_extensions;
    o.actor = actor;
    return o;
}

OutboundSettings outbound_settings(const Config& cfg) {
    OutboundSettings o;
    o.policy.token_prefix = cfg.token_prefix;
    o.policy.hold_confidential = cfg.relay.hold_confidential;
    o.policy.keep_unresolved_as_text = cfg.relay.keep_unresolved_as_text;
    o.message_id_domain = cfg.message_id_domain;
    o.pass_through = cfg.relay.pass_through;
    o.hold_refused = cfg.relay.hold_refused;
    o.templates_dir = cfg.templates_dir;
    o.limits = cfg.limits;
    o.limits.max_message_bytes = std::max(o.limits.max_message_bytes, cfg.relay.max_message_bytes);
    return o;
}

DeliverySettings delivery_settings(const Config& cfg) {
    DeliverySettings d;
    d.max_age = cfg.upstream.max_age;
    d.retry_base = cfg.upstream.retry_base;
    d.retry_max = cfg.upstream.retry_max;
    return d;
}

Result<UpstreamAccount> upstream_account(const Config& cfg) {
    const auto& u = cfg.upstream;
    auto login = login_from(u.url, u.user, u.secret, u.allow_plaintext, u.ca_file, cfg);
    if (!login) return fail("upstream: " + login.error());
    UpstreamAccount a;
    a.login = std::move(*login);
    a.helo_name = u.helo_name;
    return a;
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

}  // namespace casemail::daemon
