// casemail configuration: one struct, loaded and validated once at start.
//
// Source: a TOML file (see examples/casemail.toml for every key and its default). Validation
// reports every problem as "FILE:LINE: key 'a.b': what is wrong" and loading fails when any
// exist; unknown keys are errors too, so a typo never silently falls back to a default.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "matching/ingest.hpp"
#include "mime/message.hpp"
#include "mime/result.hpp"

namespace casemail::daemon {

struct Config {
    std::string source;                    // file it came from, "" for defaults
    std::string store_path = "casemail.db";
    bool store_path_set = false;           // [store] path given explicitly
    std::string token_prefix = "311";
    // [tracking] message_id_domain: the domain of every Message-ID casemail writes; mail
    // carrying it is ours coming back (a loop) and never opens a case.
    std::string message_id_domain = "casemail.invalid";
    // [ingest]
    std::chrono::seconds resolved_window = std::chrono::hours(24 * 14);
    matching::OnResolved on_resolved = matching::OnResolved::link;
    bool auto_ack = true;
    int ack_limit_per_hour = 3;
    std::vector<std::string> blocked_extensions;  // empty: the built-in list
    // [limits]
    mime::Limits limits;
};

// "14d", "12h", "30m", "45s" or a bare number of seconds.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// Loads and validates `path`. On failure the reason lists each bad key with its line.
Result<Config> load_config(const std::string& path);

}  // namespace casemail::daemon
