// The `casemail` admin CLI. run_cli() parses arguments, runs one command and returns the
// process exit code: 0 success, 1 operation failed (environment, unparseable input),
// 2 bad request (usage, unknown token, invalid address, store path problems).
#pragma once

#include <iosfwd>

namespace casemail::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_bad_request = 2;

int run_cli(int argc, char** argv);

}  // namespace casemail::cli
