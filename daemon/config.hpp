// casemail configuration: one struct, loaded and validated once at start.
//
// Source: a TOML file (see examples/casemail.toml for every key and its default). Validation
// reports every problem as "FILE:LINE: key 'a.b': what is wrong" and loading fails when any
// exist; unknown keys are errors too, so a typo never silently falls back to a default.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mime/result.hpp"

namespace casemail::daemon {

struct Config {
    std::string source;                    // file it came from, "" for defaults
    std::string store_path = "casemail.db";
    bool store_path_set = false;           // [store] path given explicitly
    std::string token_prefix = "311";
};

// Loads and validates `path`. On failure the reason lists each bad key with its line.
Result<Config> load_config(const std::string& path);

}  // namespace casemail::daemon
