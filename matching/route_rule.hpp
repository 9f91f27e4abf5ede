// A routing rule as configured (matching/routing.hpp evaluates them): plain data, no MIME, so
// the ingest rules (plan.hpp) can carry them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/result.hpp"

namespace casemail::matching {

// A compiled regular expression (RE2), shared by copies of a rule.
class Pattern {
public:
    static Result<Pattern> compile(const std::string& expression);
    bool search(std::string_view text) const;
    const std::string& text() const { return text_; }

private:
    struct Compiled;
    std::shared_ptr<const Compiled> compiled_;
    std::string text_;
};

struct RouteRule {
    std::string name;
    int line = 0;  // in the config file, for messages
    // Conditions; an empty one always holds.
    std::string mailbox;                 // normalised address
    std::vector<std::string> from;       // normalised addresses, or "@domain"
    std::vector<std::string> subject_words, body_words;
    std::optional<Pattern> subject_regex, body_regex;
    std::string has_attachment;          // "image/*", "application/pdf" or an extension "pdf"
    std::string header_name, header_value;  // value "" : the header is present
    // Actions.
    bool no_case = false;
    std::string queue, category, request_type, priority;
};

constexpr std::size_t max_scan_bytes = 256 * 1024;

// A request type of the guide: Report, Request or Inquire About (canonical spelling), or nullopt.
std::optional<std::string> request_type_name(const std::string& text);

}  // namespace casemail::matching
