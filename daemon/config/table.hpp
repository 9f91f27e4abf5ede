// The settings table (internal to daemon/config/): every key with its type, default, bounds,
// one line of help and the function that stores a checked value into the Config.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/config/config.hpp"

namespace casemail::config::detail {

using Seconds = std::chrono::seconds;
using Value = std::variant<std::string, bool, std::int64_t, Seconds, std::vector<std::string>>;

enum class Type { string, path, boolean, integer, duration, list };

// Where a setting's value goes: the config, or the [[mailbox]], [[route]], [[sla]],
// [[workorder]] or [[open311_service]] being read.
struct Target {
    Config& cfg;
    MailboxConfig* mailbox;
    matching::RouteRule* route = nullptr;
    matching::sla::SlaPolicy* sla = nullptr;
    WorkorderConfig* workorder = nullptr;
    Open311Service* service = nullptr;
};

// Stores a value of the setting's type, already inside its bounds (relative paths already
// resolved); returns what else is wrong with it, or "".
using Apply = std::string (*)(Target&, const Value&);

struct Setting {
    std::string_view section;  // "mailbox", "route", "sla", "workorder": every [[...]] of that name
    std::string_view name;
    Type type;
    std::string_view default_text;
    std::int64_t min = 0, max = 0;  // integer bounds; a duration's least number of seconds
    std::string_view help;
    Apply apply;
};

// A value's contents, by the setting's type.
inline const std::string& text(const Value& v) { return std::get<std::string>(v); }
inline bool flag(const Value& v) { return std::get<bool>(v); }
inline std::int64_t number(const Value& v) { return std::get<std::int64_t>(v); }
inline Seconds duration(const Value& v) { return std::get<Seconds>(v); }
inline const std::vector<std::string>& list(const Value& v) { return std::get<std::vector<std::string>>(v); }

const char* type_name(Type t);
// Every setting, in the order of the README and examples/casemail.toml.
const std::vector<Setting>& table();

}  // namespace casemail::config::detail
