#include "store/workorder.hpp"

#include <fmt/format.h>

#include "store/workflow.hpp"

namespace casemail::store {
namespace {

bool already_applied(Store& store, const std::string& sha256) {
    auto st = store.db().cached("SELECT 1 FROM work_order_update WHERE sha256 = ?1");
    st->bind(1, sha256);
    return st->step();
}

void record_update(Store& store, Id case_id, const std::string& system, const WorkOrderUpdate& u) {
    auto st = store.db().cached(
        "UPDATE work_order SET status = ?2, external_id = coalesce(?3, external_id), url = coalesce(?4, url), "
        "updated_at = ?5 WHERE case_id = ?1");
    st->bind_all(case_id, u.status, u.external_id, u.url, store.now_text());
    st->run();
    auto seen = store.db().cached(
        "INSERT INTO work_order_update(sha256, case_id, system, file, applied_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    seen->bind_all(u.sha256, case_id, system, u.file, store.now_text());
    seen->run();
}

std::string timeline_text(const WorkOrderUpdate& u) {
    std::string text = fmt::format("status {}", u.status);
    if (u.external_id) text += fmt::format(", work order {}", *u.external_id);
    if (u.resolved_at) text += fmt::format(", resolved at {}", *u.resolved_at);
    if (u.note) text += ": " + *u.note;
    return text;
}

}  // namespace

namespace {

constexpr const char* work_order_columns =
    "SELECT w.case_id, c.token, w.system, w.document, w.submitted_at, w.submitted_by, w.open, w.status, "
    "w.external_id, w.url, w.updated_at FROM work_order w JOIN \"case\" c ON c.id = w.case_id ";

WorkOrder read_work_order(Statement& st) {
    WorkOrder w;
    w.case_id = st.int64(0);
    w.token = st.text(1);
    w.system = st.text(2);
    w.document = st.text(3);
    w.submitted_at = st.text(4);
    w.submitted_by = st.text(5);
    w.open = st.int64(6) != 0;
    w.status = st.text(7);
    w.external_id = st.opt_text(8);
    w.url = st.opt_text(9);
    w.updated_at = st.opt_text(10);
    return w;
}

}  // namespace

std::optional<WorkOrder> work_order(Store& store, Id case_id) {
    auto st = store.db().cached(std::string(work_order_columns) + "WHERE w.case_id = ?1");
    st->bind(1, case_id);
    if (!st->step()) return std::nullopt;
    return read_work_order(*st);
}

std::vector<WorkOrder> list_work_orders(Store& store, const std::optional<std::string>& system, bool open_only) {
    auto st = store.db().cached(std::string(work_order_columns) +
                                "WHERE (?1 IS NULL OR w.system = ?1) AND (?2 = 0 OR w.open = 1) ORDER BY w.submitted_at, w.case_id");
    st->bind_all(system, open_only ? 1 : 0);
    std::vector<WorkOrder> out;
    while (st->step()) out.push_back(read_work_order(*st));
    return out;
}

void submit_work_order(Store& store, const std::string& token, const std::string& system, const std::string& document,
                       const std::string& actor) {
    auto c = case_facts(store, token);
    if (auto refusal = matching::work_order_refusal(c); !refusal.empty()) throw Refused(refusal);
    auto st = store.db().cached(
        "INSERT OR REPLACE INTO work_order(case_id, system, document, submitted_at, submitted_by) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    st->bind_all(c.id, system, document, store.now_text(), actor);
    st->run();
    store.record_event(actor, "workorder-submitted", c.id, std::nullopt, std::nullopt,
                       fmt::format("to {} ({})", system, document));
}

UpdateOutcome apply_work_order_update(Store& store, const std::string& system, const WorkOrderUpdate& u,
                                      const WorkOrderResolution& resolution, const std::string& actor) {
    if (already_applied(store, u.sha256)) return UpdateOutcome::already_applied;
    auto c = store.find_case(u.token);
    if (!c) throw Refused(fmt::format("no case {}", u.token));
    auto w = work_order(store, c->id);
    if (!w || w->system != system) throw Refused(fmt::format("case {} was not handed to {}", u.token, system));
    if (!w->open) throw Refused(fmt::format("the work order of case {} in {} is closed already", u.token, system));
    record_update(store, c->id, system, u);
    store.record_event(actor, "workorder-updated", c->id, std::nullopt, std::nullopt, timeline_text(u));
    if (!u.resolved) return UpdateOutcome::applied;
    auto close = store.db().cached("UPDATE work_order SET open = 0 WHERE case_id = ?1");
    close->bind(1, c->id);
    close->run();
    Resolution r;
    r.type = resolution.type;
    auto external_id = u.external_id ? u.external_id : w->external_id;
    r.text = fmt::format("work order {}resolved in {}{}", external_id ? *external_id + " " : "", system,
                         u.note ? ": " + *u.note : std::string());
    r.force = true;  // the work-order system decides: replies still waiting go out regardless
    resolve_case(store, u.token, r, resolution.types, resolution.policy, actor);
    return UpdateOutcome::resolved;
}

}  // namespace casemail::store
