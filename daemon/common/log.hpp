// casemaild's log: one line per event, `key=value` fields (Postfix style: keyed by mailbox and
// UID, fields not prose). Values are untrusted text made printable (no CR/LF can forge a line)
// and quoted when they hold spaces. Passwords, tokens and message bodies are never passed here.
#pragma once

#include <exception>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace casemail::common {

// Where a component writes its log lines (log_line in the daemon, a vector in tests).
using LogLine = std::function<void(const std::string&)>;

std::string log_fields(std::initializer_list<std::pair<std::string_view, std::string>> fields);

// Writes one line to stderr (journald adds the time; without it, an ISO time is prepended).
// Thread-safe.
void log_line(const std::string& line);

// What a caught exception says, for a log line ("unknown error" when it is not a std::exception).
std::string describe(std::exception_ptr error);

}  // namespace casemail::common
