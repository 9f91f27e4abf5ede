#include "mime/decode.hpp"
#include "mime/printable.hpp"
#include "mime/strings.hpp"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

namespace casemail::mime {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }


int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}


struct IconvHandle {
    iconv_t cd;
    ~IconvHandle() {
        if (cd != reinterpret_cast<iconv_t>(-1)) iconv_close(cd);
    }
};

// Charset names seen in the wild that iconv does not know by that name.
std::string canonical_charset(std::string_view charset) {
    std::string cs = to_lower_ascii(charset);
    while (!cs.empty() && (cs.back() == ' ' || cs.back() == '"')) cs.pop_back();
    while (!cs.empty() && (cs.front() == ' ' || cs.front() == '"')) cs.erase(0, 1);
    if (cs == "utf8") return "utf-8";
    if (cs == "latin1" || cs == "latin-1") return "iso-8859-1";
    if (cs == "ks_c_5601-1987") return "cp949";
    if (cs == "x-sjis" || cs == "shift-jis" || cs == "sjis") return "shift_jis";
    if (cs == "gb2312" || cs == "x-gbk") return "gbk";  // gb2312 mail is routinely GBK
    if (cs == "iso-8859-8-i") return "iso-8859-8";
    if (cs == "ansi_x3.4-1968" || cs == "us-ascii" || cs == "ascii") return "us-ascii";
    if (cs == "unicode-1-1-utf-7" || cs == "utf7") return "utf-7";
    return cs;
}

// iconv conversion; false when the charset is unknown or the input does not fit it.
bool iconv_to_utf8(std::string_view in, const std::string& charset, std::string& out) {
    IconvHandle h{iconv_open("UTF-8", charset.c_str())};
    if (h.cd == reinterpret_cast<iconv_t>(-1)) return false;
    out.clear();
    out.reserve(in.size() + in.size() / 2);
    char* src = const_cast<char*>(in.data());
    size_t src_left = in.size();
    std::array<char, 8192> buf;
    while (src_left > 0) {
        char* dst = buf.data();
        size_t dst_left = buf.size();
        size_t rc = iconv(h.cd, &src, &src_left, &dst, &dst_left);
        out.append(buf.data(), buf.size() - dst_left);
        if (rc == static_cast<size_t>(-1)) {
            if (errno == E2BIG) continue;
            return false;  // EILSEQ or EINVAL: the bytes do not fit the charset
        }
    }
    char* dst = buf.data();
    size_t dst_left = buf.size();
    iconv(h.cd, nullptr, nullptr, &dst, &dst_left);  // flush shift state
    out.append(buf.data(), buf.size() - dst_left);
    return true;
}

std::string windows1252_to_utf8(std::string_view in) {
    std::string out;
    if (iconv_to_utf8(in, "windows-1252", out)) return out;
    // windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined; latin-1 maps every byte.
    iconv_to_utf8(in, "iso-8859-1", out);
    return out;
}

// Eight bytes at a time: this runs over every body and header.
bool is_ascii(std::string_view s) {
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t word;
        std::memcpy(&word, s.data() + i, 8);
        if (word & 0x8080808080808080ull) return false;
    }
    for (; i < s.size(); ++i)
        if (static_cast<unsigned char>(s[i]) >= 0x80) return false;
    return true;
}

}  // namespace

void add_defect(Defects& defects, std::string defect) {
    if (defects.size() >= 64) return;
    defect = printable(defect, 200);
    if (std::find(defects.begin(), defects.end(), defect) == defects.end()) defects.push_back(std::move(defect));
}

std::string decode_base64(std::string_view in, Defects& defects) {
    static constexpr auto table = [] {
        std::array<signed char, 256> t{};
        t.fill(-1);
        const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
        return t;
    }();
    std::string out(in.size() / 4 * 3 + 3, '\0');
    char* dst = out.data();
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const auto* end = p + in.size();
    unsigned int acc = 0;
    int bits = 0;
    bool garbage = false, after_pad = false;
    while (p < end) {
        // Fast path: four alphabet characters in a row (the whole of a well-formed line).
        if (bits == 0 && end - p >= 4) {
            int a = table[p[0]], b = table[p[1]], c = table[p[2]], d = table[p[3]];
            if ((a | b | c | d) >= 0) {
                unsigned int v = (static_cast<unsigned>(a) << 18) | (static_cast<unsigned>(b) << 12) |
                                 (static_cast<unsigned>(c) << 6) | static_cast<unsigned>(d);
                dst[0] = static_cast<char>(v >> 16);
                dst[1] = static_cast<char>(v >> 8);
                dst[2] = static_cast<char>(v);
                dst += 3;
                p += 4;
                after_pad = false;
                continue;
            }
        }
        auto ch = *p++;
        int v = table[ch];
        if (v < 0) {
            if (ch == '=') after_pad = true;
            else if (ch != '\r' && ch != '\n' && ch != ' ' && ch != '\t') garbage = true;
            continue;
        }
        if (after_pad) {  // data after '=': a concatenation of encoded chunks; keep decoding
            after_pad = false;
            bits = 0;
            acc = 0;
        }
        acc = (acc << 6) | static_cast<unsigned int>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *dst++ = static_cast<char>((acc >> bits) & 0xff);
            if (bits == 0) acc = 0;
        }
    }
    out.resize(static_cast<std::size_t>(dst - out.data()));
    if (garbage) add_defect(defects, "invalid characters in base64 skipped");
    if (bits >= 6) add_defect(defects, "truncated base64");
    return out;
}

