#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/config.hpp"

using namespace casemail::daemon;

namespace {

std::string write_config(const std::string& name, const std::string& text) {
    auto dir = std::filesystem::temp_directory_path() / ("casemail-cfg-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto p = dir / name;
    std::ofstream(p) << text;
    return p.string();
}

}  // namespace

TEST_CASE("config: defaults and relative store path") {
    auto path = write_config("ok.toml", "[store]\npath = \"data/casemail.db\"\n[tracking]\nprefix = \"CITY\"\n");
    auto cfg = load_config(path);
    REQUIRE(cfg);
    CHECK(cfg->token_prefix == "CITY");
    CHECK(cfg->store_path_set);
    CHECK(cfg->store_path == (std::filesystem::path(path).parent_path() / "data/casemail.db").string());
}

TEST_CASE("config errors name the key and the line") {
    SUBCASE("unknown key") {
        auto cfg = load_config(write_config("typo.toml", "[store]\n\npth = \"x.db\"\n"));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("typo.toml:3: key 'store.pth': unknown key") != std::string::npos);
    }
    SUBCASE("wrong type") {
        auto cfg = load_config(write_config("type.toml", "[store]\npath = 5\n"));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("type.toml:2: key 'store.path': must be a string") != std::string::npos);
    }
    SUBCASE("bad prefix") {
        auto cfg = load_config(write_config("prefix.toml", "[tracking]\nprefix = \"3-1\"\n"));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("prefix.toml:2: key 'tracking.prefix'") != std::string::npos);
    }
    SUBCASE("TOML syntax error") {
        auto cfg = load_config(write_config("syntax.toml", "[store\npath = 1\n"));
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("syntax.toml:1:") != std::string::npos);
    }
    SUBCASE("missing file") {
        auto cfg = load_config("/nonexistent/casemail.toml");
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().find("does not exist") != std::string::npos);
    }
}
