#include "daemon/common/login.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace casemail::common {

const char* SecretSource::key() const {
    return !password_file.empty() ? "password_file"
         : !password_env.empty()  ? "password_env"
         : !oauth2_token_file.empty() ? "oauth2_token_file" : "";
}

Result<std::string> read_secret(const SecretSource& source) {
    auto from_file = [](const std::string& file, const char* key) -> Result<std::string> {
        std::ifstream in(file, std::ios::binary);
        if (!in) return fail(fmt::format("{} '{}' cannot be read: {}", key, file, std::strerror(errno)));
        std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
        if (secret.empty()) return fail(fmt::format("{} '{}' is empty", key, file));
        return secret;
    };
    if (!source.password_file.empty()) return from_file(source.password_file, "password_file");
    if (!source.oauth2_token_file.empty()) return from_file(source.oauth2_token_file, "oauth2_token_file");
    if (source.password_env.empty()) return std::string();
    const char* value = std::getenv(source.password_env.c_str());
    if (!value || !*value)
        return fail(fmt::format("environment variable {} (password_env) is not set", source.password_env));
    return std::string(value);
}

}  // namespace casemail::common