std::string decode_quoted_printable(std::string_view in, Defects& defects) {
    std::string out;
    out.reserve(in.size());
    bool bad = false;
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c != '=') {
            out += c;
            continue;
        }
        // soft line break: "=" then optional trailing white space then CRLF or LF
        std::size_t j = i + 1;
        while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
        if (j < in.size() && (in[j] == '\r' || in[j] == '\n')) {
            if (in[j] == '\r' && j + 1 < in.size() && in[j + 1] == '\n') ++j;
            i = j;
            continue;
        }
        if (j == in.size()) {  // "=" at the very end: soft break before EOF
            i = j;
            continue;
        }
        if (i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            i += 2;
        } else {
            bad = true;
            out += c;
        }
    }
    if (bad) add_defect(defects, "malformed quoted-printable escape kept literally");
    return out;
}

std::string decode_transfer(std::string_view body, std::string_view encoding, Defects& defects) {
    std::string enc = to_lower_ascii(encoding);
    while (!enc.empty() && std::isspace(static_cast<unsigned char>(enc.back()))) enc.pop_back();
    while (!enc.empty() && std::isspace(static_cast<unsigned char>(enc.front()))) enc.erase(0, 1);
    if (enc.empty() || enc == "7bit" || enc == "8bit" || enc == "binary") return std::string(body);
    if (enc == "base64") return decode_base64(body, defects);
    if (enc == "quoted-printable") return decode_quoted_printable(body, defects);
    if (enc == "x-uuencode" || enc == "uuencode")
        add_defect(defects, "uuencoded part kept undecoded");
    else
        add_defect(defects, "unknown Content-Transfer-Encoding '" + enc.substr(0, 40) + "'");
    return std::string(body);
}

