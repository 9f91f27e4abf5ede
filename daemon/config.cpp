#include "daemon/config.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <set>
#include <toml++/toml.h>

#include "matching/token.hpp"

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
    v.only_known(root, "", {"store", "tracking"});

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
            v.only_known(*t, "tracking", {"prefix"});
            if (v.string_key(*t, "tracking", "prefix", cfg.token_prefix) &&
                !matching::valid_token_prefix(cfg.token_prefix))
                v.error(t->get("prefix"), "tracking.prefix",
                        "must be 1-16 characters of A-Z and 0-9");
        } else {
            v.error(node, "tracking", "must be a table");
        }
    }
    if (!v.ok()) return fail(v.joined());
    return cfg;
}

}  // namespace casemail::daemon
