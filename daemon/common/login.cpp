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
         : !oauth2_token_file.empty() ? "oauth2_token_file"
         : oauth2.configured()        ? "oauth2_client_id" : "";
}

std::string microsoft_token_url(std::string_view tenant) {
    return fmt::format("https://login.microsoftonline.com/{}/oauth2/v2.0/token", tenant);
}

Result<std::string> read_secret_file(const std::string& file, const char* key) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail(fmt::format("{} '{}' cannot be read: {}", key, file, std::strerror(errno)));
    std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) return fail(fmt::format("{} '{}' is empty", key, file));
    return secret;
}

Result<std::string> read_secret(const SecretSource& source) {
    auto from_file = read_secret_file;
    if (!source.password_file.empty()) return from_file(source.password_file, "password_file");
    if (!source.oauth2_token_file.empty()) return from_file(source.oauth2_token_file, "oauth2_token_file");
    if (source.oauth2.configured()) {
        const auto& o = source.oauth2;
        if (!o.client_secret_file.empty())
            if (auto s = from_file(o.client_secret_file, "oauth2_client_secret_file"); !s) return s;
        if (!o.refresh_token_file.empty())
            if (auto s = from_file(o.refresh_token_file, "oauth2_refresh_token_file"); !s) return s;
        return std::string();
    }
    if (source.password_env.empty()) return std::string();
    const char* value = std::getenv(source.password_env.c_str());
    if (!value || !*value)
        return fail(fmt::format("environment variable {} (password_env) is not set", source.password_env));
    return std::string(value);
}

}  // namespace casemail::common
