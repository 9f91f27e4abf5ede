#include "mime/digest.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace casemail::mime {

std::string sha256_hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
        throw std::logic_error("EVP_Digest(sha256) failed");  // only on a broken libcrypto
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(2 * len, '0');
    for (unsigned int i = 0; i < len; ++i) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    return out;
}

}  // namespace casemail::mime
