#include "daemon/settings.hpp"

#include <fmt/format.h>

#include "daemon/smtp_server.hpp"

namespace casemail::daemon {

Result<bool> check_daemon_requirements(const Config& cfg) {
    std::string errors;
    for (std::size_t i = 0; i < cfg.mailboxes.size(); ++i) {
        const auto& m = cfg.mailboxes[i];
        if (auto secret = common::read_secret(m.secret); !secret)
            errors += fmt::format("{}{}:{}: key 'mailbox[{}].{}': mailbox {}: {}", errors.empty() ? "" : "\n", cfg.source,
                                  m.line, i + 1, m.secret.key(), m.address, secret.error());
    }
    if (auto secret = common::read_secret(cfg.upstream.secret); !secret)
        errors += fmt::format("{}{}:{}: key 'upstream.{}': {}", errors.empty() ? "" : "\n", cfg.source,
                              cfg.upstream.line, cfg.upstream.secret.key(), secret.error());
    if (auto ack = load_named_template(outbound_settings(cfg), "acknowledgement"); !ack)
        errors += fmt::format("{}{}: key 'templates.dir': {}", errors.empty() ? "" : "\n", cfg.source, ack.error());
    if (cfg.relay.enabled && !cfg.relay.users_file.empty())
        if (auto users = load_users_file(cfg.relay.users_file); !users)
            errors += fmt::format("{}{}: key 'relay.users_file': {}", errors.empty() ? "" : "\n", cfg.source, users.error());
    if (!errors.empty()) return fail(errors);
    return true;
}
inbound::IngestOptions ingest_options(const Config& cfg, const std::string& actor) {
    inbound::IngestOptions o;
    o.rules.token_prefix = cfg.token_prefix;
    o.rules.own_message_id_domain = cfg.message_id_domain;
    o.rules.resolved_window = cfg.resolved_window;
    o.rules.on_resolved = cfg.on_resolved;
    o.rules.auto_ack = cfg.auto_ack;
    o.rules.ack_limit_per_hour = cfg.ack_limit_per_hour;
    o.limits = cfg.limits;
    if (!cfg.blocked_extensions.empty()) o.rules.blocked_extensions = cfg.blocked_extensions;
    o.actor = actor;
    return o;
}

OutboundSettings outbound_settings(const Config& cfg) {
    OutboundSettings o;
    o.policy.token_prefix = cfg.token_prefix;
    o.policy.hold_confidential = cfg.relay.hold_confidential;
    o.policy.keep_unresolved_as_text = cfg.relay.keep_unresolved_as_text;
    o.message_id_domain = cfg.message_id_domain;
    o.pass_through = cfg.relay.pass_through;
    o.hold_refused = cfg.relay.hold_refused;
    o.templates_dir = cfg.templates_dir;
    o.limits = cfg.limits;
    o.limits.max_message_bytes = std::max(o.limits.max_message_bytes, cfg.relay.max_message_bytes);
    return o;
}

DeliverySettings delivery_settings(const Config& cfg) {
    DeliverySettings d;
    d.max_age = cfg.upstream.max_age;
    d.retry_base = cfg.upstream.retry_base;
    d.retry_max = cfg.upstream.retry_max;
    return d;
}

Result<UpstreamAccount> upstream_account(const Config& cfg) {
    const auto& u = cfg.upstream;
    auto login = config::upstream_login(cfg);
    if (!login) return fail(login.error());
    UpstreamAccount a;
    a.login = std::move(*login);
    a.helo_name = u.helo_name;
    return a;
}

}  // namespace casemail::daemon
