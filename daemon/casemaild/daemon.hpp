// casemaild: polls every configured 311 mailbox over IMAP and runs each message through the
// inbound pipeline (see poller.hpp), on one Boost.Asio event loop.
//
// The loop owns the timers (poll interval, capped exponential backoff with jitter per failing
// mailbox, systemd watchdog) and the signals: SIGTERM/SIGINT stop after the current message is
// committed (transfers in flight are aborted; nothing uncommitted was acknowledged), SIGHUP
// reloads and revalidates the config (a bad config is logged and the old one kept). Each poll
// runs on a worker thread with its own store connection and IMAP session, so a mailbox whose
// server hangs or refuses the login never holds up the others.
#pragma once

#include <string>

namespace casemail::casemaild {

struct DaemonOptions {
    std::string config_path;
    bool once = false;  // poll every mailbox once, then exit (cron, tests)
};

// Returns the exit code: 0, or 1 when --once saw a mailbox fail (or setup failed).
int run_daemon(const DaemonOptions& options);

}  // namespace casemail::casemaild
