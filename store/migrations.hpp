// Numbered schema migrations. Each runs once, in order, inside its own transaction, and bumps
// PRAGMA user_version; opening a store applies whatever is missing, so it is safe to repeat.
// Never edit a released migration: add the next number.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace casemail::store {

class Database;

struct Migration {
    int version;
    std::string_view description;
    std::string_view sql;
    // Data the SQL cannot convert, run after it in the same transaction; returns a note for
    // the operator (printed by the command that opened the store, logged by casemaild), or ""
    // when there was nothing to convert.
    std::string (*convert)(Database&) = nullptr;
};

const std::vector<Migration>& migrations();

// Applies missing migrations; returns the schema version afterwards, and appends the notes of
// the conversions that ran to `notes`. Refuses (throws Error) a store whose version is newer
// than this build knows.
int migrate(Database& db, std::vector<std::string>* notes = nullptr);

}  // namespace casemail::store