bool valid_utf8(std::string_view s) {
    std::size_t i = 0, n = s.size();
    while (i < n) {
        // Skip ASCII 32 bytes at a time (the compiler vectorises this), then 8 at a time.
        while (i + 32 <= n) {
            std::uint64_t words[4];
            std::memcpy(words, s.data() + i, 32);
            if ((words[0] | words[1] | words[2] | words[3]) & 0x8080808080808080ull) break;
            i += 32;
        }
        if (i + 8 <= n) {
            std::uint64_t word;
            std::memcpy(&word, s.data() + i, 8);
            if (!(word & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        int len;
        unsigned int cp;
        if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
        else return false;
        if (i + static_cast<std::size_t>(len) > n) return false;
        for (int k = 1; k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += static_cast<std::size_t>(len);
    }
    return true;
}

std::string repair_utf8(std::string_view s) {
    if (valid_utf8(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 16);
    std::size_t i = 0;
    while (i < s.size()) {
        // find the longest valid sequence starting at i (1..4 bytes)
        bool ok = false;
        for (std::size_t len = 1; len <= 4 && i + len <= s.size(); ++len) {
            if (valid_utf8(s.substr(i, len))) {
                out.append(s.substr(i, len));
                i += len;
                ok = true;
                break;
            }
        }
        if (!ok) {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

bool utf8_as_labelled(std::string_view in, std::string_view charset) {
    auto label = trim(charset);
    return iequals_ascii(label, "utf-8") ? valid_utf8(in) : iequals_ascii(label, "us-ascii") && is_ascii(in);
}

std::string to_utf8(std::string_view in, std::string_view charset, Defects& defects) {
    // The common case first, before any allocation.
    if (utf8_as_labelled(in, charset)) return std::string(in);
    std::string cs = canonical_charset(charset);
    // 7-bit stateful and wide encodings look like ASCII but are not; everything else we accept
    // is an ASCII superset, so pure ASCII needs no conversion.
    bool ascii_lookalike = cs.starts_with("iso-2022") || cs.starts_with("utf-16") ||
                           cs.starts_with("utf-32") || cs == "utf-7" || cs.starts_with("hz");
    if (ascii_lookalike) {
        std::string out;
        if (iconv_to_utf8(in, cs, out)) return out;
    } else if (is_ascii(in)) {
        return std::string(in);
    }
    if (cs.empty() || cs == "us-ascii") {
        if (valid_utf8(in)) {
            add_defect(defects, "8-bit text without a charset taken as UTF-8");
            return std::string(in);
        }
        add_defect(defects, "8-bit text without a charset taken as windows-1252");
        return windows1252_to_utf8(in);
    }
    if (cs == "utf-8") {
        if (valid_utf8(in)) return std::string(in);
        add_defect(defects, "invalid UTF-8 replaced with U+FFFD");
        return repair_utf8(in);
    }
    std::string out;
    if (iconv_to_utf8(in, cs, out)) return out;
    // Unknown name, or the bytes lie about their charset.
    if (valid_utf8(in)) {
        add_defect(defects, "text is not " + cs.substr(0, 40) + "; taken as UTF-8");
        return std::string(in);
    }
    add_defect(defects, "text is not " + cs.substr(0, 40) + "; taken as windows-1252");
    return windows1252_to_utf8(in);
}

std::string decode_header_text(std::string_view value, Defects& defects,
                               std::string_view fallback_charset) {
    if (value.find("=?") == std::string_view::npos && is_ascii(value)) return std::string(value);
    // Segments: plain text, or the decoded bytes of an encoded-word with its charset.
    std::string out;
    std::string pending_bytes, pending_charset;  // run of adjacent encoded-words
    std::string pending_space;                   // white space after the last encoded-word
    auto flush = [&] {
        if (!pending_charset.empty() || !pending_bytes.empty())
            out += to_utf8(pending_bytes, pending_charset, defects);
        pending_bytes.clear();
        pending_charset.clear();
    };
    auto plain = [&](std::string_view text) {
        if (text.empty()) return;
        flush();
        out += pending_space;
        pending_space.clear();
        if (is_ascii(text) || valid_utf8(text)) {
            out.append(text);
        } else {
            add_defect(defects, "8-bit header text in unknown charset");
            out += to_utf8(text, fallback_charset, defects);
        }
    };

    std::size_t i = 0;
    bool last_was_word = false;
    while (i < value.size()) {
        auto start = value.find("=?", i);
        if (start == std::string_view::npos) {
            plain(value.substr(i));
            break;
        }
        // =?charset?enc?text?=
        auto q1 = value.find('?', start + 2);
        auto q2 = q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
        auto end = q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
        bool well_formed = end != std::string_view::npos && q2 == q1 + 2 && q1 > start + 2;
        if (well_formed) {
            auto enc = lower(value[q1 + 1]);
            auto text = value.substr(q2 + 1, end - q2 - 1);
            well_formed = (enc == 'q' || enc == 'b') && text.find(' ') == std::string_view::npos;
        }
        if (!well_formed) {
            plain(value.substr(i, start + 2 - i));
            last_was_word = false;
            i = start + 2;
            continue;
        }
        auto between = value.substr(i, start - i);
        bool only_space = std::all_of(between.begin(), between.end(),
                                      [](char c) { return c == ' ' || c == '\t'; });
        if (last_was_word && only_space) {
            // RFC 2047 §6.2: white space between adjacent encoded-words is dropped.
        } else {
            plain(between);
            if (!between.empty()) last_was_word = false;
        }
        std::string charset(value.substr(start + 2, q1 - start - 2));
        if (auto star = charset.find('*'); star != std::string::npos) charset.resize(star);  // RFC 2231 language
        charset = canonical_charset(charset);
        char enc = lower(value[q1 + 1]);
        auto text = value.substr(q2 + 1, end - q2 - 1);
        std::string bytes;
        if (enc == 'b') {
            bytes = decode_base64(text, defects);
        } else {
            for (std::size_t k = 0; k < text.size(); ++k) {
                if (text[k] == '_') bytes += ' ';
                else if (text[k] == '=' && k + 2 < text.size() && hex_value(text[k + 1]) >= 0 &&
                         hex_value(text[k + 2]) >= 0) {
                    bytes += static_cast<char>(hex_value(text[k + 1]) * 16 + hex_value(text[k + 2]));
                    k += 2;
                } else {
                    bytes += text[k];
                }
            }
        }
        if (!pending_charset.empty() && pending_charset != charset) flush();
        pending_charset = charset;
        pending_bytes += bytes;
        pending_space.clear();
        last_was_word = true;
        i = end + 2;
    }
    flush();
    return out;
}

HeaderParams parse_header_params(std::string_view value, Defects& defects) {
    HeaderParams hp;
    std::size_t i = 0;
    auto skip_ws = [&] {
        while (i < value.size()) {
            if (std::isspace(static_cast<unsigned char>(value[i]))) {
                ++i;
            } else if (value[i] == '(') {  // RFC 5322 comment, possibly nested
                int depth = 0;
                for (; i < value.size(); ++i) {
                    if (value[i] == '\\') { ++i; continue; }
                    if (value[i] == '(') ++depth;
                    if (value[i] == ')' && --depth == 0) { ++i; break; }
                }
            } else {
                break;
            }
        }
    };
    skip_ws();
    auto semi = value.find(';', i);
    std::string main(value.substr(i, semi == std::string_view::npos ? std::string_view::npos : semi - i));
    while (!main.empty() && std::isspace(static_cast<unsigned char>(main.back()))) main.pop_back();
    if (auto paren = main.find('('); paren != std::string::npos) {
        main.resize(paren);
        while (!main.empty() && std::isspace(static_cast<unsigned char>(main.back()))) main.pop_back();
    }
    hp.value = to_lower_ascii(main);
    if (semi == std::string_view::npos) return hp;
    i = semi + 1;

    struct Section {
        std::string text;
        bool extended;  // name*N* or name*: percent-encoded, first section carries charset
    };
    std::map<std::string, std::map<int, Section>> continued;
    int params_seen = 0;
    while (i < value.size()) {
        skip_ws();
        if (i < value.size() && value[i] == ';') { ++i; continue; }
        auto name_start = i;
        while (i < value.size() && value[i] != '=' && value[i] != ';' &&
               !std::isspace(static_cast<unsigned char>(value[i])))
            ++i;
        std::string name = to_lower_ascii(value.substr(name_start, i - name_start));
        skip_ws();
        if (i >= value.size() || value[i] != '=') {
            if (!name.empty()) add_defect(defects, "header parameter without a value");
            while (i < value.size() && value[i] != ';') ++i;
            continue;
        }
        ++i;  // '='
        skip_ws();
        std::string val;
        if (i < value.size() && value[i] == '"') {
            bool closed = false;
            val = read_quoted_string(value, i, closed);
            if (!closed) add_defect(defects, "unterminated quoted header parameter");
        } else {
            auto vs = i;
            while (i < value.size() && value[i] != ';') ++i;
            val = std::string(value.substr(vs, i - vs));
            while (!val.empty() && std::isspace(static_cast<unsigned char>(val.back()))) val.pop_back();
        }
        if (name.empty() || ++params_seen > 256) continue;
        // RFC 2231: name*, name*0, name*0*, name*1 …
        auto star = name.find('*');
        if (star == std::string::npos) {
            // Encoded-words (Outlook's name="=?utf-8?B?...?=") and raw 8-bit bytes in a legacy
            // charset are decoded like any header text; raw UTF-8 stays as it is.
            if (val.find("=?") != std::string::npos || !valid_utf8(val)) val = decode_header_text(val, defects);
            if (!hp.params.count(name)) hp.params[name] = val;
            continue;
        }
        std::string base = name.substr(0, star);
        std::string rest = name.substr(star + 1);
        bool extended = !rest.empty() && rest.back() == '*';
        if (extended) rest.pop_back();
        if (rest.empty()) {
            extended = true;  // "name*=" is a single extended section
            rest = "0";
        }
        int index = 0;
        if (!std::all_of(rest.begin(), rest.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
            rest.size() > 3) {
            add_defect(defects, "malformed RFC 2231 parameter name");
            continue;
        }
        index = std::stoi(rest);
        continued[base][index] = Section{val, extended};
    }
    for (auto& [base, sections] : continued) {
        std::string charset, bytes;
        int expect = 0;
        for (auto& [index, sec] : sections) {
            if (index != expect++) {
                add_defect(defects, "RFC 2231 continuation gap in '" + base + "'");
                break;
            }
            std::string text = sec.text;
            if (sec.extended && index == 0) {
                // charset'language'percent-encoded
                auto a = text.find('\'');
                auto b = a == std::string::npos ? a : text.find('\'', a + 1);
                if (b != std::string::npos) {
                    charset = text.substr(0, a);
                    text = text.substr(b + 1);
                } else {
                    add_defect(defects, "RFC 2231 value without charset");
                }
            }
            if (sec.extended) {
                for (std::size_t k = 0; k < text.size(); ++k) {
                    if (text[k] == '%' && k + 2 < text.size() && hex_value(text[k + 1]) >= 0 &&
                        hex_value(text[k + 2]) >= 0) {
                        bytes += static_cast<char>(hex_value(text[k + 1]) * 16 + hex_value(text[k + 2]));
                        k += 2;
                    } else {
                        bytes += text[k];
                    }
                }
            } else {
                bytes += text;
            }
        }
        // RFC 2231 values take precedence over plain ones of the same name.
        hp.params[base] = to_utf8(bytes, charset.empty() ? "utf-8" : charset, defects);
    }
    return hp;
}

}  // namespace casemail::mime
