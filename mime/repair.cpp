#include "mime/repair.hpp"

#include <fmt/format.h>

#include <optional>

#include "mime/printable.hpp"
#include "mime/strings.hpp"

namespace casemail::mime::detail {
namespace {

// The line starting at `at` (its line break included), and where the next one starts.
std::string_view line_at(std::string_view text, std::size_t at) {
    auto nl = text.find('\n', at);
    return text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl + 1 - at);
}

bool blank(std::string_view line) { return line == "\n" || line == "\r\n" || line.empty(); }

// The top-level header block without its stray mbox "From " lines (a header field always has a
// colon in its name; "From " with a space is mbox's separator). nullopt when there is none.
std::optional<std::string> without_stray_from_lines(std::string_view raw, Defects& defects) {
    std::string out;
    int removed = 0;
    std::size_t at = 0;
    while (at < raw.size()) {
        auto line = line_at(raw, at);
        if (blank(line)) break;
        if (line.starts_with("From ")) {
            if (removed++ == 0) out.assign(raw.substr(0, at));
        } else if (removed) {
            out += line;
        }
        at += line.size();
    }
    if (!removed) return std::nullopt;
    out += raw.substr(at);
    add_defect(defects, fmt::format("stray mbox 'From ' line in the header removed ({})", removed));
    return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals_ascii(s.substr(0, prefix.size()), prefix);
}

// A whole Content-Type field (continuation lines included) rewritten with a plain boundary,
// when it carries an RFC 2231 one; nullopt otherwise.
std::optional<std::string> plain_boundary_field(std::string_view field, Defects& defects) {
    auto colon = field.find(':');
    std::string value;
    for (char c : field.substr(colon + 1))
        if (c != '\r' && c != '\n') value += c;
    if (to_lower_ascii(value).find("boundary*") == std::string::npos) return std::nullopt;
    Defects ignored;
    auto params = parse_header_params(value, ignored);
    auto boundary = params.param("boundary");
    if (boundary.empty() || boundary.size() > 70 || boundary.find_first_of("\"\\\r\n") != std::string::npos) {
        add_defect(defects, "unusable RFC 2231 boundary: " + printable(boundary, 80));
        return std::nullopt;
    }
    std::string out = "Content-Type: " + params.value + "; boundary=\"" + boundary + "\"";
    for (const auto& [name, v] : params.params)
        if (name != "boundary" && v.find_first_of("\"\\\r\n") == std::string::npos) out += "; " + name + "=\"" + v + "\"";
    add_defect(defects, "RFC 2231 boundary parameter read as boundary=\"" + printable(boundary, 80) + "\"");
    return out + "\r\n";
}

// Every Content-Type field of the message with an RFC 2231 boundary, rewritten. A field is found
// at the start of any line: part headers are not known before the boundary is.
std::optional<std::string> plain_boundaries(std::string_view text, Defects& defects) {
    if (text.find("oundary*") == std::string_view::npos && text.find("OUNDARY*") == std::string_view::npos)
        return std::nullopt;
    std::string out;
    bool changed = false;
    std::size_t at = 0;
    while (at < text.size()) {
        auto line = line_at(text, at);
        if (!starts_with_ci(line, "content-type:")) {
            out += line;
            at += line.size();
            continue;
        }
        auto end = at + line.size();
        while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) end += line_at(text, end).size();
        auto field = text.substr(at, end - at);
        auto rewritten = plain_boundary_field(field, defects);
        out += rewritten ? *rewritten : std::string(field);
        changed = changed || rewritten.has_value();
        at = end;
    }
    if (!changed) return std::nullopt;
    return out;
}

}  // namespace

std::string_view mimetic_input(std::string_view raw, std::string& owned, Defects& defects) {
    std::string_view input = raw;
    if (auto fixed = without_stray_from_lines(input, defects)) input = owned = std::move(*fixed);
    if (auto fixed = plain_boundaries(input, defects)) input = owned = std::move(*fixed);
    // CRLF first: in most mail it ends the header, while "\n\n" is searched to the end.
    bool has_separator = input.find("\n\r\n") != std::string_view::npos || input.find("\n\n") != std::string_view::npos ||
                         input.find("\r\r") != std::string_view::npos;
    // Empty when the message was nothing but stray "From " lines.
    auto ends_line = [](std::string_view s) { return !s.empty() && (s.back() == '\n' || s.back() == '\r'); };
    if (!has_separator || !ends_line(input)) {
        if (input.data() != owned.data()) owned.assign(input);
        if (!ends_line(owned)) owned += "\r\n";
        if (!has_separator) {
            owned += "\r\n";
            add_defect(defects, "message has no body");
        }
        input = owned;
    }
    if (input.find('\r') == std::string_view::npos) add_defect(defects, "bare LF line endings");
    return input;
}

}  // namespace casemail::mime::detail
