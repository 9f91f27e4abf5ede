#include "daemon/outbox/delivery.hpp"

#include <fmt/format.h>

#include "daemon/common/log.hpp"
#include "daemon/common/metrics.hpp"

namespace casemail::outbox {

std::chrono::seconds retry_delay(int attempts, const DeliverySettings& settings) {
    auto delay = settings.retry_base;
    for (int i = 1; i < attempts && delay < settings.retry_max; ++i) delay *= 2;
    return std::min(delay, settings.retry_max);
}

namespace {

std::string log_entry(const store::OutboxEntry& entry, const char* action, const std::string& reason) {
    return common::log_fields({{"outbox", std::to_string(entry.id)},
                               {"kind", std::string(matching::name(entry.kind))},
                               {"case", entry.case_token.value_or("-")},
                               {"to", entry.to_address},
                               {"message_id", entry.message_id ? "<" + *entry.message_id + ">" : "-"},
                               {"action", action},
                               {"attempts", std::to_string(entry.attempts + 1)},
                               {"reason", reason}});
}

// Renders what is not a finished message yet (an acknowledgement, a released reply) and reads
// the message to send. nullopt when the entry failed instead (it is marked so).
std::optional<std::string> message_for(store::Store& s, store::OutboxEntry& entry, const RenderSettings& render,
                                       std::string& failure) {
    bool needs_render = (entry.kind == matching::OutboxKind::ack && !entry.rendered) ||
                        (entry.kind == matching::OutboxKind::reply && !entry.email_id);
    if (needs_render) {
        store::Savepoint sp(s.db(), "render");
        auto ok = entry.kind == matching::OutboxKind::ack ? render_acknowledgement(s, entry, render)
                                                          : prepare_released_reply(s, entry, render);
        if (!ok) {
            sp.release();  // whatever rendering wrote before it failed: there is none to keep
            store::mark_outbox_failed(s, entry.id, ok.error());
            failure = ok.error();
            return std::nullopt;
        }
        sp.release();
        entry = store::require_outbox(s, entry.id);
    }
    return store::outbox_raw(s, entry.id);
}

// The upstream's answer, recorded: delivered, retried later, or failed for good. What to log.
std::string record_outcome(store::Store& s, const store::OutboxEntry& entry, const DeliveryOutcome& outcome,
                           const DeliverySettings& settings, DeliveryReport& report) {
    auto& metrics = common::metrics();
    auto kind = std::string(matching::name(entry.kind));
    auto age = s.now() - store::parse_time(entry.created_at).value_or(s.now());
    if (outcome.delivered) {
        store::mark_outbox_delivered(s, entry.id, outcome.detail);
        ++report.delivered;
        metrics.add("casemail_outbox_deliveries_total", {{"kind", kind}, {"outcome", "delivered"}});
        metrics.observe("casemail_outbox_delivery_seconds", {{"kind", kind}}, std::chrono::duration<double>(age).count());
        return log_entry(entry, "delivered", outcome.detail);
    }
    if (outcome.permanent || age >= settings.max_age) {
        metrics.add("casemail_outbox_deliveries_total", {{"kind", kind}, {"outcome", "failed"}});
        auto why = outcome.permanent ? outcome.detail
                                     : fmt::format("gave up after {} attempts over {} h: {}", entry.attempts + 1,
                                                   std::chrono::duration_cast<std::chrono::hours>(age).count(),
                                                   outcome.detail);
        store::mark_outbox_failed(s, entry.id, why);
        ++report.failed;
        return log_entry(entry, "failed", why);
    }
    metrics.add("casemail_outbox_deliveries_total", {{"kind", kind}, {"outcome", "deferred"}});
    auto next = s.now() + retry_delay(entry.attempts + 1, settings);
    store::mark_outbox_retry(s, entry.id, outcome.detail, next);
    ++report.retried;
    return log_entry(entry, "deferred", fmt::format("{}; next attempt {}", outcome.detail, store::format_time(next)));
}

}  // namespace

DeliveryReport deliver_due(store::Writer& writer, Upstream& upstream, const RenderSettings& render,
                           const DeliverySettings& settings, const common::LogLine& log, const std::atomic<bool>& stop) {
    DeliveryReport report;
    auto due = writer.run([&](store::Store& s) { return store::due_outbox(s, settings.due_by.value_or(s.now()), settings.batch); });
    report.more = static_cast<int>(due.size()) == settings.batch;
    for (auto entry : due) {
        if (stop) break;
        std::string failure;
        auto raw = writer.run([&](store::Store& s) { return message_for(s, entry, render, failure); });
        if (!raw) {
            ++report.failed;
            log(log_entry(entry, "failed", failure));
            continue;
        }
        auto outcome = upstream.send(entry.envelope_from, entry.envelope_to, *raw);
        log(writer.run([&](store::Store& s) { return record_outcome(s, entry, outcome, settings, report); }));
    }
    return report;
}

}  // namespace casemail::outbox
