// casemail init | settings | status | backup | check: the store itself, the configuration,
// casemaild's state, a consistent copy of the store and its integrity.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "daemon/cli/context.hpp"
#include "daemon/cli/json_views.hpp"
#include "daemon/health/alarms.hpp"
#include "mime/printable.hpp"
#include "store/backup.hpp"
#include "store/health.hpp"
#include "store/mailbox_state.hpp"

namespace casemail::cli {
namespace {

int init(Context& ctx) {
    auto& s = ctx.store(true);
    std::cout << fmt::format("store {} ready (schema version {})\n", s.db().path(), s.schema_version());
    return exit_ok;
}

// The config module's settings table, as text, JSON or the README's Markdown.
int settings(Context& ctx, bool markdown) {
    auto rows = config::settings_reference();
    if (ctx.json()) {
        print(json_array(rows, [](const config::SettingInfo& r) {
            return nlohmann::json{{"key", r.key}, {"type", r.type}, {"default", r.default_text}, {"bounds", r.bounds},
                                  {"help", r.help}};
        }));
        return exit_ok;
    }
    if (markdown) std::cout << "| key | type | default | meaning |\n| --- | --- | --- | --- |\n";
    for (const auto& r : rows) {
        auto type = r.bounds.empty() ? r.type : fmt::format("{} ({})", r.type, r.bounds);
        auto shown = r.default_text.starts_with("(") ? r.default_text : "`" + r.default_text + "`";
        if (markdown) std::cout << fmt::format("| `{}` | {} | {} | {} |\n", r.key, type, shown, r.help);
        else std::cout << fmt::format("{:<34} {:<22} {:<20} {}\n", r.key, type, r.default_text, r.help);
    }
    return exit_ok;
}

std::string mailbox_line(const store::MailboxState& m) {
    return fmt::format("{:<32} {:<10} last poll {}  {}  processed {}  backlog {}{}{}", m.mailbox, m.folder,
                       m.last_poll_at.value_or("never"),
                       m.failures ? fmt::format("FAILING since {} ({}x): {}", m.failing_since.value_or("?"), m.failures,
                                                m.last_error.value_or(""))
                                  : std::string("ok"),
                       m.processed, m.backlog ? std::to_string(*m.backlog) : "?",
                       m.pending_acks ? fmt::format("  ({} awaiting server ack)", m.pending_acks) : "",
                       m.last_mail_at ? "  last mail " + *m.last_mail_at : "");
}

nlohmann::json daemon_json(const store::HealthFacts& h) {
    return {{"outbox_pending", h.outbox_pending},
            {"outbox_oldest_pending_at", h.oldest_pending_at ? nlohmann::json(*h.oldest_pending_at) : nullptr},
            {"outbox_held", h.outbox_held},
            {"outbox_failed", h.outbox_failed},
            {"quarantined", h.quarantined},
            {"review_items", h.review_parties + h.review_emails},
            {"store_bytes", h.store_bytes},
            {"disk_free_bytes", h.disk_free_bytes},
            {"disk_total_bytes", h.disk_total_bytes},
            {"store_read_only", h.read_only}};
}

// The mailboxes, the daemon's backlogs and the alarms they raise now. --check: one line and the
// Nagios exit code (0 ok, 1 warning, 2 critical) for existing monitoring.
int status(Context& ctx, bool check) {
    auto& s = ctx.store();
    auto facts = store::read_health(s);
    auto alarms = health::evaluate_alarms(facts, health::alarm_rules(ctx.config()), s.now());
    auto worst = health::worst(alarms);
    if (check) {
        std::string line = fmt::format("CASEMAIL {} - ", health::name(worst));
        if (alarms.empty()) line += fmt::format("{} mailbox(es) polling, outbox {} pending", facts.mailboxes.size(),
                                                facts.outbox_pending);
        for (std::size_t i = 0; i < alarms.size(); ++i)
            line += (i ? "; " : "") + mime::printable(alarms[i].reason, 300);
        std::cout << line << "\n";
        return static_cast<int>(worst);
    }
    if (ctx.json()) {
        print({{"status", health::name(worst)},
               {"mailboxes", json_array(facts.mailboxes, mailbox_state_json)},
               {"daemon", daemon_json(facts)},
               {"alarms", json_array(alarms, [](const health::Alarm& a) {
                    return nlohmann::json{{"name", a.name}, {"severity", health::name(a.severity)}, {"reason", a.reason}};
                })}});
        return exit_ok;
    }
    for (const auto& m : facts.mailboxes) std::cout << mailbox_line(m) << "\n";
    std::cout << fmt::format("outbox: {} pending{}, {} held, {} failed; quarantine {}; review items {}; store {} MB, "
                             "{} MB free\n",
                             facts.outbox_pending, facts.oldest_pending_at ? " (oldest " + *facts.oldest_pending_at + ")" : "",
                             facts.outbox_held, facts.outbox_failed, facts.quarantined,
                             facts.review_parties + facts.review_emails, facts.store_bytes >> 20, facts.disk_free_bytes >> 20);
    std::cout << fmt::format("status {}\n", health::name(worst));
    for (const auto& a : alarms) std::cout << fmt::format("  {} {}: {}\n", health::name(a.severity), a.name, a.reason);
    return exit_ok;
}

struct BackupOptions {
    std::string file;
    bool force = false;
    std::int64_t sample = 1000;
    bool all = false;
};

// A consistent copy while casemaild runs; restore: stop casemaild, put the copy in the store's
// place (removing the old -wal and -shm files), start it again.
int backup(Context& ctx, const BackupOptions& o) {
    auto r = store::backup_to(ctx.store().db(), o.file, o.force);
    if (ctx.json()) print({{"path", r.path}, {"pages", r.pages}, {"bytes", r.bytes}, {"seconds", r.seconds}});
    else std::cout << fmt::format("backup {} written: {} pages, {} bytes, {:.2f} s\n", r.path, r.pages, r.bytes, r.seconds);
    return exit_ok;
}

// Exit 1 when anything is wrong, each problem on its own line.
int check_store(Context& ctx, const BackupOptions& o) {
    auto r = store::check_store(ctx.store().db(), o.all ? 0 : o.sample);
    if (ctx.json()) {
        print({{"ok", r.problems.empty()}, {"problems", r.problems}, {"messages_checked", r.messages_checked},
               {"messages_total", r.messages_total}});
    } else {
        for (const auto& p : r.problems) std::cout << "problem: " << p << "\n";
        std::cout << fmt::format("store {}: {}; integrity and foreign keys checked, SHA-256 of {} of {} raw messages "
                                 "recomputed\n",
                                 ctx.store().db().path(), r.problems.empty() ? "ok" : fmt::format("{} problem(s)", r.problems.size()),
                                 r.messages_checked, r.messages_total);
    }
    return r.problems.empty() ? exit_ok : exit_failed;
}

}  // namespace

void add_admin_commands(CommandTable& t) {
    t.command(nullptr, "init", "create or migrate the store (safe to repeat)", init);
    auto markdown = std::make_shared<bool>(false);
    auto* s = t.command(nullptr, "settings", "every configuration key: type, default, bounds, meaning",
                        [markdown](Context& ctx) { return settings(ctx, *markdown); }, true);
    s->add_flag("--markdown", *markdown, "print the README's reference table");
    auto nagios = std::make_shared<bool>(false);
    auto* st = t.command(nullptr, "status", "casemaild's mailboxes, backlogs and alarms",
                         [nagios](Context& ctx) { return status(ctx, *nagios); }, true);
    st->add_flag("--check", *nagios, "one line and the Nagios exit code: 0 ok, 1 warning, 2 critical");
    auto o = std::make_shared<BackupOptions>();
    auto* b = t.command(nullptr, "backup", "write a consistent copy of the store (safe while casemaild runs)",
                        [o](Context& ctx) { return backup(ctx, *o); }, true);
    b->add_option("FILE", o->file, "the copy (written as FILE.partial, synced, then renamed)")->required();
    b->add_flag("--force", o->force, "replace FILE when it exists");
    auto* c = t.command(nullptr, "check", "integrity and foreign-key checks, and the SHA-256 of stored raw messages",
                        [o](Context& ctx) { return check_store(ctx, *o); }, true);
    c->add_option("--sample", o->sample, "raw messages to recompute, newest first (default 1000)")->check(CLI::PositiveNumber);
    c->add_flag("--all", o->all, "recompute every raw message");
}

}  // namespace casemail::cli
