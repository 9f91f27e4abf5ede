#include "mime/text.hpp"
#include "mime/strings.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace casemail::mime {
namespace {


void append_utf8(std::string& out, unsigned long cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

struct Entity {
    const char* name;
    unsigned long cp;
};
constexpr Entity entities[] = {
    {"amp", '&'},       {"lt", '<'},        {"gt", '>'},        {"quot", '"'},
    {"apos", '\''},     {"nbsp", 0xA0},     {"copy", 0xA9},     {"reg", 0xAE},
    {"eacute", 0xE9},   {"egrave", 0xE8},   {"agrave", 0xE0},   {"ccedil", 0xE7},
    {"uuml", 0xFC},     {"ouml", 0xF6},     {"auml", 0xE4},     {"szlig", 0xDF},
    {"ntilde", 0xF1},   {"aacute", 0xE1},   {"iacute", 0xED},   {"oacute", 0xF3},
    {"uacute", 0xFA},   {"euro", 0x20AC},   {"pound", 0xA3},    {"cent", 0xA2},
    {"mdash", 0x2014},  {"ndash", 0x2013},  {"hellip", 0x2026}, {"rsquo", 0x2019},
    {"lsquo", 0x2018},  {"rdquo", 0x201D},  {"ldquo", 0x201C},  {"bull", 0x2022},
    {"middot", 0xB7},   {"deg", 0xB0},      {"times", 0xD7},    {"laquo", 0xAB},
    {"raquo", 0xBB},    {"shy", 0xAD},      {"zwnj", 0x200C},   {"trade", 0x2122},
};

// Decodes "&...;" at s[i] (s[i] == '&'); returns characters consumed, 0 when not an entity.
std::size_t decode_entity(std::string_view s, std::size_t i, std::string& out) {
    auto semi = s.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 12) return 0;
    auto body = s.substr(i + 1, semi - i - 1);
    if (body.empty()) return 0;
    if (body[0] == '#') {
        unsigned long cp = 0;
        bool hex = body.size() > 1 && (body[1] == 'x' || body[1] == 'X');
        auto digits = body.substr(hex ? 2 : 1);
        if (digits.empty()) return 0;
        for (char c : digits) {
            int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                    : (hex && std::isxdigit(static_cast<unsigned char>(c)))
                        ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                        : -1;
            if (v < 0) return 0;
            cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(v);
            if (cp > 0x10FFFF) cp = 0x110000;
        }
        append_utf8(out, cp);
        return semi - i + 1;
    }
    for (const auto& e : entities) {
        if (body == e.name) {
            append_utf8(out, e.cp);
            return semi - i + 1;
        }
    }
    return 0;
}

bool is_block(std::string_view tag) {
    static constexpr const char* blocks[] = {
        "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "pre", "hr", "section", "article", "header", "footer", "dd", "dt", "dl",
        "address", "form", "center", "title"};
    return std::any_of(std::begin(blocks), std::end(blocks), [&](const char* b) { return tag == b; });
}

bool is_paragraph(std::string_view tag) {
    return tag == "p" || tag == "h1" || tag == "h2" || tag == "h3" || tag == "h4" ||
           tag == "h5" || tag == "h6" || tag == "blockquote" || tag == "table" || tag == "ul" ||
           tag == "ol" || tag == "hr";
}

}  // namespace

