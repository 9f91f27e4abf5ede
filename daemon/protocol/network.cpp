#include "daemon/protocol/network.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>

#include "mime/printable.hpp"

namespace casemail::protocol {
namespace {

// The address's bytes: 4 for IPv4, 16 for IPv6; an IPv4-mapped IPv6 address gives its IPv4
// bytes when `unmap` (a client's address, as an IPv6 socket reports IPv4 peers).
std::optional<std::vector<unsigned char>> address_bytes(const std::string& text, bool unmap) {
    std::array<unsigned char, 16> b{};
    if (inet_pton(AF_INET, text.c_str(), b.data()) == 1) return std::vector<unsigned char>(b.begin(), b.begin() + 4);
    if (inet_pton(AF_INET6, text.c_str(), b.data()) != 1) return std::nullopt;
    static constexpr unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (unmap && std::equal(std::begin(v4_mapped), std::end(v4_mapped), b.begin()))
        return std::vector<unsigned char>(b.begin() + 12, b.end());
    return std::vector<unsigned char>(b.begin(), b.end());
}

}  // namespace

Result<Network> parse_network(const std::string& text) {
    auto slash = text.find('/');
    auto bytes = address_bytes(text.substr(0, slash), false);
    if (!bytes) return fail(fmt::format("'{}' is not an IP address or network", mime::printable(text, 60)));
    Network n;
    n.base = std::move(*bytes);
    int max = static_cast<int>(n.base.size() * 8);
    n.prefix = max;
    if (slash != std::string::npos) {
        auto bits = text.substr(slash + 1);
        if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(bits) > max)
            return fail(fmt::format("'{}': prefix length must be 0-{}", mime::printable(text, 60), max));
        n.prefix = std::stoi(bits);
    }
    return n;
}

bool in_networks(const std::string& text, const std::vector<Network>& networks) {
    auto bytes = address_bytes(text, true);
    if (!bytes) return false;
    for (const auto& n : networks) {
        if (n.base.size() != bytes->size()) continue;
        bool match = true;
        for (int bit = 0; bit < n.prefix && match; ++bit) {
            auto mask = static_cast<unsigned char>(0x80 >> (bit % 8));
            match = ((*bytes)[bit / 8] & mask) == (n.base[bit / 8] & mask);
        }
        if (match) return true;
    }
    return false;
}

}  // namespace casemail::protocol
