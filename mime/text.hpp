// Text helpers for message bodies and headers: HTML to readable text, RFC 5322 dates.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace casemail::mime {

// Readable plain text from HTML: block elements and <br> become line breaks (paragraphs keep a
// blank line), <script>/<style>/<head> content is dropped, entities are decoded, runs of white
// space collapse. Linear time; input is assumed to be UTF-8.
std::string html_to_text(std::string_view html);

// RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 (two-digit years, named zones,
// missing day name or seconds). Returns UTC, or nothing when it cannot be read.
std::optional<std::chrono::system_clock::time_point> parse_rfc5322_date(std::string_view value);

}  // namespace casemail::mime
