// What `casemail status` and casemaild's alarms look at: the mailboxes' polling state, the
// outbox, quarantine and review backlogs, the store's size and the free space under it; and the
// alarms standing (one row per alarm, so a restart neither forgets nor repeats them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/mailbox_state.hpp"
#include "store/store.hpp"

namespace casemail::store {

struct HealthFacts {
    std::vector<MailboxState> mailboxes;
    std::int64_t outbox_pending = 0, outbox_held = 0, outbox_failed = 0;
    std::int64_t outbox_failed_recent = 0;            // failed, created within the last day
    std::optional<std::string> oldest_pending_at;     // the oldest pending outbox entry
    std::int64_t quarantined = 0;                     // not released by a retry
    std::int64_t review_parties = 0, review_emails = 0;
    std::int64_t store_bytes = 0;                     // the file and its WAL
    std::int64_t disk_free_bytes = 0, disk_total_bytes = 0;  // of the store's file system
    bool read_only = false;  // the store's file system is mounted read-only (ext4 after an error)
};
HealthFacts read_health(Store& store);

struct StandingAlarm {
    std::string name, severity, reason, raised_at;
    std::optional<std::string> mailed_at;
};
std::vector<StandingAlarm> standing_alarms(Store& store);
void put_alarm(Store& store, const StandingAlarm& alarm);  // insert or replace
void clear_alarm(Store& store, const std::string& name);
void mark_alarm_mailed(Store& store, const std::string& name);

}  // namespace casemail::store
