#include "templates/template.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "mime/printable.hpp"
#include "mime/strings.hpp"
#include "templates/builtin.hpp"

namespace casemail::templates {
namespace {

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string one_line(std::string_view s) {
    std::string out;
    for (char c : s) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
    return out;
}

}  // namespace

const std::vector<std::string>& known_placeholders() {
    static const std::vector<std::string> names = {
        "case.token",    "case.title",        "case.status",    "case.created_at", "case.priority",
        "customer.name", "customer.email",    "queue.name",     "queue.display_name", "queue.mailbox",
    };
    return names;
}

Result<Part> parse_part(std::string_view source, std::string_view file) {
    Part part;
    part.file = std::string(file);
    std::size_t i = 0;
    auto line_of = [&](std::size_t pos) { return 1 + std::count(source.begin(), source.begin() + static_cast<long>(pos), '\n'); };
    while (i < source.size()) {
        auto open = source.find("{{", i);
        if (open == std::string_view::npos) {
            part.pieces.push_back({false, std::string(source.substr(i))});
            break;
        }
        if (open > i) part.pieces.push_back({false, std::string(source.substr(i, open - i))});
        auto at = line_of(open);
        auto close = source.find("}}", open + 2);
        auto newline = source.find('\n', open);
        if (close == std::string_view::npos || (newline != std::string_view::npos && newline < close))
            return fail(fmt::format("{}:{}: '{{{{' without '}}}}' on the same line", file, at));
        std::string name(mime::trim(source.substr(open + 2, close - open - 2)));
        const auto& known = known_placeholders();
        if (std::find(known.begin(), known.end(), name) == known.end())
            return fail(fmt::format("{}:{}: unknown placeholder {{{{{}}}}} (known: {})", file, at,
                                    mime::printable(name, 60), mime::join(known, ", ")));
        part.pieces.push_back({true, name});
        i = close + 2;
    }
    return part;
}

Result<EmailTemplate> load_template(const std::string& dir, const std::string& name) {
    namespace fs = std::filesystem;
    auto read = [&](const char* ext, bool required) -> Result<std::optional<Part>> {
        fs::path path = fs::path(dir) / (name + ext);
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            if (!required) return std::optional<Part>();
            return fail(fmt::format("template '{}': {} cannot be read", name, path.string()));
        }
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto part = parse_part(text, path.string());
        if (!part) return fail(part.error());
        return std::optional<Part>(std::move(*part));
    };
    if (name.empty() || name.find_first_of("/\\.") != std::string::npos)
        return fail(fmt::format("template name '{}' must be a plain name", mime::printable(name, 60)));
    EmailTemplate t;
    t.name = name;
    auto subject = read(".subject", true);
    if (!subject) return fail(subject.error());
    auto text = read(".txt", true);
    if (!text) return fail(text.error());
    auto html = read(".html", false);
    if (!html) return fail(html.error());
    t.subject = std::move(**subject);
    t.text = std::move(**text);
    t.html = std::move(*html);
    return t;
}

Result<EmailTemplate> builtin_template(const std::string& name) {
    for (const auto& b : builtin_templates()) {
        if (b.name != name) continue;
        EmailTemplate t;
        t.name = name;
        auto subject = parse_part(b.subject, "builtin:" + name + ".subject");
        auto text = parse_part(b.text, "builtin:" + name + ".txt");
        auto html = parse_part(b.html, "builtin:" + name + ".html");
        if (!subject) return fail(subject.error());
        if (!text) return fail(text.error());
        if (!html) return fail(html.error());
        t.subject = std::move(*subject);
        t.text = std::move(*text);
        if (!b.html.empty()) t.html = std::move(*html);
        return t;
    }
    return fail(fmt::format("no built-in template '{}'", mime::printable(name, 60)));
}

std::string render(const Part& part, const Values& values, Context context) {
    std::string out;
    for (const auto& piece : part.pieces) {
        if (!piece.placeholder) {
            out += piece.text;
            continue;
        }
        auto it = values.find(piece.text);
        std::string_view value = it == values.end() ? std::string_view() : std::string_view(it->second);
        switch (context) {
            case Context::header: out += one_line(value); break;
            case Context::html: out += html_escape(value); break;
            case Context::text: out += value; break;
        }
    }
    return out;
}

Rendered render(const EmailTemplate& t, const Values& values) {
    Rendered r;
    r.subject = std::string(mime::trim(one_line(render(t.subject, values, Context::header))));
    r.text = render(t.text, values, Context::text);
    if (t.html) r.html = render(*t.html, values, Context::html);
    return r;
}

}  // namespace casemail::templates
