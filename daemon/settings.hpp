// Transitional glue: the daemon's modules' settings made from the loaded configuration, and
// what casemaild needs beyond a valid file. Moves into the rooms that use it as they form.
#pragma once

#include <string>

#include "daemon/config/config.hpp"
#include "daemon/delivery.hpp"
#include "daemon/outbound.hpp"
#include "daemon/smtp_client.hpp"
#include "daemon/inbound/ingestor.hpp"

namespace casemail::daemon {

using config::Config;
using config::MailboxConfig;
using config::AfterProcessing;

// What casemaild needs beyond a valid file, checked at its start and by --check-config (the
// admin CLI loads the same config without them): every mailbox's and the upstream's secret
// can be read, the relay's users file parses, the acknowledgement template loads (an
// unknown placeholder names its file and line). Errors name the key, one per line.
Result<bool> check_daemon_requirements(const Config& cfg);

// The inbound pipeline's options from the config; `actor` is written to the audit log.
inbound::IngestOptions ingest_options(const Config& cfg, const std::string& actor);

// The relay's and the outbox worker's settings from the config.
OutboundSettings outbound_settings(const Config& cfg);
DeliverySettings delivery_settings(const Config& cfg);
// Fails when the upstream secret cannot be read.
Result<UpstreamAccount> upstream_account(const Config& cfg);

}  // namespace casemail::daemon
