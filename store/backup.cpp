#include "store/backup.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "mime/digest.hpp"
#include "store/store.hpp"

namespace casemail::store {
namespace {

void remove_quietly(const std::string& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
}

}  // namespace

BackupReport backup_to(Database& source, const std::string& path, bool replace) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(path, ec) && !replace) throw Refused(fmt::format("'{}' exists; give --force to replace it", path));
    auto dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir, ec)) throw Refused(fmt::format("directory '{}' does not exist", dir.string()));
    auto temp = path + ".partial";
    remove_quietly(temp);
    auto started = std::chrono::steady_clock::now();
    BackupReport r;
    try {
        r.pages = source.backup_into(temp);
        fsync_path(temp, false);
        fs::rename(temp, path);
        fsync_path(dir.string(), true);
    } catch (...) {
        remove_quietly(temp);
        throw;
    }
    r.path = path;
    r.bytes = static_cast<std::int64_t>(fs::file_size(path, ec));
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return r;
}

CheckReport check_store(Database& db, std::int64_t sample) {
    CheckReport r;
    auto integrity = db.prepare("PRAGMA integrity_check");
    while (integrity.step())
        if (integrity.text(0) != "ok") r.problems.push_back("integrity: " + integrity.text(0));
    auto keys = db.prepare("PRAGMA foreign_key_check");
    while (keys.step())
        r.problems.push_back(fmt::format("foreign key: {} row {} points at a missing {}", keys.text(0), keys.int64(1),
                                         keys.text(2)));
    // An outbox row whose message is its recorded email's raw must find it (migration 20).
    auto unsendable = db.prepare(
        "SELECT o.id FROM outbox o WHERE o.raw_is_email = 1 "
        "AND NOT EXISTS (SELECT 1 FROM email_raw r WHERE r.email_id = o.email_id) ORDER BY o.id");
    while (unsendable.step())
        r.problems.push_back(fmt::format("outbox {}: its message is its recorded email's, which has no raw message",
                                         unsendable.int64(0)));
    auto total = db.prepare("SELECT count(*) FROM email_raw");
    total.step();
    r.messages_total = total.int64(0);
    auto raws = db.prepare(
        "SELECT e.id, e.raw_sha256, r.raw FROM email e JOIN email_raw r ON r.email_id = e.id ORDER BY e.id DESC "
        "LIMIT ?1");
    raws.bind(1, sample > 0 ? sample : std::int64_t{-1});
    while (raws.step()) {
        ++r.messages_checked;
        if (mime::sha256_hex(raws.blob(2)) != raws.text(1))
            r.problems.push_back(fmt::format("email {}: its raw message no longer matches the SHA-256 taken when it "
                                             "arrived",
                                             raws.int64(0)));
    }
    return r;
}

}  // namespace casemail::store
