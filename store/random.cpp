#include "store/random.hpp"

#include <sys/random.h>

#include <fmt/format.h>

#include <cerrno>
#include <stdexcept>
#include <vector>

namespace casemail::store {

void random_bytes(std::span<unsigned char> out) {
    std::size_t filled = 0;
    while (filled < out.size()) {
        ssize_t n = ::getrandom(out.data() + filled, out.size() - filled, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(fmt::format("getrandom failed: errno {}", errno));
        }
        filled += static_cast<std::size_t>(n);
    }
}

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> raw(bytes);
    random_bytes(raw);
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned char c : raw) out += fmt::format("{:02x}", c);
    return out;
}

}  // namespace casemail::store
