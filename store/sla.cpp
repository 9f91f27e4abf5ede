#include "store/sla.hpp"

#include <fmt/format.h>

#include "mime/printable.hpp"
#include "store/workflow.hpp"

namespace casemail::store {
namespace {

using matching::sla::Instant;

Instant instant(const std::string& text) {
    auto t = parse_time(text);
    if (!t) throw std::runtime_error(fmt::format("store holds a bad time '{}'", text));
    return std::chrono::floor<std::chrono::seconds>(*t);
}

std::optional<Instant> opt_instant(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    return instant(*text);
}

constexpr const char* sla_columns = R"(
    SELECT c.id, c.token, c.title, c.status, c.queue_id, q.name, q.mailbox, c.owner, c.priority, c.request_type,
           c.created_at, c.first_response_at, c.first_response_by, c.resolved_at
      FROM "case" c LEFT JOIN queue q ON q.id = c.queue_id )";

SlaCase read_sla_case(Statement& st) {
    SlaCase c;
    c.id = st.int64(0);
    c.token = st.text(1);
    c.title = st.text(2);
    c.status = st.text(3);
    c.queue_id = st.opt_int64(4);
    c.queue_name = st.opt_text(5);
    c.queue_mailbox = st.opt_text(6);
    c.owner = st.opt_text(7);
    c.times.priority = st.text(8);
    c.times.request_type = st.opt_text(9);
    c.times.created = instant(st.text(10));
    c.times.first_response = opt_instant(st.opt_text(11));
    c.first_response_by = st.opt_text(12);
    c.times.resolved = opt_instant(st.opt_text(13));
    return c;
}

// Holds and raised alerts of one case.
void complete(Store& store, SlaCase& c) {
    auto holds = store.db().cached("SELECT held_at, resumed_at FROM case_hold WHERE case_id = ?1 ORDER BY held_at, id");
    holds->bind(1, c.id);
    while (holds->step()) c.times.holds.push_back({instant(holds->text(0)), opt_instant(holds->opt_text(1))});
    auto alerts = store.db().cached("SELECT clock, state FROM sla_alert WHERE case_id = ?1");
    alerts->bind(1, c.id);
    while (alerts->step()) {
        auto kind = alerts->text(0) == "first_response" ? matching::sla::ClockKind::first_response
                                                         : matching::sla::ClockKind::resolution;
        auto state = matching::sla::clock_state_named(alerts->text(1)).value_or(matching::sla::ClockState::warning);
        c.raised.insert({kind, state});
    }
}

// The case, refused unless active (the workflow's reading of it, store/workflow.hpp).
matching::CaseFacts active_case(Store& store, const std::string& token) {
    auto c = case_facts(store, token);
    if (c.status != matching::CaseStatus::active)
        throw Refused(fmt::format("case {} is {}: its clocks have stopped", token, matching::name(c.status)));
    return c;
}

}  // namespace

std::vector<SlaCase> active_sla_cases(Store& store, Id after, int limit) {
    auto st = store.db().cached(std::string(sla_columns) +
                                "WHERE c.status = 'active' AND c.id > ?1 ORDER BY c.id LIMIT ?2");
    st->bind_all(after, limit);
    std::vector<SlaCase> out;
    while (st->step()) out.push_back(read_sla_case(*st));
    for (auto& c : out) complete(store, c);
    return out;
}

std::optional<SlaCase> sla_case(Store& store, Id case_id) {
    auto st = store.db().cached(std::string(sla_columns) + "WHERE c.id = ?1");
    st->bind(1, case_id);
    if (!st->step()) return std::nullopt;
    auto c = read_sla_case(*st);
    complete(store, c);
    return c;
}

bool record_first_response(Store& store, Id case_id, const std::string& by, const std::string& how) {
    auto st = store.db().cached(
        R"(UPDATE "case" SET first_response_at = ?2, first_response_by = ?3 WHERE id = ?1 AND first_response_at IS NULL)");
    st->bind_all(case_id, store.now_text(), by);
    st->run();
    if (store.db().changes() == 0) return false;
    store.record_event(by, "first-response", case_id, std::nullopt, std::nullopt, how);
    return true;
}

