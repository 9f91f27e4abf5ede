// SHA-256 for message and attachment fingerprints (idempotency keys, attachment dedup).
#pragma once

#include <string>
#include <string_view>

namespace casemail::mime {

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace casemail::mime
