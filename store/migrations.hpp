// Numbered schema migrations. Each runs once, in order, inside its own transaction, and bumps
// PRAGMA user_version; opening a store applies whatever is missing, so it is safe to repeat.
// Never edit a released migration: add the next number.
#pragma once

#include <string_view>
#include <vector>

namespace casemail::store {

class Database;

struct Migration {
    int version;
    std::string_view description;
    std::string_view sql;
};

const std::vector<Migration>& migrations();

// Applies missing migrations; returns the schema version afterwards. Refuses (throws Error) a
// store whose version is newer than this build knows.
int migrate(Database& db);

}  // namespace casemail::store
