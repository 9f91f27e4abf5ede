// What every fuzz target uses: an invariant that aborts (libFuzzer then keeps the input), and
// the two-piece split many targets feed their reader with.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace casemail::fuzz {

inline void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

// Two reads of `input`, split where its first byte says, as a network read may split it.
inline std::pair<std::string_view, std::string_view> split_by_first_byte(std::string_view input) {
    std::size_t cut = input.empty() ? 0 : static_cast<unsigned char>(input[0]) % input.size();
    return {input.substr(0, cut), input.substr(cut)};
}

}  // namespace casemail::fuzz
