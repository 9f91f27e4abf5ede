// Backup and integrity of the store. A backup is SQLite's online backup of one read snapshot:
// consistent while casemaild keeps committing (WAL lets it), written to a temporary file,
// fsynced and renamed into place, so a crash never leaves half a backup under the final name.
// The check runs SQLite's integrity and foreign-key checks and recomputes the SHA-256 of stored
// raw messages against the one taken when each arrived.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace casemail::store {

struct BackupReport {
    std::string path;
    std::int64_t pages = 0, bytes = 0;
    double seconds = 0;
};
// Refuses (Refused) an existing `path` unless `replace`; Error when it cannot be written.
BackupReport backup_to(Database& source, const std::string& path, bool replace);

struct CheckReport {
    std::vector<std::string> problems;  // empty: all good
    std::int64_t messages_checked = 0, messages_total = 0;
};
// `sample`: raw messages to recompute (the newest first), 0 for all of them.
CheckReport check_store(Database& db, std::int64_t sample);

}  // namespace casemail::store
