#include "daemon/config.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <set>
#include <toml++/toml.h>

#include "matching/token.hpp"
#include "mime/address.hpp"

#include <cctype>

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
    v.only_known(root, "", {"store", "tracking", "ingest", "limits"});

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
    if (!v.ok()) return fail(v.joined());
    return cfg;
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