std::string html_to_text(std::string_view html) {
    std::string out;
    out.reserve(html.size() / 2);
    int pending_newlines = 0;  // line breaks owed before the next text
    bool pending_space = false;
    auto newline = [&](int n) {
        pending_newlines = std::max(pending_newlines, n);
        pending_space = false;
    };
    auto emit_text = [&](std::string_view t) {
        if (pending_newlines && !out.empty()) out.append(static_cast<std::size_t>(pending_newlines), '\n');
        else if (pending_space && !out.empty() && out.back() != '\n') out += ' ';
        pending_newlines = 0;
        pending_space = false;
        out.append(t);
    };
    std::size_t i = 0;
    bool in_pre = false;
    while (i < html.size()) {
        char c = html[i];
        if (c == '<') {
            if (html.compare(i, 4, "<!--") == 0) {
                auto end = html.find("-->", i + 4);
                i = end == std::string_view::npos ? html.size() : end + 3;
                continue;
            }
            auto end = html.find('>', i + 1);
            if (end == std::string_view::npos) break;  // unterminated tag: drop the rest
            auto inner = html.substr(i + 1, end - i - 1);
            bool closing = !inner.empty() && inner[0] == '/';
            if (closing) inner.remove_prefix(1);
            std::size_t n = 0;
            while (n < inner.size() && (std::isalnum(static_cast<unsigned char>(inner[n])))) ++n;
            std::string tag = to_lower_ascii(inner.substr(0, n));
            i = end + 1;
            if (!closing && (tag == "script" || tag == "style" || tag == "head")) {
                // Skip to the matching close tag (case-insensitive).
                std::string close = "</" + tag;
                std::size_t k = i;
                bool found = false;
                while ((k = html.find("</", k)) != std::string_view::npos) {
                    if (to_lower_ascii(html.substr(k, close.size())) == close) {
                        auto gt = html.find('>', k);
                        i = gt == std::string_view::npos ? html.size() : gt + 1;
                        found = true;
                        break;
                    }
                    k += 2;
                }
                if (!found) i = html.size();
                continue;
            }
            if (tag == "pre") in_pre = !closing;
            if (tag == "br") newline(pending_newlines >= 1 ? 2 : 1);  // <br><br> = blank line
            else if (tag == "td" || tag == "th") { if (!closing) pending_space = true; }
            else if (tag == "li" && !closing) { newline(1); emit_text("- "); }
            else if (is_block(tag)) newline(is_paragraph(tag) ? 2 : 1);
            continue;
        }
        if (c == '&') {
            std::string decoded;
            auto used = decode_entity(html, i, decoded);
            if (used == 0) {  // a bare '&' ("AT&T"): literal text
                decoded = "&";
                used = 1;
            }
            if (decoded == "\xC2\xA0") decoded = " ";
            emit_text(decoded);
            i += used;
            continue;
        }
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (in_pre) {
                if (c == '\n') newline(1);
                else emit_text(std::string(1, ' '));
            } else {
                pending_space = true;
            }
            ++i;
            continue;
        }
        auto start = i;
        while (i < html.size() && html[i] != '<' && html[i] != '&' &&
               !std::isspace(static_cast<unsigned char>(html[i])))
            ++i;
        emit_text(html.substr(start, i - start));
    }
    // Trim trailing white space of each line and of the whole text.
    std::string cleaned;
    cleaned.reserve(out.size());
    std::size_t line_start = 0;
    while (line_start <= out.size()) {
        auto nl = out.find('\n', line_start);
        auto line = std::string_view(out).substr(line_start, nl == std::string::npos ? std::string::npos : nl - line_start);
        while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
        cleaned.append(line);
        if (nl == std::string::npos) break;
        cleaned += '\n';
        line_start = nl + 1;
    }
    while (!cleaned.empty() && (cleaned.back() == '\n' || cleaned.back() == ' ')) cleaned.pop_back();
    std::size_t lead = 0;
    while (lead < cleaned.size() && cleaned[lead] == '\n') ++lead;
    return cleaned.substr(lead);
}

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// Callers check all_digits and the length first, so this cannot overflow.
int to_int(std::string_view digits) {
    int v = 0;
    for (char ch : digits) v = v * 10 + (ch - '0');
    return v;
}

}  // namespace

