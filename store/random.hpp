// Unguessable bytes from the kernel, for case-token suffixes and Message-IDs. The one place
// casemail calls getrandom(2). Throws std::runtime_error when the kernel cannot supply them
// (a broken system, not a message's fault).
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace casemail::store {

void random_bytes(std::span<unsigned char> out);
// `bytes` random bytes as lower-case hex (2 × bytes characters).
std::string random_hex(std::size_t bytes);

}  // namespace casemail::store
