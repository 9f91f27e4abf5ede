#include "daemon/casemaild/setup.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "daemon/common/log.hpp"
#include "daemon/relay/smtp_server.hpp"
#include "mime/address.hpp"

namespace casemail::casemaild {

store::Store open_store(const Config& cfg) {
    store::StoreOptions opts;
    opts.token_prefix = cfg.token_prefix;
    opts.open.create = true;
    opts.open.durability = store::Durability::full;  // IMAP acknowledgements depend on the commit
    return store::Store::open(cfg.store_path, opts);
}

Result<bool> ensure_queues(store::Store& s, const Config& cfg) {
    for (const auto& m : cfg.mailboxes) {
        auto by_mailbox = s.find_queue(m.address);
        if (by_mailbox && mime::normalize_address(by_mailbox->mailbox) == mime::normalize_address(m.address)) {
            if (by_mailbox->name != m.queue)
                common::log_line(common::log_fields({{"mailbox", m.address}, {"event", "queue-name-differs"},
                                     {"queue", by_mailbox->name}, {"config", m.queue},
                                     {"reason", "the store's queue keeps its name"}}));
            continue;
        }
        if (auto by_name = s.find_queue(m.queue))
            return fail(fmt::format("{}:{}: queue '{}' already has the mailbox {}, not {}", cfg.source, m.line,
                                    m.queue, by_name->mailbox, m.address));
        s.add_queue(m.queue, m.address);
        common::log_line(common::log_fields({{"mailbox", m.address}, {"event", "queue-created"}, {"queue", m.queue}}));
    }
    return true;
}

Result<bool> check_requirements(const Config& cfg) {
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
    for (std::size_t i = 0; i < cfg.workorders.size(); ++i) {
        const auto& w = cfg.workorders[i];
        for (auto [key, dir] : {std::pair{"outbox_dir", &w.outbox_dir}, {"inbox_dir", &w.inbox_dir}}) {
            std::error_code ec;
            if (!std::filesystem::is_directory(*dir, ec))
                errors += fmt::format("{}{}:{}: key 'workorder[{}].{}': '{}' is not a directory", errors.empty() ? "" : "\n",
                                      cfg.source, w.line, i + 1, key, *dir);
        }
    }
    if (!errors.empty()) return fail(errors);
    return true;
}

inbound::IngestOptions ingest_options(const Config& cfg) { return {config::ingest_rules(cfg), cfg.limits, "casemaild"}; }

relay::AcceptSettings accept_settings(const Config& cfg) {
    return {config::outbound_policy(cfg), config::outbound_limits(cfg)};
}

outbox::RenderSettings render_settings(const Config& cfg) {
    return {config::outbound_policy(cfg), config::outbound_limits(cfg), cfg.templates_dir};
}

store::WriterOptions writer_options(const Config& cfg) {
    store::WriterOptions w;
    w.max_group = static_cast<std::size_t>(cfg.commit_group_max);
    w.max_wait = std::chrono::microseconds(cfg.commit_group_wait_us);
    return w;
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

}  // namespace casemail::casemaild
