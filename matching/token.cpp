#include "matching/token.hpp"

#include <cctype>
#include <fmt/format.h>

namespace casemail::matching {

bool valid_token_prefix(std::string_view prefix) {
    if (prefix.empty() || prefix.size() > 16) return false;
    for (char ch : prefix) {
        auto c = static_cast<unsigned char>(ch);
        if (!(std::isdigit(c) || (c >= 'A' && c <= 'Z'))) return false;
    }
    return true;
}

std::string format_token(std::string_view prefix, std::uint64_t sequence,
                         const std::array<unsigned char, token_suffix_length>& random) {
    std::string suffix;
    for (unsigned char r : random) suffix += token_alphabet[r % token_alphabet.size()];
    return fmt::format("{}-{:0{}}-{}", prefix, sequence, token_min_digits, suffix);
}

std::optional<TokenParts> parse_token(std::string_view text) {
    auto first = text.find('-');
    auto last = text.rfind('-');
    if (first == std::string_view::npos || first == last) return std::nullopt;
    TokenParts parts;
    for (char ch : text.substr(0, first))
        parts.prefix += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (!valid_token_prefix(parts.prefix)) return std::nullopt;
    auto digits = text.substr(first + 1, last - first - 1);
    if (digits.size() < token_min_digits || digits.size() > 18) return std::nullopt;
    for (char ch : digits) {
        if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
        parts.sequence = parts.sequence * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    auto suffix = text.substr(last + 1);
    if (suffix.size() != token_suffix_length) return std::nullopt;
    for (char ch : suffix) {
        auto c = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (token_alphabet.find(c) == std::string_view::npos) return std::nullopt;
        parts.suffix += c;
    }
    return parts;
}

}  // namespace casemail::matching
