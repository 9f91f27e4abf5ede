#include "daemon/sla/watch.hpp"

#include <fmt/format.h>

#include "mime/address.hpp"
#include "mime/compose.hpp"
#include "store/outbox.hpp"
#include "store/outbound.hpp"

namespace casemail::sla {
namespace {

namespace clocks = matching::sla;

std::string local_text(const date::time_zone* zone, clocks::Instant t) {
    return date::format("%Y-%m-%d %H:%M %Z", date::make_zoned(zone, t));
}

std::string detail_of(const RaisedAlert& a) {
    return fmt::format("{} clock {} (policy {}{})", clocks::title(a.clock), name(a.state), a.policy,
                       a.due.empty() ? "" : ", due " + a.due);
}

// One outbox entry per address: each is delivered, retried and failed on its own.
void queue_mail(store::Store& s, const store::SlaCase& c, RaisedAlert& alert, const WatchSettings& settings) {
    if (!c.queue_mailbox) return;
    auto it = settings.alert_to.find(mime::normalize_address(*c.queue_mailbox));
    if (it == settings.alert_to.end()) return;
    for (const auto& to : it->second) {
        auto message_id = store::new_message_id(settings.message_id_domain);
        store::NewOutboxEntry e;
        e.kind = matching::OutboxKind::alert;
        e.case_id = c.id;
        e.to_address = to;
        e.envelope_from = *c.queue_mailbox;
        e.envelope_to = {to};
        e.message_id = message_id;
        e.raw = alert_message(c, alert, *c.queue_mailbox, to, message_id, s.now());
        store::enqueue_outbox(s, e);
        alert.mailed_to.push_back(to);
    }
}

}  // namespace

WatchPage watch_page(store::Store& s, const WatchSettings& settings, clocks::Instant now, store::Id after, int page_size) {
    WatchPage page;
    page.last_id = after;
    if (settings.policies.empty()) return page;
    auto cases = store::active_sla_cases(s, after, page_size);
    page.more = static_cast<int>(cases.size()) == page_size;
    for (const auto& c : cases) {
        page.last_id = c.id;
        const auto* policy = clocks::policy_for(settings.policies, c.times.priority, c.times.request_type);
        if (!policy) continue;
        auto views = clocks::case_clocks(settings.hours, settings.policies, c.times, now);
        for (const auto& a : clocks::alerts_to_raise(views, c.raised)) {
            RaisedAlert raised{c.token, c.queue_name.value_or("-"), policy->name, a.kind, a.state, "", {}};
            for (const auto& v : views)
                if (v.kind == a.kind && v.due) raised.due = local_text(settings.hours.zone, *v.due);
            if (!store::raise_sla_alert(s, c.id, a, detail_of(raised))) continue;
            queue_mail(s, c, raised, settings);
            page.raised.push_back(std::move(raised));
        }
    }
    return page;
}

std::string alert_message(const store::SlaCase& c, const RaisedAlert& alert, const std::string& from,
                          const std::string& to, const std::string& message_id, std::chrono::system_clock::time_point at) {
    auto state = alert.state == clocks::ClockState::breached ? "breached" : "warning";
    auto body = fmt::format(
        "Case {} in queue {} has reached an SLA {}.\n\n"
        "  title:   {}\n  owner:   {}\n  clock:   {}\n  due:     {}\n  policy:  {}\n\n"
        "casemail case show {}\n",
        c.token, alert.queue, state, c.title, c.owner.value_or("(unassigned, waiting in the queue)"),
        clocks::title(alert.clock), alert.due.empty() ? "(on hold)" : alert.due, alert.policy, c.token);
    auto subject = fmt::format("[{}] SLA {}: {} ({})", c.token, state, clocks::title(alert.clock), alert.queue);
    return mime::compose_notice({"311 casemail", from, to, subject, message_id, body, at});
}

}  // namespace casemail::sla
