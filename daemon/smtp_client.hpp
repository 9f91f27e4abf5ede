// Delivery to the upstream smarthost over libcurl SMTP (smtps://, or smtp:// with STARTTLS
// required unless allow_plaintext). One message per call; the outcome says whether a failure
// is permanent (5xx) or worth retrying (4xx, connection, timeout). Never throws for a server
// problem; secrets never appear in an outcome.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "daemon/common/login.hpp"

namespace casemail::daemon {

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

class SmtpUpstream final : public Upstream {
public:
    explicit SmtpUpstream(UpstreamAccount account) : account_(std::move(account)) {}
    DeliveryOutcome send(const std::string& envelope_from, const std::vector<std::string>& envelope_to,
                         const std::string& raw) override;

private:
    UpstreamAccount account_;
};

}  // namespace casemail::daemon
