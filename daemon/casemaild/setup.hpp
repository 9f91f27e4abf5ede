// casemaild's setup: the store it opens, the queues its mailboxes need, what it checks before
// it starts (and with --check-config), and each module's settings made from the config.
#pragma once

#include <string>

#include "daemon/config/config.hpp"
#include "daemon/inbound/ingestor.hpp"
#include "daemon/outbox/acknowledgement.hpp"
#include "daemon/outbox/delivery.hpp"
#include "daemon/outbox/smtp_client.hpp"
#include "daemon/relay/accept.hpp"
#include "store/store.hpp"
#include "store/writer.hpp"

namespace casemail::casemaild {

using config::Config;
using config::MailboxConfig;

// Opened with synchronous=FULL: IMAP acknowledgements and the relay's 250 depend on the commit.
store::Store open_store(const Config& cfg);

// Every mailbox routes to its team queue: created when missing. Refuses a queue name that is
// already bound to another mailbox (the config would silently re-route mail).
Result<bool> ensure_queues(store::Store& s, const Config& cfg);

// What casemaild needs beyond a valid file, checked at its start and by --check-config (the
// admin CLI loads the same config without them): every mailbox's and the upstream's secret
// can be read, the relay's users file parses, the acknowledgement template loads (an
// unknown placeholder names its file and line). Errors name the key, one per line.
Result<bool> check_requirements(const Config& cfg);

inbound::IngestOptions ingest_options(const Config& cfg);
relay::AcceptSettings accept_settings(const Config& cfg);
outbox::RenderSettings render_settings(const Config& cfg);
outbox::DeliverySettings delivery_settings(const Config& cfg);
store::WriterOptions writer_options(const Config& cfg);
// Fails when the upstream secret cannot be read.
Result<outbox::UpstreamAccount> upstream_account(const Config& cfg);

}  // namespace casemail::casemaild
