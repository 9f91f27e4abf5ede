// printable(): untrusted text made safe for one log or error line (after Postfix's printable()).
// Control characters (CR, LF, TAB, ESC, NUL, DEL...) become '?', so a hostile header cannot
// forge log lines or terminal escapes. Long text is cut at `max_bytes` with "...".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace casemail::mime {

std::string printable(std::string_view text, std::size_t max_bytes = 200);

// A reason that holds several lines (one per problem, e.g. a config's errors), each made
// printable on its own: the newlines between them stay line breaks, not '?'.
std::vector<std::string> printable_lines(std::string_view text, std::size_t max_bytes_per_line = 1000);

}  // namespace casemail::mime