void acknowledge_case(Store& store, const std::string& token, const std::string& actor) {
    auto c = active_case(store, token);
    if (!record_first_response(store, c.id, actor, "acknowledged by hand (case ack)")) {
        auto at = store.db().cached(R"(SELECT first_response_at, first_response_by FROM "case" WHERE id = ?1)");
        at->bind(1, c.id);
        at->step();
        throw Refused(fmt::format("case {} was already acknowledged at {} by {}", token, at->text(0), at->text(1)));
    }
}

void hold_case(Store& store, const std::string& token, const std::string& reason, const std::string& actor) {
    auto c = active_case(store, token);
    if (reason.empty()) throw Refused("a hold needs a reason (--reason)");
    auto open = store.db().cached("SELECT held_at FROM case_hold WHERE case_id = ?1 AND resumed_at IS NULL");
    open->bind(1, c.id);
    if (open->step()) throw Refused(fmt::format("case {} is already on hold since {}", token, open->text(0)));
    auto st = store.db().cached("INSERT INTO case_hold(case_id, held_at, held_by, reason) VALUES (?1, ?2, ?3, ?4)");
    st->bind_all(c.id, store.now_text(), actor, mime::printable(reason, 500));
    st->run();
    store.record_event(actor, "held", c.id, std::nullopt, std::nullopt, mime::printable(reason, 500));
}

void resume_case(Store& store, const std::string& token, const std::string& actor) {
    auto c = active_case(store, token);
    auto st = store.db().cached(
        "UPDATE case_hold SET resumed_at = ?2, resumed_by = ?3 WHERE case_id = ?1 AND resumed_at IS NULL");
    st->bind_all(c.id, store.now_text(), actor);
    st->run();
    if (store.db().changes() == 0) throw Refused(fmt::format("case {} is not on hold", token));
    store.record_event(actor, "resumed", c.id, std::nullopt, std::nullopt, "the SLA clocks run again");
}

std::vector<CaseHold> case_holds(Store& store, Id case_id) {
    auto st = store.db().cached(
        "SELECT held_at, held_by, reason, resumed_at, resumed_by FROM case_hold WHERE case_id = ?1 ORDER BY held_at, id");
    st->bind(1, case_id);
    std::vector<CaseHold> out;
    while (st->step()) out.push_back({st->text(0), st->text(1), st->text(2), st->opt_text(3), st->opt_text(4)});
    return out;
}

void hold_while_resolved(Store& store, Id case_id, const std::string& resolved_at, const std::string& actor) {
    auto close = store.db().cached(
        "UPDATE case_hold SET resumed_at = max(held_at, ?2), resumed_by = ?3 WHERE case_id = ?1 AND resumed_at IS NULL");
    close->bind_all(case_id, resolved_at, actor);
    close->run();
    auto st = store.db().cached(
        "INSERT INTO case_hold(case_id, held_at, held_by, reason, resumed_at, resumed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?3)");
    st->bind_all(case_id, resolved_at, actor, std::string("resolved until reactivated"), store.now_text());
    st->run();
}

bool raise_sla_alert(Store& store, Id case_id, matching::sla::SlaAlert alert, const std::string& detail) {
    auto st = store.db().cached(
        "INSERT OR IGNORE INTO sla_alert(case_id, clock, state, raised_at) VALUES (?1, ?2, ?3, ?4)");
    st->bind_all(case_id, std::string(name(alert.kind)), std::string(name(alert.state)), store.now_text());
    st->run();
    if (store.db().changes() == 0) return false;
    store.record_event("casemaild", fmt::format("sla-{}", name(alert.state)), case_id, std::nullopt, std::nullopt, detail);
    return true;
}

}  // namespace casemail::store
