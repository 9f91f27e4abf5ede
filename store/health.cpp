#include "store/health.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace casemail::store {
namespace {

std::int64_t count(Store& store, const std::string& sql) {
    auto st = store.db().cached(sql);
    st->step();
    return st->int64(0);
}

// ext4 turned read-only by an error ("emergency_ro") still reports a read-write mount to
// statvfs: only trying to write tells. An unnamed file (O_TMPFILE) is made and dropped.
bool refuses_new_files(const std::filesystem::path& dir) {
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ::close(fd);
        return false;
    }
    return errno == EROFS;
}

}  // namespace

HealthFacts read_health(Store& store) {
    HealthFacts h;
    h.mailboxes = all_mailbox_states(store);
    h.outbox_pending = count(store, "SELECT count(*) FROM outbox WHERE status = 'pending'");
    h.outbox_held = count(store, "SELECT count(*) FROM outbox WHERE status = 'held'");
    h.outbox_failed = count(store, "SELECT count(*) FROM outbox WHERE status = 'failed'");
    auto recent = store.db().cached("SELECT count(*) FROM outbox WHERE status = 'failed' AND created_at >= ?1");
    recent->bind(1, format_time(store.now() - std::chrono::hours(24)));
    recent->step();
    h.outbox_failed_recent = recent->int64(0);
    auto oldest = store.db().cached("SELECT min(created_at) FROM outbox WHERE status = 'pending'");
    if (oldest->step()) h.oldest_pending_at = oldest->opt_text(0);
    h.quarantined = count(store, "SELECT count(*) FROM quarantine WHERE released_at IS NULL");
    h.review_parties = count(store, "SELECT count(*) FROM email_party WHERE resolved = 0 AND candidate_count >= 2");
    h.review_emails = count(store, "SELECT count(*) FROM email WHERE review_reason IS NOT NULL");
    std::error_code ec;
    const auto& path = store.db().path();
    for (const char* suffix : {"", "-wal"})
        if (auto size = std::filesystem::file_size(path + suffix, ec); !ec) h.store_bytes += static_cast<std::int64_t>(size);
    struct statvfs fs {};
    if (::statvfs(path.c_str(), &fs) == 0) {
        h.disk_free_bytes = static_cast<std::int64_t>(fs.f_bavail) * static_cast<std::int64_t>(fs.f_frsize);
        h.disk_total_bytes = static_cast<std::int64_t>(fs.f_blocks) * static_cast<std::int64_t>(fs.f_frsize);
        h.read_only = (fs.f_flag & ST_RDONLY) != 0;
    }
    if (!h.read_only) h.read_only = refuses_new_files(std::filesystem::path(path).parent_path());
    return h;
}

std::vector<StandingAlarm> standing_alarms(Store& store) {
    std::vector<StandingAlarm> out;
    auto st = store.db().cached("SELECT name, severity, reason, raised_at, mailed_at FROM alarm ORDER BY name");
    while (st->step()) out.push_back({st->text(0), st->text(1), st->text(2), st->text(3), st->opt_text(4)});
    return out;
}

void put_alarm(Store& store, const StandingAlarm& a) {
    auto st = store.db().cached(
        "INSERT OR REPLACE INTO alarm(name, severity, reason, raised_at, mailed_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    st->bind_all(a.name, a.severity, a.reason, a.raised_at, a.mailed_at);
    st->run();
}

void clear_alarm(Store& store, const std::string& name) {
    auto st = store.db().cached("DELETE FROM alarm WHERE name = ?1");
    st->bind(1, name);
    st->run();
}

void mark_alarm_mailed(Store& store, const std::string& name) {
    auto st = store.db().cached("UPDATE alarm SET mailed_at = ?2 WHERE name = ?1");
    st->bind_all(name, store.now_text());
    st->run();
}

}  // namespace casemail::store
