// casemail case: list, show, open (phone, walk-in, portal), update, resolve, reactivate.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "daemon/cli/context.hpp"
#include "daemon/cli/json_views.hpp"
#include "mime/printable.hpp"

namespace casemail::cli {
namespace {

struct CaseOptions {
    std::optional<std::string> queue, status;
    std::string token, resolution;
    store::NewCase new_case;
    std::optional<std::string> new_case_queue;
    store::CaseEdit edit;
};

void require_contact(store::Store& s, store::Id id) {
    if (!s.find_contact(id)) throw BadRequest(fmt::format("no contact with id {}", id));
}

void require_account(store::Store& s, const std::optional<store::Id>& id, const char* kind) {
    if (!id) return;
    auto a = s.find_account(*id);
    if (!a) throw BadRequest(fmt::format("no account with id {}", *id));
    if (a->fields.kind != kind) throw BadRequest(fmt::format("account {} is a {}, not a {}", *id, a->fields.kind, kind));
}

void print_case_human(const store::CaseRecord& c, const std::vector<store::EmailRecord>& emails,
                      const std::vector<store::Event>& events) {
    std::cout << fmt::format("{}  {}\n", c.token, c.title);
    std::cout << fmt::format("  status: {}{}   origin: {}   priority: {}   queue: {}\n", matching::name(c.status),
                             c.needs_review ? " (needs review)" : "", c.origin, c.priority, c.queue_name.value_or("-"));
    std::cout << fmt::format("  customer contact: {}   created: {}   updated: {}\n", c.customer_contact_id, c.created_at,
                             c.updated_at);
    if (c.resolution) std::cout << fmt::format("  resolution: {}\n", *c.resolution);
    if (!c.description.empty()) std::cout << "\n" << c.description << "\n";
    std::cout << fmt::format("\n  emails ({}):\n", emails.size());
    for (const auto& e : emails) {
        std::cout << fmt::format("    #{} {} {}  <{}>\n", e.id, matching::name(e.direction), e.subject, e.message_id.value_or(""));
        for (const auto& p : e.parties)
            std::cout << fmt::format("      {:<5} {} {}\n", p.role, mime::printable(p.address, 100),
                                     p.contact_id ? fmt::format("-> contact {}", *p.contact_id)
                                     : p.queue_id ? fmt::format("-> queue {}", *p.queue_id)
                                                  : fmt::format("(unresolved, {} candidates)", p.candidate_count));
    }
    std::cout << "\n  history:\n";
    for (const auto& ev : events) std::cout << fmt::format("    {} {} {} {}\n", ev.at, ev.actor, ev.kind, ev.detail);
}

int case_list(Context& ctx, const CaseOptions& o) {
    store::CaseFilter filter;
    filter.queue = o.queue;
    if (o.status) filter.status = matching::parse_state<matching::CaseStatus>(*o.status);  // checked by CLI11
    return print_list(ctx, ctx.store().list_cases(filter), case_summary_json, [](const store::CaseRecord& c) {
        return fmt::format("{:<18} {:<9} {:<20} {:>3} mail  {}", c.token, matching::name(c.status),
                           c.queue_name.value_or("-"), c.email_count, c.title);
    });
}

int case_show(Context& ctx, const CaseOptions& o) {
    auto& s = ctx.store();
    auto c = s.require_case(o.token);
    auto emails = s.case_emails(c.id);
    auto events = s.case_events(c.id);
    if (ctx.json()) print(case_detail_json(c, emails, events));
    else print_case_human(c, emails, events);
    return exit_ok;
}

int case_add(Context& ctx, CaseOptions& o) {
    auto& s = ctx.store();
    require_contact(s, o.new_case.customer_contact_id);
    require_account(s, o.new_case.property_account_id, "property");
    require_account(s, o.new_case.business_account_id, "business");
    if (o.new_case_queue) {
        auto q = s.find_queue(*o.new_case_queue);
        if (!q) throw BadRequest(fmt::format("no queue named '{}'", *o.new_case_queue));
        o.new_case.queue_id = q->id;
    }
    auto c = s.create_case(o.new_case, ctx.actor());
    if (ctx.json()) print({{"token", c.token}, {"id", c.id}});
    else std::cout << fmt::format("case {} created\n", c.token);
    return exit_ok;
}

int case_update(Context& ctx, const CaseOptions& o) {
    auto& s = ctx.store();
    require_account(s, o.edit.property_account_id, "property");
    require_account(s, o.edit.business_account_id, "business");
    s.edit_case(o.token, o.edit, ctx.actor());
    std::cout << fmt::format("case {} updated\n", s.require_case(o.token).token);
    return exit_ok;
}

void add_case_add(CommandTable& t, CLI::App* cases, const std::shared_ptr<CaseOptions>& o) {
    auto* add = t.command(cases, "add", "open a case taken by phone, walk-in or portal",
                          [o](Context& c) { return case_add(c, *o); }, true);
    auto& n = o->new_case;
    add->add_option("--customer", n.customer_contact_id, "customer contact id")->required();
    add->add_option("--title", n.title, "title")->required();
    add->add_option("--description", n.description, "description");
    add->add_option("--origin", n.origin, "phone | walk-in | portal | email")
        ->default_val("phone")
        ->check(CLI::IsMember({"phone", "walk-in", "portal", "email"}));
    add->add_option("--queue", o->new_case_queue, "queue name or mailbox");
    add->add_option("--property", n.property_account_id, "property account id");
    add->add_option("--business", n.business_account_id, "business account id");
    add->add_option("--category", n.category, "category");
    add->add_option("--request-type", n.request_type, "request type");
    add->add_option("--priority", n.priority, "low | normal | high | urgent")
        ->default_val("normal")
        ->check(CLI::IsMember({"low", "normal", "high", "urgent"}));
}

void add_case_update(CommandTable& t, CLI::App* cases, const std::shared_ptr<CaseOptions>& o) {
    auto* update = t.command(cases, "update", "change fields of an active case", [o](Context& c) { return case_update(c, *o); });
    auto& e = o->edit;
    update->add_option("TOKEN", o->token, "case token")->required();
    update->add_option("--title", e.title, "title");
    update->add_option("--priority", e.priority, "low | normal | high | urgent")
        ->check(CLI::IsMember({"low", "normal", "high", "urgent"}));
    update->add_option("--category", e.category, "category");
    update->add_option("--request-type", e.request_type, "request type");
    update->add_option("--owner", e.owner, "owning agent");
    update->add_option("--property", e.property_account_id, "property account id");
    update->add_option("--business", e.business_account_id, "business account id");
    update->add_option("--anonymous", e.anonymous, "true | false");
    update->add_option("--wants-updates", e.wants_updates, "true | false");
    update->add_option("--confidential", e.confidential, "true | false");
}

}  // namespace

void add_case_commands(CommandTable& t) {
    auto o = std::make_shared<CaseOptions>();
    auto* cases = t.group("case", "inspect and manage cases");
    auto* list = t.command(cases, "list", "list cases", [o](Context& c) { return case_list(c, *o); }, true);
    list->add_option("--queue", o->queue, "queue name or mailbox");
    list->add_option("--status", o->status, "active | resolved | cancelled")
        ->check(CLI::IsMember({"active", "resolved", "cancelled"}));
    auto* show = t.command(cases, "show", "show a case with its emails and history",
                           [o](Context& c) { return case_show(c, *o); }, true);
    show->add_option("TOKEN", o->token, "case token")->required();
    auto* resolve = t.command(cases, "resolve", "resolve a case", [o](Context& c) {
        c.store().resolve_case(o->token, o->resolution, c.actor());
        std::cout << fmt::format("case {} resolved\n", c.store().require_case(o->token).token);
        return exit_ok;
    });
    resolve->add_option("TOKEN", o->token, "case token")->required();
    resolve->add_option("--resolution", o->resolution, "resolution text")->required();
    auto* reactivate = t.command(cases, "reactivate", "reactivate a resolved case", [o](Context& c) {
        c.store().reactivate_case(o->token, c.actor());
        std::cout << fmt::format("case {} reactivated\n", c.store().require_case(o->token).token);
        return exit_ok;
    });
    reactivate->add_option("TOKEN", o->token, "case token")->required();
    add_case_add(t, cases, o);
    add_case_update(t, cases, o);
}

}  // namespace casemail::cli
