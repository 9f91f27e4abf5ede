// A store on a fresh file in a temporary directory (WAL needs a real file), removed after.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace casemail::test {

struct TempDir {
    std::filesystem::path dir;
    TempDir() {
        static int counter = 0;
        dir = std::filesystem::temp_directory_path() /
              ("casemail-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::create_directories(dir);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::string file(const std::string& name) const { return (dir / name).string(); }
};

}  // namespace casemail::test
