// Email templates: a subject, a text body and an optional HTML body, one file each
// (NAME.subject, NAME.txt, NAME.html) in a templates directory, with placeholders such as
// {{case.token}} and {{customer.name}}.
//
// Contract: a template is checked when it is loaded: an unknown placeholder or an unclosed
// "{{" is an error naming the file and line, so a typo never reaches a citizen. Values are
// escaped for where they land: CR/LF and other controls removed in the subject (no header
// injection; the caller encodes it for the header), HTML-escaped in the HTML body, verbatim in
// the text body. Pure except load_template(), which reads the three files.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/result.hpp"

namespace casemail::templates {

enum class Context { header, text, html };

// The placeholders a template may use.
const std::vector<std::string>& known_placeholders();

struct Part {
    std::string file;  // for messages
    struct Piece {
        bool placeholder = false;
        std::string text;  // literal text, or the placeholder's name
    };
    std::vector<Piece> pieces;
};

struct EmailTemplate {
    std::string name;
    Part subject, text;
    std::optional<Part> html;
};

// Parses one file's text; errors read "FILE:LINE: unknown placeholder {{case.tokn}}".
Result<Part> parse_part(std::string_view source, std::string_view file);

// NAME.subject and NAME.txt (required) and NAME.html (optional) from `dir`.
Result<EmailTemplate> load_template(const std::string& dir, const std::string& name);

// The templates shipped with casemail (compiled in): "acknowledgement".
Result<EmailTemplate> builtin_template(const std::string& name);

using Values = std::map<std::string, std::string>;

std::string render(const Part& part, const Values& values, Context context);

struct Rendered {
    std::string subject;  // one line, controls removed
    std::string text;
    std::optional<std::string> html;
};
Rendered render(const EmailTemplate& t, const Values& values);

}  // namespace casemail::templates
