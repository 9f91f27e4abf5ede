// casemail case: list, show, open (phone, walk-in, portal), update, resolve, reactivate; and
// casemail attachment get: an attachment's bytes, decoded from the stored raw message.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

#include "daemon/cli/context.hpp"
#include "daemon/cli/workorder.hpp"
#include "daemon/cli/json_views.hpp"
#include "daemon/cli/sla.hpp"
#include "mime/printable.hpp"
#include "store/sla.hpp"
#include "store/workflow.hpp"

namespace casemail::cli {
namespace {

struct AttachmentOptions {
    store::Id email_id = 0;
    int index = 0;
    std::string output;
};

struct CaseOptions {
    std::optional<std::string> queue, status, owner, sla;
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
                      const EmailAttachments& attachments, const std::vector<store::Event>& events) {
    std::cout << fmt::format("{}  {}\n", c.token, c.title);
    std::cout << fmt::format("  status: {}{}   origin: {}   priority: {}   queue: {}\n", matching::name(c.status),
                             c.needs_review ? " (needs review)" : "", c.origin, c.priority, c.queue_name.value_or("-"));
    std::cout << fmt::format("  customer contact: {}   created: {}   updated: {}\n", c.customer_contact_id, c.created_at,
                             c.updated_at);
    if (c.resolution)
        std::cout << fmt::format("  resolution{}: {}{}\n", c.resolution_type ? " (" + *c.resolution_type + ")" : "",
                                 *c.resolution,
                                 c.time_spent_minutes ? fmt::format("   time spent: {} min", *c.time_spent_minutes) : "");
    if (c.owner) std::cout << fmt::format("  owner: {}\n", *c.owner);
    if (!c.description.empty()) std::cout << "\n" << c.description << "\n";
    std::cout << fmt::format("\n  emails ({}):\n", emails.size());
    for (const auto& e : emails) {
        std::cout << fmt::format("    #{} {} {}  <{}>\n", e.id, matching::name(e.direction), e.subject, e.message_id.value_or(""));
        if (!e.correlation.empty())
            std::cout << fmt::format("      linked by: {} {}\n", e.correlation, mime::printable(e.correlation_detail, 200));
        if (e.review_reason) std::cout << fmt::format("      REVIEW: {}\n", mime::printable(*e.review_reason, 200));
        for (const auto& p : e.parties)
            std::cout << fmt::format("      {:<5} {} {}\n", p.role, mime::printable(p.address, 100),
                                     p.contact_id ? fmt::format("-> contact {}", *p.contact_id)
                                     : p.queue_id ? fmt::format("-> queue {}", *p.queue_id)
                                                  : fmt::format("(unresolved, {} candidates)", p.candidate_count));
        if (auto it = attachments.find(e.id); it != attachments.end())
            for (const auto& a : it->second)
                std::cout << fmt::format("      attachment {}: {} ({}, {} bytes, {}) sha256 {}\n", a.index,
                                         mime::printable(a.filename.empty() ? "(no name)" : a.filename, 100),
                                         a.content_type, a.size, content_name(a.content), a.sha256);
    }
    std::cout << "\n  history:\n";
    for (const auto& ev : events) std::cout << fmt::format("    {} {} {} {}\n", ev.at, ev.actor, ev.kind, ev.detail);
}

// With --sla STATE: the cases with a clock in that state (warning or breached), worst first.
int case_list(Context& ctx, const CaseOptions& o) {
    store::CaseFilter filter;
    filter.queue = o.queue;
    filter.owner = o.owner;
    if (o.status) filter.status = matching::parse_state<matching::CaseStatus>(*o.status);  // checked by CLI11
    auto cases = ctx.store().list_cases(filter);
    if (o.sla) {
        if (ctx.config().slas.empty()) throw BadRequest("no [[sla]] policy is configured: no case has SLA clocks");
        auto wanted = matching::sla::clock_state_named(*o.sla);  // checked by CLI11
        std::erase_if(cases, [&](const store::CaseRecord& c) {
            auto clocks = clocks_of(ctx, c.id).clocks;
            return std::none_of(clocks.begin(), clocks.end(), [&](const auto& v) { return v.state == wanted; });
        });
    }
    return print_list(ctx, cases, case_summary_json, [](const store::CaseRecord& c) {
        return fmt::format("{:<18} {:<9} {:<20} {:>3} mail  {}", c.token, matching::name(c.status),
                           c.queue_name.value_or("-"), c.email_count.value_or(0), c.title);
    });
}

void print_notes_human(const std::vector<store::Note>& notes) {
    if (notes.empty()) return;
    std::cout << "\n  notes:\n";
    for (const auto& n : notes) {
        std::cout << fmt::format("    {} {}: {}\n", n.at, n.author, mime::printable(n.text, 500));
        for (const auto& f : n.files)
            std::cout << fmt::format("      attachment {}: {} ({} bytes) sha256 {}\n", f.index,
                                     mime::printable(f.filename, 100), f.size, f.sha256);
    }
}

void print_sla_human(Context& ctx, const CaseClocks& clocks, const std::vector<store::CaseHold>& holds) {
    if (clocks.clocks.empty() && holds.empty()) return;
    std::cout << "\n  SLA:\n";
    for (const auto& line : clock_lines(ctx, clocks)) std::cout << "    " << line << "\n";
    for (const auto& h : holds)
        std::cout << fmt::format("    on hold {} by {}{}: {}\n", h.held_at, h.held_by,
                                 h.resumed_at ? fmt::format(" until {}", *h.resumed_at) : std::string(" (still)"),
                                 mime::printable(h.reason, 200));
}

int case_show(Context& ctx, const CaseOptions& o) {
    auto& s = ctx.store();
    auto v = read_case_view(s, o.token);
    const auto& c = v.record;
    auto clocks = clocks_of(ctx, c.id);
    auto holds = store::case_holds(s, c.id);
    if (ctx.json()) {
        auto j = case_view_json(s, v);
        j["sla"] = clocks_json(clocks);
        auto sla = store::sla_case(s, c.id);
        j["first_response_at"] = nullptr;
        if (sla && sla->times.first_response) j["first_response_at"] = store::format_time(*sla->times.first_response);
        j["holds"] = json_array(holds, [](const store::CaseHold& h) {
            return nlohmann::json{{"held_at", h.held_at}, {"held_by", h.held_by}, {"reason", h.reason},
                                  {"resumed_at", h.resumed_at ? nlohmann::json(*h.resumed_at) : nullptr}};
        });
        print(j);
        return exit_ok;
    }
    print_case_human(c, v.emails, v.attachments, v.events);
    print_work_order_human(store::work_order(s, c.id));
    print_notes_human(v.notes);
    print_sla_human(ctx, clocks, holds);
    return exit_ok;
}

int attachment_get(Context& ctx, const AttachmentOptions& o) {
    if (o.output.empty() && ::isatty(STDOUT_FILENO))
        throw BadRequest("attachment bytes are not written to a terminal: give -o FILE or redirect stdout");
    auto data = store::read_attachment(ctx.store(), o.email_id, o.index);
    if (o.output.empty()) {
        std::cout.write(data.data(), static_cast<std::streamsize>(data.size()));
        std::cout.flush();
        if (!std::cout) throw BadRequest("cannot write the attachment to stdout");
    } else {
        write_new_file(o.output, data);
        std::cerr << fmt::format("attachment {} of email {}: {} bytes written to {}\n", o.index, o.email_id,
                                 data.size(), o.output);
    }
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
    list->add_option("--owner", o->owner, "cases assigned to this user (with --status active: my active cases)");
    list->add_option("--status", o->status, "active | resolved | cancelled")
        ->check(CLI::IsMember({"active", "resolved", "cancelled"}));
    list->add_option("--sla", o->sla, "cases with an SLA clock in this state: warning | breached")
        ->check(CLI::IsMember({"warning", "breached"}));
    auto* show = t.command(cases, "show", "show a case with its emails and history",
                           [o](Context& c) { return case_show(c, *o); }, true);
    show->add_option("TOKEN", o->token, "case token")->required();
    auto* reactivate = t.command(cases, "reactivate", "reactivate a resolved case", [o](Context& c) {
        c.store().reactivate_case(o->token, c.actor());
        std::cout << fmt::format("case {} reactivated\n", c.store().require_case(o->token).token);
        return exit_ok;
    });
    reactivate->add_option("TOKEN", o->token, "case token")->required();
    add_case_add(t, cases, o);
    add_case_update(t, cases, o);

    auto a = std::make_shared<AttachmentOptions>();
    auto* attachment = t.group("attachment", "read the attachments of stored emails");
    auto* get = t.command(attachment, "get", "write an attachment's decoded bytes (listed by `case show`)",
                          [a](Context& c) { return attachment_get(c, *a); });
    get->add_option("EMAIL_ID", a->email_id, "email id (case show)")->required();
    get->add_option("INDEX", a->index, "attachment number, from 1")->required()->check(CLI::PositiveNumber);
    get->add_option("-o,--output", a->output, "new file to write (mode 0600); default stdout, not a terminal");
}

}  // namespace casemail::cli
