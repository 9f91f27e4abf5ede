#include "daemon/workorder/spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "daemon/workorder/document.hpp"
#include "mime/digest.hpp"
#include "mime/printable.hpp"

namespace casemail::workorder {
namespace fs = std::filesystem;
namespace {

Result<bool> sync_path(const fs::path& p, bool directory) {
    int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_WRONLY) | O_CLOEXEC);
    if (fd < 0) return fail(fmt::format("{}: {}", p.string(), std::strerror(errno)));
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return fail(fmt::format("fsync {}: {}", p.string(), std::strerror(err)));
    return true;
}

Result<std::string> read_file(const fs::path& p) {
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    if (ec) return fail(fmt::format("{}: {}", p.filename().string(), ec.message()));
    if (size > max_update_bytes) return fail(fmt::format("larger than {} bytes", max_update_bytes));
    std::ifstream in(p, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return fail(fmt::format("{} cannot be read", p.filename().string()));
    return text.str();
}

// Moves `file` into dir/ (created when missing), never over another file of that name.
Result<fs::path> move_into(const fs::path& file, const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fail(fmt::format("{}: {}", dir.string(), ec.message()));
    auto target = dir / file.filename();
    for (int n = 1; fs::exists(target); ++n) target = dir / fmt::format("{}.{}", file.filename().string(), n);
    fs::rename(file, target, ec);
    if (ec) return fail(fmt::format("moving {} to {}: {}", file.filename().string(), dir.string(), ec.message()));
    return target;
}

}  // namespace

PendingFile::PendingFile(PendingFile&& other) noexcept
    : temp_(std::move(other.temp_)), final_(std::move(other.final_)), published_(other.published_) {
    other.temp_.clear();
}

PendingFile::~PendingFile() {
    std::error_code ec;
    if (!published_ && !temp_.empty()) fs::remove(temp_, ec);
}

Result<bool> PendingFile::publish() {
    std::error_code ec;
    fs::rename(temp_, final_, ec);
    if (ec) return fail(fmt::format("publishing {}: {}", final_.string(), ec.message()));
    published_ = true;
    return sync_path(final_.parent_path(), true);
}

void PendingFile::withdraw() {
    std::error_code ec;
    if (published_) fs::remove(final_, ec);
}

Result<PendingFile> prepare_file(const fs::path& dir, const std::string& name, std::string_view text) {
    PendingFile pending(dir / ("." + name + ".tmp"), dir / name);
    {
        std::ofstream out(dir / ("." + name + ".tmp"), std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        out.close();
        if (!out) return fail(fmt::format("cannot write in {}", dir.string()));
    }
    if (auto ok = sync_path(dir / ("." + name + ".tmp"), false); !ok) return fail(ok.error());
    return pending;
}

SpoolReport read_updates(const fs::path& inbox, const ApplyUpdate& apply, const LogUpdate& log) {
    SpoolReport report;
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(inbox, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
    if (ec) {
        report.problems.push_back(fmt::format("{}: {}", inbox.string(), ec.message()));
        return report;
    }
    std::sort(files.begin(), files.end());
    auto reject = [&](const fs::path& file, const std::string& why) {
        ++report.rejected;
        log(file.filename().string(), "rejected", why);
        auto moved = move_into(file, inbox / "rejected");
        if (!moved) return report.problems.push_back(moved.error());
        std::ofstream(moved->string() + ".reason") << why << "\n";
    };
    for (const auto& file : files) {
        auto text = read_file(file);
        auto update = text ? parse_update(*text) : Result<store::WorkOrderUpdate>(fail(text.error()));
        if (!update) {
            reject(file, mime::printable(update.error(), 300));
            continue;
        }
        update->file = file.filename().string();
        update->sha256 = mime::sha256_hex(*text);
        try {
            auto outcome = apply(*update);
            const char* action = outcome == store::UpdateOutcome::resolved ? "resolved"
                                 : outcome == store::UpdateOutcome::applied ? "applied" : "already-applied";
            ++(outcome == store::UpdateOutcome::resolved  ? report.resolved
               : outcome == store::UpdateOutcome::applied ? report.applied : report.already_applied);
            log(update->file, action, update->token);
            if (auto moved = move_into(file, inbox / "processed"); !moved) report.problems.push_back(moved.error());
        } catch (const store::Refused& e) {
            reject(file, e.what());
        }
    }
    return report;
}

store::WorkOrderResolution resolution_for(const config::WorkorderConfig& system, const config::Config& cfg) {
    store::WorkOrderResolution r;
    r.type = system.resolution_type.empty() ? cfg.resolution_types.front() : system.resolution_type;
    r.types = cfg.resolution_types;
    r.policy = cfg.child_closure;
    return r;
}

}  // namespace casemail::workorder
