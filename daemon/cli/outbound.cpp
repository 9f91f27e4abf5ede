// casemail outbound | outbox | template: what the relay would make of a reply, the outbound
// mail waiting or done, and the templates as a case would see them.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "daemon/cli/context.hpp"
#include "daemon/cli/json_views.hpp"
#include "daemon/outbox/acknowledgement.hpp"
#include "daemon/relay/accept.hpp"
#include "mime/printable.hpp"
#include "mime/strings.hpp"
#include "store/outbox.hpp"

namespace casemail::cli {
namespace {

struct OutboundOptions {
    std::string file, template_name, token;
    std::vector<std::string> rcpts;
    std::optional<std::string> status;
    store::Id outbox_id = 0;
};

int rewrite(Context& ctx, const OutboundOptions& o) {
    auto raw = read_input(o.file);
    const auto& cfg = ctx.config();
    relay::AcceptSettings settings{config::outbound_policy(cfg), config::outbound_limits(cfg)};
    auto preview = relay::preview_rewrite(ctx.store(), raw, o.rcpts, settings);
    if (!preview) throw BadRequest(preview.error());
    const auto& r = preview->rewritten;
    if (ctx.json()) print(rewrite_json(preview->case_token, r));
    else
        std::cout << fmt::format("case {}\nenvelope: {} -> {}\ndropped: {}\n\n{}", preview->case_token, r.envelope_from,
                                 mime::join(r.envelope_to, ", "),
                                 r.dropped.empty() ? "-" : mime::printable(mime::join(r.dropped, ", "), 1000),
                                 r.raw.substr(0, r.raw.find("\r\n\r\n") + 2));
    return exit_ok;
}

int outbox_list(Context& ctx, const OutboundOptions& o) {
    std::optional<matching::OutboxStatus> status;
    if (o.status) status = matching::parse_state<matching::OutboxStatus>(*o.status);  // checked by CLI11
    return print_list(ctx, store::list_outbox(ctx.store(), status), outbox_entry_json, [](const store::OutboxEntry& e) {
        return fmt::format("{:>6}  {:<12} {:<9} {:<18} {:<32} attempts {}  {}", e.id, matching::name(e.kind),
                           matching::name(e.status), e.case_token.value_or("-"), mime::printable(e.to_address, 32),
                           e.attempts, mime::printable(e.last_error.value_or(e.hold_reason.value_or("")), 200));
    });
}

int outbox_retry(Context& ctx, const OutboundOptions& o) {
    auto& s = ctx.store();
    store::Transaction tx(s.db());
    store::retry_outbox(s, o.outbox_id, ctx.actor());
    tx.commit();
    std::cout << fmt::format("outbox entry {} queued again; casemaild sends it on its next outbox run\n", o.outbox_id);
    return exit_ok;
}

int template_render(Context& ctx, const OutboundOptions& o) {
    const auto& cfg = ctx.config();
    outbox::RenderSettings settings{config::outbound_policy(cfg), config::outbound_limits(cfg), cfg.templates_dir};
    auto t = outbox::load_named_template(settings, o.template_name);
    if (!t) throw BadRequest(t.error());
    auto r = templates::render(*t, outbox::case_values(ctx.store(), o.token));
    if (ctx.json())
        print({{"subject", r.subject}, {"text", r.text}, {"html", r.html ? nlohmann::json(*r.html) : nlohmann::json(nullptr)}});
    else
        std::cout << "Subject: " << r.subject << "\n\n" << r.text << (r.html ? "\n--- HTML ---\n" + *r.html : "") << '\n';
    return exit_ok;
}

}  // namespace

void add_outbound_commands(CommandTable& t) {
    auto o = std::make_shared<OutboundOptions>();
    auto* outbound = t.group("outbound", "agents' replies as the relay rewrites them");
    auto* rw = t.command(outbound, "rewrite", "show the rewrite of a reply (FILE or -), without sending",
                         [o](Context& c) { return rewrite(c, *o); }, true);
    rw->add_option("FILE", o->file, "the agent's message")->required();
    rw->add_option("--rcpt", o->rcpts, "envelope recipients the relay would have received");
    auto* outbox = t.group("outbox", "outbound mail waiting for, or done with, delivery");
    auto* list = t.command(outbox, "list", "list outbox entries", [o](Context& c) { return outbox_list(c, *o); }, true);
    list->add_option("--status", o->status, "pending | delivered | failed | held")
        ->check(CLI::IsMember({"pending", "delivered", "failed", "held"}));
    auto* retry = t.command(outbox, "retry", "queue a failed or held entry again (held: release it)",
                            [o](Context& c) { return outbox_retry(c, *o); });
    retry->add_option("ID", o->outbox_id, "outbox entry id")->required();
    auto* tmpl = t.group("template", "email templates");
    auto* render = t.command(tmpl, "render", "preview a template for a case", [o](Context& c) { return template_render(c, *o); },
                             true);
    render->add_option("NAME", o->template_name, "template name, e.g. acknowledgement")->required();
    render->add_option("--case", o->token, "case token")->required();
}

}  // namespace casemail::cli
