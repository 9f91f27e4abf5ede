#include "daemon/cli/context.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "daemon/cli/json_views.hpp"
#include "mime/address.hpp"
#include "mime/printable.hpp"

namespace casemail::cli {
namespace {

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

// The login name of the process's user, for when $USER is unset (cron, systemd, sudo -i).
std::string login_name() {
    if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_name && *pw->pw_name) return pw->pw_name;
    return "uid" + std::to_string(geteuid());
}

}  // namespace

const config::Config& Context::config() {
    if (config_) return *config_;
    std::string path = globals_.config.empty() ? env_or("CASEMAIL_CONFIG", "") : globals_.config;
    if (path.empty()) return config_.emplace();
    auto loaded = config::load_config(path);
    if (!loaded) throw BadRequest(loaded.error());
    return config_.emplace(std::move(*loaded));
}

const std::string& Context::store_path() {
    if (!store_path_.empty()) return store_path_;
    const auto& cfg = config();
    if (!globals_.db.empty()) store_path_ = globals_.db;
    else if (cfg.store_path_set) store_path_ = cfg.store_path;
    else store_path_ = env_or("CASEMAIL_DB", "casemail.db");
    return store_path_;
}

store::Store& Context::store(bool create) {
    if (store_) return *store_;
    store::StoreOptions opts;
    opts.token_prefix = config().token_prefix;
    opts.open.create = create;
    try {
        store_ = std::make_unique<store::Store>(store::Store::open(store_path(), opts));
        for (const auto& note : store_->migration_notes()) std::cerr << "casemail: " << note << "\n";
    } catch (const store::Error& e) {
        throw BadRequest(e.what());
    }
    return *store_;
}

std::string Context::actor() const {
    if (!globals_.actor.empty()) return globals_.actor;
    return "cli:" + env_or("SUDO_USER", env_or("USER", login_name()));
}

CLI::App* CommandTable::group(const std::string& name, const std::string& help) {
    auto* sub = app_.add_subcommand(name, help);
    sub->require_subcommand(1);
    return sub;
}

CLI::App* CommandTable::command(CLI::App* parent, const std::string& name, const std::string& help, Handler run,
                                bool json) {
    auto* sub = (parent ? parent : &app_)->add_subcommand(name, help);
    if (json) sub->add_flag("--json", globals_.json, "print JSON");
    commands_.emplace_back(sub, std::move(run));
    return sub;
}

const Handler* CommandTable::chosen() const {
    for (const auto& [sub, run] : commands_)
        if (sub->parsed()) return &run;
    return nullptr;
}

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

std::vector<std::string> expand_inputs(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    for (const auto& a : args) {
        std::error_code ec;
        if (a == "-" || !std::filesystem::is_directory(a, ec)) {
            out.push_back(a);
            continue;
        }
        std::vector<std::string> files;
        for (const auto& entry : std::filesystem::directory_iterator(a, ec))
            if (entry.is_regular_file(ec)) files.push_back(entry.path().string());
        if (ec) throw BadRequest(fmt::format("cannot list '{}': {}", a, ec.message()));
        std::sort(files.begin(), files.end());
        out.insert(out.end(), files.begin(), files.end());
    }
    return out;
}

void print(const nlohmann::json& j) { std::cout << dump(j) << '\n'; }

void require_address(const std::string& address, const char* what) {
    if (!mime::valid_addr_spec(mime::normalize_address(address)))
        throw BadRequest(fmt::format("invalid {} address '{}'", what, mime::printable(address)));
}

// Writes `data` to a new file, readable by its owner only (attachments carry residents'
// documents); an existing file is never overwritten.
void write_new_file(const std::string& path, const std::string& data) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw BadRequest(fmt::format("cannot create '{}': {}", path, std::strerror(errno)));
    int err = 0;
    for (std::size_t done = 0; done < data.size() && !err;) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n >= 0) done += static_cast<std::size_t>(n);
        else if (errno != EINTR) err = errno;
    }
    if (!err && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && !err) err = errno;
    if (!err) return;
    ::unlink(path.c_str());  // no half-written attachment left behind
    throw BadRequest(fmt::format("cannot write '{}': {}", path, std::strerror(err)));
}

}  // namespace casemail::cli
