// OAuth2 token endpoint answers (RFC 6749 5.1 and 5.2, and what Microsoft Entra sends).
#include <doctest/doctest.h>

#include "daemon/common/oauth2.hpp"

using namespace casemail::common;

TEST_CASE("oauth2: a token, a rotated refresh token, and the endpoint's refusals") {
    auto ok = parse_token_response(200, R"({"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0"})");
    REQUIRE(ok);
    CHECK(ok->access_token == "eyJ0");
    CHECK(ok->expires_in == std::chrono::seconds(3599));
    CHECK_FALSE(ok->refresh_token);
    auto rotated = parse_token_response(200, R"({"access_token":"a","expires_in":"60","refresh_token":"r2"})");
    REQUIRE(rotated);
    CHECK(rotated->expires_in == std::chrono::seconds(60));
    CHECK(rotated->refresh_token == "r2");
    CHECK(parse_token_response(200, R"({"access_token":"a"})")->expires_in == std::chrono::seconds(3600));
    CHECK(parse_token_response(200, R"({"access_token":"a","expires_in":0})")->expires_in == std::chrono::seconds(60));

    auto refused = parse_token_response(
        401, R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1"})");
    REQUIRE_FALSE(refused);
    CHECK(refused.error() ==
          "token endpoint refused (HTTP 401): invalid_client: AADSTS7000215: Invalid client secret provided.??Trace ID: 1");  // controls made visible
    CHECK(parse_token_response(400, R"({"error":"invalid_grant"})").error() ==
          "token endpoint refused (HTTP 400): invalid_grant");
    CHECK(parse_token_response(502, "<html>Bad gateway</html>").error() ==
          "token endpoint answered HTTP 502 without a JSON object");
    CHECK(parse_token_response(200, R"({"token_type":"Bearer"})").error() == "token endpoint answered without an access_token");
    CHECK(parse_token_response(200, R"(["a"])").error() == "token endpoint answered HTTP 200 without a JSON object");
    CHECK(microsoft_token_url("contoso.onmicrosoft.com") ==
          "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
}
