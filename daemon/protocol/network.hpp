// IP networks for the relay's trust list ("127.0.0.0/8", "::1/128", "10.1.2.3"). Pure: text
// in, values out, with inet_pton(3); no sockets.
#pragma once

#include <string>
#include <vector>

#include "mime/result.hpp"

namespace casemail::protocol {

struct Network {
    std::vector<unsigned char> base;  // 4 or 16 bytes
    int prefix = 0;
    bool operator==(const Network&) const = default;
};

// "127.0.0.0/8", "::1/128", "10.1.2.3" (a host). The reason quotes the text, made printable.
Result<Network> parse_network(const std::string& text);

// `address` as text ("127.0.0.1"; "::ffff:10.0.0.1" counts as 10.0.0.1) in one of `networks`.
bool in_networks(const std::string& address, const std::vector<Network>& networks);

}  // namespace casemail::protocol
