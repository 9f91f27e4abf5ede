// Delivery to the upstream smarthost over libcurl SMTP (smtps://, or smtp:// with STARTTLS
// required unless allow_plaintext). Never throws for a server problem; secrets never appear in
// an outcome.
#pragma once

#include <string>
#include <vector>

#include "daemon/outbox/upstream.hpp"

namespace casemail::outbox {

class SmtpUpstream final : public Upstream {
public:
    explicit SmtpUpstream(UpstreamAccount account) : account_(std::move(account)) {}
    DeliveryOutcome send(const std::string& envelope_from, const std::vector<std::string>& envelope_to,
                         const std::string& raw) override;

private:
    UpstreamAccount account_;
};

}  // namespace casemail::outbox
