// Transitional glue: the daemon's modules' settings made from the loaded configuration, and
// what casemaild needs beyond a valid file. Moves into the rooms that use it as they form.
#pragma once

#include <string>

#include "daemon/config/config.hpp"
#include "daemon/inbound/ingestor.hpp"
#include "daemon/outbox/acknowledgement.hpp"
#include "daemon/outbox/delivery.hpp"
#include "daemon/outbox/smtp_client.hpp"
#include "daemon/relay/accept.hpp"

namespace casemail::daemon {

using config::Config;
using config::MailboxConfig;

// What casemaild needs beyond a valid file, checked at its start and by --check-config (the
// admin CLI loads the same config without them): every mailbox's and the upstream's secret
// can be read, the relay's users file parses, the acknowledgement template loads (an
// unknown placeholder names its file and line). Errors name the key, one per line.
Result<bool> check_daemon_requirements(const Config& cfg);

// The inbound pipeline's options from the config; `actor` is written to the audit log.
inbound::IngestOptions ingest_options(const Config& cfg, const std::string& actor);

// The relay's and the outbox worker's settings from the config.
relay::AcceptSettings accept_settings(const Config& cfg);
outbox::RenderSettings render_settings(const Config& cfg);
outbox::DeliverySettings delivery_settings(const Config& cfg);
// Fails when the upstream secret cannot be read.
Result<outbox::UpstreamAccount> upstream_account(const Config& cfg);

}  // namespace casemail::daemon
