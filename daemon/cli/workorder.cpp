// casemail case submit-workorder and workorder sync|list: the hand-off to the city's work-order
// system ([[workorder]]). daemon/workorder/ writes and reads the spool directories;
// store/workorder.hpp records the hand-off and applies the updates, each in one transaction.
#include "daemon/cli/workorder.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>

#include "daemon/cli/context.hpp"
#include "daemon/workorder/document.hpp"
#include "daemon/workorder/spool.hpp"
#include "mime/printable.hpp"

namespace casemail::cli {
namespace {

struct WorkorderOptions {
    std::string token, system;
    bool open_only = false;
};

std::vector<const config::WorkorderConfig*> systems(const config::Config& cfg, const std::string& name, bool one) {
    if (cfg.workorders.empty()) throw BadRequest("no work-order system is configured ([[workorder]] in the config)");
    std::vector<std::string> names;
    for (const auto& w : cfg.workorders) {
        if (w.name == name) return {&w};
        names.push_back(w.name);
    }
    if (!name.empty()) throw BadRequest(fmt::format("no work-order system '{}' (configured: {})", name, fmt::join(names, ", ")));
    if (one && names.size() > 1)
        throw BadRequest(fmt::format("several work-order systems are configured: name one with --system ({})",
                                     fmt::join(names, ", ")));
    std::vector<const config::WorkorderConfig*> all;
    for (const auto& w : cfg.workorders) all.push_back(&w);
    return all;
}

// "2026-11-30T09:15:00Z" -> "20261130T091500Z", for file names.
std::string compact(std::string time) {
    std::erase_if(time, [](char c) { return c == '-' || c == ':'; });
    return time;
}

// The document is published before the commit (rename into the spool) and withdrawn if the
// commit fails: the case is never marked external without its document, nor the reverse.
int submit(Context& ctx, const WorkorderOptions& o) {
    const auto& w = *systems(ctx.config(), o.system, true).front();
    auto& s = ctx.store();
    store::Transaction tx(s.db());
    auto c = s.require_case(o.token);
    auto now = s.now_text();
    auto name = fmt::format("{}-{}.json", c.token, compact(now));
    store::submit_work_order(s, c.token, w.name, name, ctx.actor());
    std::optional<store::Account> property;
    if (c.property_account_id) property = s.find_account(*c.property_account_id);
    auto pending = workorder::prepare_file(w.outbox_dir, name, workorder::case_document(c, property, w.name, now, ctx.actor()));
    if (!pending) throw std::runtime_error("work order document: " + pending.error());
    if (auto ok = pending->publish(); !ok) throw std::runtime_error("work order document: " + ok.error());
    try {
        tx.commit();
    } catch (...) {
        pending->withdraw();
        throw;
    }
    std::cout << fmt::format("case {} handed to {}: {}\n", c.token, w.name, pending->path().string());
    return exit_ok;
}

int sync(Context& ctx, const WorkorderOptions& o) {
    const auto& cfg = ctx.config();
    auto& s = ctx.store();
    auto out = nlohmann::json::array();
    int problems = 0;
    for (const auto* w : systems(cfg, o.system, false)) {
        auto resolution = workorder::resolution_for(*w, cfg);
        auto apply = [&](const store::WorkOrderUpdate& u) {
            store::Transaction tx(s.db());
            auto outcome = store::apply_work_order_update(s, w->name, u, resolution, ctx.actor());
            tx.commit();
            return outcome;
        };
        auto log = [&](const std::string& file, const std::string& action, const std::string& detail) {
            out.push_back({{"system", w->name}, {"file", file}, {"action", action}, {"detail", detail}});
            if (!ctx.json())
                std::cout << fmt::format("{} {}: {} {}\n", w->name, mime::printable(file, 100), action, detail);
        };
        auto report = workorder::read_updates(w->inbox_dir, apply, log);
        for (const auto& p : report.problems) std::cerr << "casemail: " << w->name << ": " << p << "\n";
        problems += static_cast<int>(report.problems.size());
    }
    if (ctx.json()) print(out);
    return problems ? exit_failed : exit_ok;
}

int list(Context& ctx, const WorkorderOptions& o) {
    std::optional<std::string> system;
    if (!o.system.empty()) system = systems(ctx.config(), o.system, true).front()->name;
    auto orders = store::list_work_orders(ctx.store(), system, o.open_only);
    return print_list(ctx, orders, [](const store::WorkOrder& w) { return work_order_json(w); },
                      [](const store::WorkOrder& w) {
                          return fmt::format("{:<18} {:<10} {:<6} {:<14} {}", w.token, w.system, w.open ? "open" : "closed",
                                             w.external_id.value_or("-"), mime::printable(w.status, 60));
                      });
}

}  // namespace

nlohmann::json work_order_json(const std::optional<store::WorkOrder>& w) {
    if (!w) return nullptr;
    auto text = [](const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(nullptr); };
    return {{"case", w->token},         {"system", w->system},       {"open", w->open},
            {"status", w->status},      {"external_id", text(w->external_id)}, {"url", text(w->url)},
            {"document", w->document},  {"submitted_at", w->submitted_at}, {"submitted_by", w->submitted_by},
            {"updated_at", text(w->updated_at)}};
}

void print_work_order_human(const std::optional<store::WorkOrder>& w) {
    if (!w) return;
    std::cout << fmt::format("\nWork order ({}): {} since {} by {}; status {}", w->system,
                             w->open ? "with it (read-only here)" : "closed", w->submitted_at, w->submitted_by,
                             mime::printable(w->status, 100));
    if (w->external_id) std::cout << fmt::format("; id {}", mime::printable(*w->external_id, 100));
    if (w->url) std::cout << fmt::format("; {}", mime::printable(*w->url, 300));
    std::cout << "\n";
}

void add_workorder_commands(CommandTable& t) {
    auto o = std::make_shared<WorkorderOptions>();
    auto* submit_cmd = t.command(t.existing_group("case"), "submit-workorder",
                                 "hand a case to the city's work-order system: read-only here until its update resolves it",
                                 [o](Context& c) { return submit(c, *o); });
    submit_cmd->add_option("TOKEN", o->token, "case token")->required();
    submit_cmd->add_option("--system", o->system, "[[workorder]] name (needed when several are configured)");
    auto* group = t.group("workorder", "the work-order systems ([[workorder]]): updates and hand-offs");
    auto* sync_cmd = t.command(group, "sync", "apply the status updates waiting in the inbox directories (casemaild does it too)",
                               [o](Context& c) { return sync(c, *o); }, true);
    sync_cmd->add_option("--system", o->system, "only this [[workorder]]");
    auto* list_cmd = t.command(group, "list", "cases handed to a work-order system, oldest first",
                               [o](Context& c) { return list(c, *o); }, true);
    list_cmd->add_option("--system", o->system, "only this [[workorder]]");
    list_cmd->add_flag("--open", o->open_only, "only those still with it");
}

}  // namespace casemail::cli
