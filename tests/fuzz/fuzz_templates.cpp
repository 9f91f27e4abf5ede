// Fuzz target for email templates: a template file's text and the values a citizen controls
// (their name, their subject). The input is "TEMPLATE\0VALUE". Invariants: parsing returns a Part
// or a reason naming the file and line; rendering never lets a value break out of where it
// lands: in a header no value adds a control character (no header injection), in HTML no value
// adds markup (<, >, ", ' or a raw &), in text the value is verbatim.
#include <cstdint>
#include <string>
#include <string_view>

#include "templates/template.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {
using casemail::fuzz::require;
namespace t = casemail::templates;

bool has_control(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

bool has_markup(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '<' || c == '>' || c == '"' || c == '\'') return true;
        if (c == '&') {
            auto semi = s.find(';', i);
            if (semi == std::string_view::npos || semi - i > 6) return true;  // only our entities
        }
    }
    return false;
}

// The template with every literal removed: what the values alone contribute.
t::Part placeholders_only(const t::Part& part) {
    t::Part out;
    out.file = part.file;
    for (const auto& piece : part.pieces)
        if (piece.placeholder) out.pieces.push_back(piece);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto nul = input.find('\0');
    std::string_view source = input.substr(0, nul);
    std::string value(nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1));
    auto part = t::parse_part(source, "fuzz.txt");
    if (!part) {
        require(part.error().rfind("fuzz.txt:", 0) == 0, "a template error that does not name the file");
        return 0;
    }
    t::Values values;
    for (const auto& name : t::known_placeholders()) values[name] = value;
    auto values_only = placeholders_only(*part);
    require(!has_control(t::render(values_only, values, t::Context::header)), "a value put a control into a header");
    require(!has_markup(t::render(values_only, values, t::Context::html)), "a value put markup into HTML");
    std::string text = t::render(values_only, values, t::Context::text);
    std::string expected;
    for (std::size_t i = 0; i < values_only.pieces.size(); ++i) expected += value;
    require(text == expected, "a value was changed in the text body");
    t::EmailTemplate email{"fuzz", *part, *part, *part};
    auto rendered = t::render(email, values);
    require(!has_control(rendered.subject), "a control character in the rendered subject");
    return 0;
}
