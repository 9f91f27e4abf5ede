#include "daemon/common/log.hpp"

#include <fmt/chrono.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "mime/printable.hpp"

namespace casemail::common {

std::string describe(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

std::string log_fields(std::initializer_list<std::pair<std::string_view, std::string>> fields) {
    std::string out;
    for (const auto& [key, raw] : fields) {
        std::string value = mime::printable(raw, 400);
        bool quote = value.empty() || value.find_first_of(" \"=") != std::string::npos;
        if (!out.empty()) out += ' ';
        out += key;
        out += '=';
        if (!quote) {
            out += value;
            continue;
        }
        out += '"';
        for (char c : value) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out;
}

namespace {

std::string now_iso() {
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", secs);
}

}  // namespace

void log_line(const std::string& line) {
    static std::mutex mu;
    static const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
    std::lock_guard lock(mu);
    if (journald)
        std::fprintf(stderr, "%s\n", line.c_str());
    else
        std::fprintf(stderr, "%s casemaild: %s\n", now_iso().c_str(), line.c_str());
    std::fflush(stderr);
}

}  // namespace casemail::common
