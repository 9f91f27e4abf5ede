// casemail init | settings | status: the store itself, the configuration, casemaild's state.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "daemon/cli/context.hpp"
#include "daemon/cli/json_views.hpp"
#include "store/mailbox_state.hpp"

namespace casemail::cli {
namespace {

int init(Context& ctx) {
    auto& s = ctx.store(true);
    std::cout << fmt::format("store {} ready (schema version {})\n", s.db().path(), s.schema_version());
    return exit_ok;
}

// The config module's settings table, as text, JSON or the README's Markdown.
int settings(Context& ctx, bool markdown) {
    auto rows = config::settings_reference();
    if (ctx.json()) {
        print(json_array(rows, [](const config::SettingInfo& r) {
            return nlohmann::json{{"key", r.key}, {"type", r.type}, {"default", r.default_text}, {"bounds", r.bounds},
                                  {"help", r.help}};
        }));
        return exit_ok;
    }
    if (markdown) std::cout << "| key | type | default | meaning |\n| --- | --- | --- | --- |\n";
    for (const auto& r : rows) {
        auto type = r.bounds.empty() ? r.type : fmt::format("{} ({})", r.type, r.bounds);
        auto shown = r.default_text.starts_with("(") ? r.default_text : "`" + r.default_text + "`";
        if (markdown) std::cout << fmt::format("| `{}` | {} | {} | {} |\n", r.key, type, shown, r.help);
        else std::cout << fmt::format("{:<34} {:<22} {:<20} {}\n", r.key, type, r.default_text, r.help);
    }
    return exit_ok;
}

int status(Context& ctx) {
    return print_list(ctx, store::all_mailbox_states(ctx.store()), mailbox_state_json, [](const store::MailboxState& m) {
        return fmt::format("{:<32} {:<10} last poll {}  {}  processed {}  backlog {}{}", m.mailbox, m.folder,
                           m.last_poll_at.value_or("never"),
                           m.failures ? fmt::format("FAILING ({}x): {}", m.failures, m.last_error.value_or(""))
                                      : std::string("ok"),
                           m.processed, m.backlog ? std::to_string(*m.backlog) : "?",
                           m.pending_acks ? fmt::format("  ({} awaiting server ack)", m.pending_acks) : "");
    });
}

}  // namespace

void add_admin_commands(CommandTable& t) {
    t.command(nullptr, "init", "create or migrate the store (safe to repeat)", init);
    auto markdown = std::make_shared<bool>(false);
    auto* s = t.command(nullptr, "settings", "every configuration key: type, default, bounds, meaning",
                        [markdown](Context& ctx) { return settings(ctx, *markdown); }, true);
    s->add_flag("--markdown", *markdown, "print the README's reference table");
    t.command(nullptr, "status", "per-mailbox polling state of casemaild", status, true);
}

}  // namespace casemail::cli
