// Case tracking tokens: "<prefix>-<6+ digit sequence>-<4 chars of A-Z0-9>", e.g. 311-000042-K7QX.
//
// The sequence makes tokens readable and sortable; the random suffix makes them hard to guess,
// so a citizen cannot attach mail to someone else's case by trying neighbouring numbers.
// Pure functions: randomness is passed in by the caller (the store draws it from the OS).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace casemail::matching {

inline constexpr std::size_t token_suffix_length = 4;
inline constexpr std::size_t token_min_digits = 6;
inline constexpr std::string_view token_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

// A prefix is 1-16 characters of A-Z, 0-9; it may not contain '-'.
bool valid_token_prefix(std::string_view prefix);

// Builds the token; each byte of `random` is reduced onto the alphabet without modulo bias
// by the caller drawing from uniform bytes < 252 (see store::draw_token_suffix).
std::string format_token(std::string_view prefix, std::uint64_t sequence,
                         const std::array<unsigned char, token_suffix_length>& random);

struct TokenParts {
    std::string prefix;
    std::uint64_t sequence = 0;
    std::string suffix;
};

// Parses exactly one whole token (case-insensitive; returned upper-cased) or nothing.
std::optional<TokenParts> parse_token(std::string_view text);

}  // namespace casemail::matching
