#include "daemon/settings.hpp"

#include <fmt/format.h>

#include "daemon/relay/smtp_server.hpp"

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
    if (auto ack = outbox::load_named_template(render_settings(cfg), "acknowledgement"); !ack)
        errors += fmt::format("{}{}: key 'templates.dir': {}", errors.empty() ? "" : "\n", cfg.source, ack.error());
    if (cfg.relay.enabled && !cfg.relay.users_file.empty())
        if (auto users = relay::load_users_file(cfg.relay.users_file); !users)
            errors += fmt::format("{}{}: key 'relay.users_file': {}", errors.empty() ? "" : "\n", cfg.source, users.error());
    if (!errors.empty()) return fail(errors);
    return true;
}

inbound::IngestOptions ingest_options(const Config& cfg, const std::string& actor) {
    return {config::ingest_rules(cfg), cfg.limits, actor};
}

relay::AcceptSettings accept_settings(const Config& cfg) {
    return {config::outbound_policy(cfg), config::outbound_limits(cfg)};
}

outbox::RenderSettings render_settings(const Config& cfg) {
    return {config::outbound_policy(cfg), config::outbound_limits(cfg), cfg.templates_dir};
}

outbox::DeliverySettings delivery_settings(const Config& cfg) {
    outbox::DeliverySettings d;
    d.max_age = cfg.upstream.max_age;
    d.retry_base = cfg.upstream.retry_base;
    d.retry_max = cfg.upstream.retry_max;
    return d;
}

Result<outbox::UpstreamAccount> upstream_account(const Config& cfg) {
    auto login = config::upstream_login(cfg);
    if (!login) return fail(login.error());
    outbox::UpstreamAccount a;
    a.login = std::move(*login);
    a.helo_name = cfg.upstream.helo_name;
    return a;
}

}  // namespace casemail::daemon
