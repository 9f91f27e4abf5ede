// Decoders for untrusted content: transfer encodings, charsets, RFC 2047 encoded-words,
// RFC 2231 parameters. Every function returns its best result and appends what it had to
// repair to `defects`; none throws on bad input.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace casemail::mime {

using Defects = std::vector<std::string>;

// Records a repair: cleaned for one line of valid UTF-8 (printable), deduplicated, and capped
// at 64 entries so that the same repair repeated a million times is one defect, not a memory
// bomb. Every defect in casemail goes through here.
void add_defect(Defects& defects, std::string defect);

// RFC 2045 §6.8. Non-alphabet characters are skipped (line breaks silently, others noted);
// a truncated final quantum is decoded as far as it goes.
std::string decode_base64(std::string_view in, Defects& defects);

// RFC 2045 §6.7. Soft line breaks removed; malformed "=XY" escapes are kept literally.
std::string decode_quoted_printable(std::string_view in, Defects& defects);

// Decodes a body by its Content-Transfer-Encoding (case-insensitive; unknown → as is + defect).
std::string decode_transfer(std::string_view body, std::string_view encoding, Defects& defects);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool valid_utf8(std::string_view s);

// Replaces each invalid UTF-8 sequence with U+FFFD.
std::string repair_utf8(std::string_view s);

// Converts `in` from `charset` to UTF-8 with iconv. An empty or unknown charset, or bytes that
// do not fit it, fall back to best effort (UTF-8 if valid, else windows-1252) with a defect.
std::string to_utf8(std::string_view in, std::string_view charset, Defects& defects);

// True when to_utf8() would return `in` unchanged and without a defect because the text is
// already valid for its label (utf-8, or us-ascii): lets a caller keep its buffer.
bool utf8_as_labelled(std::string_view in, std::string_view charset);

// RFC 2047: decodes encoded-words in an unstructured header value (already unfolded).
// Adjacent encoded-words separated only by white space are joined without it, and their bytes
// are joined before charset conversion so a character split between two words survives.
// Raw 8-bit text outside encoded-words is taken as UTF-8 if valid, else as `fallback_charset`.
std::string decode_header_text(std::string_view value, Defects& defects,
                               std::string_view fallback_charset = "windows-1252");

// Content-Type / Content-Disposition value split into its lower-cased type and parameters.
// Parameter names are lower-cased; RFC 2231 continuations (name*0, name*1*) and charset/
// language (name*=utf-8'en'...) are decoded to UTF-8; RFC 2047 words in quoted values too
// (Outlook writes name="=?utf-8?B?...?=").
struct HeaderParams {
    std::string value;  // "text/plain", "attachment" …, lower-cased
    std::map<std::string, std::string> params;
    std::string param(const std::string& name) const {
        auto it = params.find(name);
        return it == params.end() ? std::string() : it->second;
    }
};
HeaderParams parse_header_params(std::string_view value, Defects& defects);

}  // namespace casemail::mime
