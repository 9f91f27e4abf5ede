// casemail case assign|release|resolve|link-child|unlink-child and queue show: the 311 guide's
// case workflow (rules in matching/workflow.hpp, applied by store/workflow.hpp). Each change runs
// in one transaction and writes an audit event with the actor.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "daemon/cli/context.hpp"
#include "daemon/cli/json_views.hpp"
#include "daemon/cli/sla.hpp"
#include "daemon/config/config.hpp"
#include "matching/routing.hpp"
#include "mime/message.hpp"
#include "mime/printable.hpp"
#include "store/workflow.hpp"

namespace casemail::cli {
namespace {

struct WorkflowOptions {
    std::string token, user, queue, resolution, parent, type, time_spent, note, file, mailbox;
    bool force = false;
    std::vector<std::string> attach;
};


int case_assign(Context& ctx, const WorkflowOptions& o) {
    if (o.user.empty() == o.queue.empty()) throw BadRequest("give exactly one of --to USER or --queue QUEUE");
    if (!o.user.empty())
        return apply_change(ctx, [&](store::Store& s) { store::assign_case(s, o.token, o.user, ctx.actor()); },
                     fmt::format("case {} assigned to {}", o.token, o.user));
    return apply_change(ctx, [&](store::Store& s) { store::move_case(s, o.token, o.queue, ctx.actor()); },
                 fmt::format("case {} sent to queue {}, unassigned", o.token, o.queue));
}

int case_resolve(Context& ctx, const WorkflowOptions& o) {
    const auto& cfg = ctx.config();
    store::Resolution r;
    r.type = o.type.empty() ? cfg.resolution_types.front() : o.type;
    r.text = o.resolution;
    r.force = o.force;
    if (!o.time_spent.empty()) {
        auto d = config::parse_duration(o.time_spent);
        if (!d) throw BadRequest(fmt::format("--time-spent '{}' is not a duration like 45m or 2h", o.time_spent));
        r.minutes_spent = static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(*d).count());
    }
    std::vector<std::string> closed;
    apply_change(ctx,
          [&](store::Store& s) { closed = store::resolve_case(s, o.token, r, cfg.resolution_types, cfg.child_closure, ctx.actor()); },
          fmt::format("case {} resolved ({})", o.token, r.type));
    for (const auto& c : closed) std::cout << fmt::format("case {} resolved with its parent\n", c);
    return exit_ok;
}

int case_note(Context& ctx, const WorkflowOptions& o) {
    std::vector<store::NoteFile> files;
    for (const auto& path : o.attach)
        files.push_back({std::filesystem::path(path).filename().string(), "application/octet-stream", read_input(path)});
    store::Id id = 0;
    return apply_change(ctx, [&](store::Store& s) { id = store::add_note(s, o.token, o.note, files, ctx.actor()); },
                 fmt::format("note added to case {} ({} attachment(s))", o.token, files.size()));
}

// Which routing rule a message would meet and why; nothing is written.
int route_test(Context& ctx, const WorkflowOptions& o) {
    const auto& cfg = ctx.config();
    auto parsed = mime::parse_message(read_input(o.file), cfg.limits);
    if (!parsed) throw BadRequest("message cannot be parsed: " + parsed.error());
    auto mailbox = o.mailbox.empty() && !cfg.mailboxes.empty() ? cfg.mailboxes.front().address : o.mailbox;
    auto match = matching::route(*parsed, mailbox, cfg.routes);
    auto misses = matching::explain_misses(*parsed, mailbox, cfg.routes);
    if (ctx.json()) {
        nlohmann::json j = {{"mailbox", mailbox}, {"rule", nullptr}, {"misses", misses}};
        if (match) {
            const auto& r = *match->rule;
            j["rule"] = {{"name", r.name},       {"line", r.line},         {"why", match->why},
                         {"no_case", r.no_case}, {"queue", r.queue},       {"category", r.category},
                         {"request_type", r.request_type}, {"priority", r.priority}};
        }
        print(j);
        return exit_ok;
    }
    for (const auto& m : misses) std::cout << "  " << m << "\n";
    if (!match) {
        std::cout << fmt::format("no rule matches: a new case goes to the queue of {}\n", mailbox);
        return exit_ok;
    }
    const auto& r = *match->rule;
    std::cout << fmt::format("rule '{}' (line {}) matches: {}\n", r.name, r.line,
                             r.no_case ? std::string("no case")
                                       : fmt::format("queue={} category={} request_type={} priority={}",
                                                     r.queue.empty() ? "(mailbox's)" : r.queue, r.category.empty() ? "-" : r.category,
                                                     r.request_type.empty() ? "-" : r.request_type,
                                                     r.priority.empty() ? "-" : r.priority));
    for (const auto& w : match->why) std::cout << "  because " << w << "\n";
    return exit_ok;
}

std::string age_of(const std::string& created_at, std::chrono::system_clock::time_point now) {
    auto created = store::parse_time(created_at);
    if (!created) return "?";
    auto minutes = std::chrono::duration_cast<std::chrono::minutes>(now - *created).count();
    if (minutes < 60) return fmt::format("{}m", minutes);
    if (minutes < 48 * 60) return fmt::format("{}h", minutes / 60);
    return fmt::format("{}d", minutes / (24 * 60));
}

int queue_show(Context& ctx, const WorkflowOptions& o) {
    auto& s = ctx.store();
    if (!s.find_queue(o.queue)) throw BadRequest(fmt::format("no queue named '{}'", o.queue));
    store::CaseFilter filter;
    filter.queue = o.queue;
    filter.waiting = true;
    auto now = s.now();
    auto cases = s.list_cases(filter);
    if (ctx.json()) {
        auto out = nlohmann::json::array();
        for (const auto& c : cases) {
            auto j = case_summary_json(c);
            j["age"] = age_of(c.created_at, now);
            j["sla"] = sla_column(clocks_of(ctx, c.id));
            out.push_back(j);
        }
        print(out);
        return exit_ok;
    }
    std::cout << fmt::format("{} waiting in {}, oldest first\n", cases.size(), o.queue);
    for (const auto& c : cases)
        std::cout << fmt::format("  {:<18} {:>5}  {:<7} {:<8} {}{}\n", c.token, age_of(c.created_at, now), c.priority,
                                 sla_column(clocks_of(ctx, c.id)), mime::printable(c.title, 80),
                                 c.needs_review ? "  (needs review)" : "");
    return exit_ok;
}

void add_case_workflow(CommandTable& t, CLI::App* cases, const std::shared_ptr<WorkflowOptions>& o) {
    auto* assign = t.command(cases, "assign", "take a case, give it to someone (--to), or send it to another team (--queue)",
                             [o](Context& c) { return case_assign(c, *o); });
    assign->add_option("TOKEN", o->token, "case token")->required();
    assign->add_option("--to", o->user, "user who takes it (you, or a supervisor)");
    assign->add_option("--queue", o->queue, "team queue it goes to, unassigned");
    auto* release = t.command(cases, "release", "give a case back to its queue, unassigned", [o](Context& c) {
        return apply_change(c, [&](store::Store& s) { store::release_case(s, o->token, c.actor()); },
                     fmt::format("case {} released to its queue", o->token));
    });
    release->add_option("TOKEN", o->token, "case token")->required();
    auto* resolve = t.command(cases, "resolve", "resolve a case (its children as cases.child_closure says)",
                              [o](Context& c) { return case_resolve(c, *o); });
    resolve->add_option("TOKEN", o->token, "case token")->required();
    resolve->add_option("--resolution", o->resolution, "resolution text")->required();
    resolve->add_option("--type", o->type, "resolution type from cases.resolution_types (default: the first)");
    resolve->add_option("--time-spent", o->time_spent, "time spent, like 45m or 2h");
    resolve->add_flag("--force", o->force, "resolve even with mail waiting in the outbox");
    auto* note = t.command(cases, "note", "add a note (with attachments) to a case's timeline",
                           [o](Context& c) { return case_note(c, *o); });
    note->add_option("TOKEN", o->token, "case token")->required();
    note->add_option("--text", o->note, "the note");
    note->add_option("--attach", o->attach, "a file to attach (repeatable)")->check(CLI::ExistingFile);
    auto* link = t.command(cases, "link-child", "make CHILD a child of PARENT (one level)", [o](Context& c) {
        return apply_change(c, [&](store::Store& s) { store::link_child(s, o->parent, o->token, c.actor()); },
                     fmt::format("case {} is now a child of {}", o->token, o->parent));
    });
    link->add_option("PARENT", o->parent, "parent case token")->required();
    link->add_option("CHILD", o->token, "child case token")->required();
    auto* unlink = t.command(cases, "unlink-child", "detach a child case from its parent", [o](Context& c) {
        return apply_change(c, [&](store::Store& s) { store::unlink_child(s, o->token, c.actor()); },
                     fmt::format("case {} has no parent now", o->token));
    });
    unlink->add_option("CHILD", o->token, "child case token")->required();
}

}  // namespace

void add_workflow_commands(CommandTable& t) {
    auto o = std::make_shared<WorkflowOptions>();
    add_case_workflow(t, t.existing_group("case"), o);
    auto* show = t.command(t.existing_group("queue"), "show", "a team's unassigned active cases, oldest first",
                           [o](Context& c) { return queue_show(c, *o); }, true);
    show->add_option("QUEUE", o->queue, "queue name or mailbox")->required();
    auto* route = t.group("route", "routing rules ([[route]] in the config)");
    auto* test = t.command(route, "test", "which rule a message meets and why; nothing is written",
                           [o](Context& c) { return route_test(c, *o); }, true);
    test->add_option("FILE", o->file, "raw message, - for stdin")->required();
    test->add_option("--mailbox", o->mailbox, "the 311 mailbox it arrives at (default: the first configured)");
}

}  // namespace casemail::cli
