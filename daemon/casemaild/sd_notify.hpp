// systemd's notify protocol (sd_notify(3)) without libsystemd: one datagram per state change
// to $NOTIFY_SOCKET ("READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1", "RELOADING=1").
// Outside systemd ($NOTIFY_SOCKET unset) every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace casemail::casemaild {

// Sends `state`; false when there is no socket or the send failed (never fatal).
bool sd_notify(std::string_view state);

// Half of $WATCHDOG_USEC when the watchdog is on for this process (WATCHDOG_PID unset or ours).
std::optional<std::chrono::microseconds> watchdog_ping_interval();

}  // namespace casemail::casemaild
