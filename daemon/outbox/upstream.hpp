// The upstream smarthost as the delivery run sees it: one message per call, and an outcome
// that says whether a failure is permanent (5xx) or worth retrying (4xx, connection, timeout).
// SmtpUpstream (smtp_client.hpp) is the real one; the unit tests use a fake.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "daemon/common/login.hpp"

namespace casemail::outbox {

struct UpstreamAccount {
    common::ServerLogin login;  // smtps://host[:port] or smtp://host[:port]; no user: no AUTH
    std::string helo_name = "casemail";
    std::chrono::seconds timeout{120};
};

struct DeliveryOutcome {
    bool delivered = false;
    bool permanent = false;  // a 5xx answer about the message: retrying will not help
    int code = 0;            // the server's last reply code, 0 when none (connection failure)
    std::string detail;      // for logs and the outbox: what the server or libcurl said
};

// The upstream side of delivery; a fake stands in for it in the unit tests.
class Upstream {
public:
    virtual ~Upstream() = default;
    virtual DeliveryOutcome send(const std::string& envelope_from, const std::vector<std::string>& envelope_to,
                                 const std::string& raw) = 0;
};

}  // namespace casemail::outbox
