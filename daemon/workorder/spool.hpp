// The spool directories shared with a work-order system. Writing: a temporary file in the
// same directory, fsync, rename, fsync of the directory, so the other side never reads half a
// document. Reading: every *.json in the incoming directory, oldest name first, each applied by
// the caller (one transaction each) and then moved to processed/, or to rejected/ with a
// NAME.reason file beside it when it is malformed or refused; nothing is applied from a
// rejected file, and an applied file is known by its SHA-256 if a crash left it in place.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/config.hpp"
#include "mime/result.hpp"
#include "store/workorder.hpp"

namespace casemail::workorder {

// A file written but not yet published: rename() makes it visible under its name.
class PendingFile {
public:
    PendingFile(std::filesystem::path temp, std::filesystem::path final) : temp_(std::move(temp)), final_(std::move(final)) {}
    PendingFile(PendingFile&& other) noexcept;
    PendingFile(const PendingFile&) = delete;
    PendingFile& operator=(const PendingFile&) = delete;
    PendingFile& operator=(PendingFile&&) = delete;
    ~PendingFile();  // never published: the temporary file is removed
    Result<bool> publish();
    void withdraw();  // after publish(): removes the published file (best effort)
    const std::filesystem::path& path() const { return final_; }

private:
    std::filesystem::path temp_, final_;
    bool published_ = false;
};

// `text` in dir/.name.tmp, synced; publish() renames it to dir/name (replacing what was there)
// and syncs the directory. (The Open311 export's file is written the same way.)
Result<PendingFile> prepare_file(const std::filesystem::path& dir, const std::string& name, std::string_view text);

struct SpoolReport {
    int applied = 0, resolved = 0, already_applied = 0, rejected = 0;
    std::vector<std::string> problems;  // directories that could not be read or written
};

// Applies one update in its own transaction; throws store::Refused (rejected with its reason).
using ApplyUpdate = std::function<store::UpdateOutcome(const store::WorkOrderUpdate&)>;
// Called for each file handled: its name, what happened, and the reason when rejected.
using LogUpdate = std::function<void(const std::string& file, const std::string& action, const std::string& detail)>;

SpoolReport read_updates(const std::filesystem::path& inbox, const ApplyUpdate& apply, const LogUpdate& log);

// How the updates of `system` resolve cases: its resolution type (or the first configured) and
// the parent-child policy.
store::WorkOrderResolution resolution_for(const config::WorkorderConfig& system, const config::Config& cfg);

}  // namespace casemail::workorder
