#include "daemon/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "mime/printable.hpp"
#include "store/store.hpp"

namespace casemail::daemon {

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

void log_line(const std::string& line) {
    static std::mutex mu;
    static const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
    std::lock_guard lock(mu);
    if (journald)
        std::fprintf(stderr, "%s\n", line.c_str());
    else
        std::fprintf(stderr, "%s casemaild: %s\n", store::format_time(std::chrono::system_clock::now()).c_str(),
                     line.c_str());
    std::fflush(stderr);
}

}  // namespace casemail::daemon