// Views into `value`, no allocation: this runs on every message.
std::optional<std::chrono::system_clock::time_point> parse_rfc5322_date(std::string_view value) {
    // Tokenise into words and numbers, ignoring comments, commas and extra white space.
    std::array<std::string_view, 16> words;
    std::size_t count = 0;
    int paren = 0;
    std::size_t word_start = std::string_view::npos;
    auto push = [&](std::size_t end) {
        if (word_start != std::string_view::npos && end > word_start) words[count++] = value.substr(word_start, end - word_start);
        word_start = std::string_view::npos;
    };
    for (std::size_t i = 0; i < value.size() && count < words.size(); ++i) {
        char c = value[i];
        if (c == '(') { push(i); ++paren; continue; }
        if (c == ')') { if (paren) --paren; continue; }
        if (paren) continue;
        if (c == ' ' || c == '\t' || c == ',' || c == '\r' || c == '\n') { push(i); continue; }
        if (word_start == std::string_view::npos) word_start = i;
    }
    if (count < words.size()) push(value.size());
    static constexpr std::array<std::string_view, 12> months = {"jan", "feb", "mar", "apr", "may", "jun",
                                                                "jul", "aug", "sep", "oct", "nov", "dec"};
    static constexpr std::array<std::string_view, 7> day_names = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    std::size_t w = 0;
    if (count > 0 && words[0].size() >= 3 &&
        std::any_of(day_names.begin(), day_names.end(), [&](std::string_view d) { return iequals_ascii(words[0].substr(0, 3), d); }))
        ++w;  // day name
    if (count < w + 4) return std::nullopt;
    // day month year time [zone]; some clients write month day
    std::string_view d = words[w], m = words[w + 1], y = words[w + 2], t = words[w + 3];
    if (!all_digits(d) && all_digits(m)) std::swap(d, m);
    if (!all_digits(d) || !all_digits(y) || d.size() > 2 || y.size() > 4 || m.size() < 3) return std::nullopt;
    int month = -1;
    for (int k = 0; k < 12; ++k)
        if (iequals_ascii(m.substr(0, 3), months[static_cast<std::size_t>(k)])) month = k;
    if (month < 0) return std::nullopt;
    // Years past 2200 are refused: system_clock counts nanoseconds in 64 bits (up to 2262).
    int year = to_int(y);
    if (y.size() <= 2) year += year < 50 ? 2000 : 1900;  // RFC 5322 §4.3
    else if (y.size() == 3) year += 1900;
    int clock[3] = {0, 0, 0};
    {
        int n = 0;
        std::size_t start = 0;
        for (;;) {
            auto colon = t.find(':', start);
            auto num = t.substr(start, colon == std::string_view::npos ? t.npos : colon - start);
            if (!all_digits(num) || num.size() > 2 || n >= 3) return std::nullopt;
            clock[n++] = to_int(num);
            if (colon == std::string_view::npos) break;
            start = colon + 1;
        }
        if (n < 2) return std::nullopt;
    }
    int day = to_int(d);
    int hh = clock[0], mm = clock[1], ss = clock[2];
    if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1900 || year > 2200)
        return std::nullopt;
    long offset_minutes = 0;
    if (w + 4 < count) {
        std::string_view z = words[w + 4];
        if ((z[0] == '+' || z[0] == '-') && z.size() == 5 && all_digits(z.substr(1))) {
            int v = to_int(z.substr(1));
            offset_minutes = (v / 100) * 60 + v % 100;
            if (z[0] == '-') offset_minutes = -offset_minutes;
        } else {
            static constexpr std::pair<std::string_view, int> zones[] = {
                {"ut", 0}, {"utc", 0}, {"gmt", 0}, {"z", 0},      {"est", -5}, {"edt", -4},
                {"cst", -6}, {"cdt", -5}, {"mst", -7}, {"mdt", -6}, {"pst", -8}, {"pdt", -7}};
            for (const auto& [name, zone_hours] : zones)
                if (iequals_ascii(z, name)) offset_minutes = zone_hours * 60;
        }
    }
    // Day 31 of a 30-day month rolls over into the next month, as timegm() did before.
    using namespace std::chrono;
    auto first_of_month = sys_days(year_month_day(std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month + 1)), std::chrono::day(1)));
    auto when = first_of_month + days(day - 1) + hours(hh) + minutes(mm) + seconds(ss == 60 ? 59 : ss) -
                minutes(offset_minutes);
    return time_point_cast<system_clock::duration>(when);
}

}  // namespace casemail::mime
