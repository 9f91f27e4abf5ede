// Alarms: what is wrong with a running casemail, decided from the facts store/health.hpp reads.
// Severities follow the Nagios convention `casemail status --check` exits with (0 ok, 1 warning,
// 2 critical). evaluate_alarms() is pure; watch_alarms() records changes in the store and
// queues the mail to [alerts] to, at most once per alarm per repeat.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "store/health.hpp"

namespace casemail::health {

enum class Severity { ok = 0, warning = 1, critical = 2 };
std::string_view name(Severity s);

struct Alarm {
    std::string name;  // "mailbox-failing:311dwp@city.example", "outbox-stuck", ...
    Severity severity = Severity::warning;
    std::string reason;
};

struct AlarmRules {
    std::chrono::seconds failing_critical_after{15 * 60};  // a failing mailbox: warning, then critical
    std::map<std::string, std::chrono::seconds> expect_mail_within;  // by normalised mailbox; absent: off
    std::chrono::seconds outbox_age{3600};                 // the oldest pending entry waits longer
    std::int64_t review_warning = 100;                     // review items (parties + emails)
    int disk_free_warning_percent = 10, disk_free_critical_percent = 2;
};

std::vector<Alarm> evaluate_alarms(const store::HealthFacts& facts, const AlarmRules& rules,
                                   std::chrono::system_clock::time_point now);
Severity worst(const std::vector<Alarm>& alarms);

struct AlertMail {
    std::vector<std::string> to;
    std::string from;
    std::string message_id_domain = "casemail.invalid";
    std::chrono::seconds repeat{6 * 3600};
};

// The rules and the mail as configured ([alerts], each [[mailbox]]'s expect_mail_within).
AlarmRules alarm_rules(const config::Config& cfg);
AlertMail alert_mail(const config::Config& cfg);

// One change, for the log.
struct AlarmChange {
    Alarm alarm;
    bool raised = true;   // false: cleared
    bool repeat = false;  // still standing, mailed again after `repeat`: not a change to log
    bool mailed = false;
};

// Evaluates `facts` (read_health of the same store), compares with the alarms standing in it, records the changes and queues the
// mail (a raised or changed alarm at once; a standing one again after `repeat`; a cleared one
// once). Runs inside the caller's transaction.
std::vector<AlarmChange> watch_alarms(store::Store& s, const store::HealthFacts& facts, const AlarmRules& rules,
                                      const AlertMail& mail, std::chrono::system_clock::time_point now);

}  // namespace casemail::health
