// Turning people's words into an SQLite FTS5 query (store/kb.cpp runs it). Pure. The words are
// taken as words only: quotes, operators (AND, OR, NEAR, *, ^, column filters) typed by a user or
// found in a citizen's mail have no effect and never make the query fail.
#pragma once

#include <string>
#include <string_view>

namespace casemail::matching {

// Every word of `text` (letters and digits, lower-cased; other bytes separate words; words of one
// character and, for `any`, common English words are dropped), each quoted, joined by spaces
// (all must match) or, with `any`, by OR. At most `max_words` words. "" when none is left.
std::string fts_query(std::string_view text, bool any, std::size_t max_words = 32);

}  // namespace casemail::matching
