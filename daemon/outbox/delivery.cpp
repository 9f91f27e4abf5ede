#include "daemon/outbox/delivery.hpp"

#include <fmt/format.h>

#include "daemon/common/log.hpp"

namespace casemail::outbox {

std::chrono::seconds retry_delay(int attempts, const DeliverySettings& settings) {
    auto delay = settings.retry_base;
    for (int i = 1; i < attempts && delay < settings.retry_max; ++i) delay *= 2;
    return std::min(delay, settings.retry_max);
}

DeliveryReport deliver_due(store::Store& store, Upstream& upstream, const RenderSettings& render,
                           const DeliverySettings& settings, const common::LogLine& log, const std::atomic<bool>& stop) {
    DeliveryReport report;
    auto due = store::due_outbox(store, store.now(), settings.batch);
    report.more = static_cast<int>(due.size()) == settings.batch;
    for (auto entry : due) {
        if (stop) break;
        auto fields = [&](const char* action, const std::string& reason) {
            return common::log_fields({{"outbox", std::to_string(entry.id)},
                               {"kind", std::string(matching::name(entry.kind))},
                               {"case", entry.case_token.value_or("-")},
                               {"to", entry.to_address},
                               {"message_id", entry.message_id ? "<" + *entry.message_id + ">" : "-"},
                               {"action", action},
                               {"attempts", std::to_string(entry.attempts + 1)},
                               {"reason", reason}});
        };
        // Render what is not a finished message yet: an acknowledgement, a released reply.
        bool needs_render = (entry.kind == matching::OutboxKind::ack && !entry.rendered) || (entry.kind == matching::OutboxKind::reply && !entry.email_id);
        if (needs_render) {
            store::Transaction tx(store.db());
            auto ok = entry.kind == matching::OutboxKind::ack ? render_acknowledgement(store, entry, render)
                                          : prepare_released_reply(store, entry, render);
            if (!ok) {
                store::mark_outbox_failed(store, entry.id, ok.error());
                tx.commit();
                ++report.failed;
                log(fields("failed", ok.error()));
                continue;
            }
            tx.commit();
            entry = store::require_outbox(store, entry.id);
        }
        auto raw = store::outbox_raw(store, entry.id);
        auto outcome = upstream.send(entry.envelope_from, entry.envelope_to, raw);
        store::Transaction tx(store.db());
        if (outcome.delivered) {
            store::mark_outbox_delivered(store, entry.id, outcome.detail);
            ++report.delivered;
            tx.commit();
            log(fields("delivered", outcome.detail));
            continue;
        }
        auto age = store.now() - store::parse_time(entry.created_at).value_or(store.now());
        if (outcome.permanent || age >= settings.max_age) {
            auto why = outcome.permanent ? outcome.detail
                                         : fmt::format("gave up after {} attempts over {} h: {}", entry.attempts + 1,
                                                       std::chrono::duration_cast<std::chrono::hours>(age).count(),
                                                       outcome.detail);
            store::mark_outbox_failed(store, entry.id, why);
            ++report.failed;
            tx.commit();
            log(fields("failed", why));
        } else {
            auto next = store.now() + retry_delay(entry.attempts + 1, settings);
            store::mark_outbox_retry(store, entry.id, outcome.detail, next);
            ++report.retried;
            tx.commit();
            log(fields("deferred", fmt::format("{}; next attempt {}", outcome.detail, store::format_time(next))));
        }
    }
    return report;
}

}  // namespace casemail::outbox
