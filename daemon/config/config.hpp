// casemail configuration: one struct, loaded and validated once at start.
//
// Source: a TOML file. One table of settings (config.cpp, Postfix's bounded parameter tables
// are the model) names every key with its type, default, bounds and a line of help; it drives
// parsing, the unknown-key errors, `casemail settings` and the reference table in the README,
// and a test holds examples/casemail.toml and the README to exactly its keys.
//
// Validation reports every problem as "FILE:LINE: key 'a.b': what is wrong", one per line of
// the failure's reason, and loading fails when any exist; unknown keys are errors too, so a
// typo never silently falls back to a default. Paths in the file are relative to the file.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/login.hpp"
#include "daemon/protocol/imap.hpp"
#include "matching/ingest.hpp"
#include "matching/outbound.hpp"
#include "matching/sla.hpp"
#include "matching/open311.hpp"
#include "matching/workflow.hpp"
#include "mime/message.hpp"
#include "mime/result.hpp"

namespace casemail::config {

using protocol::imap::AfterProcessing;

// One [[mailbox]]: a 311 mailbox polled over IMAP, routed to its team queue.
struct MailboxConfig {
    int line = 0;               // where it starts in the config file, for messages
    std::string address;        // 311PublicWorks@city.example
    std::string queue;          // team queue name; created at start when missing
    std::string url;            // imaps://host[:port] (default scheme) or imap:// + STARTTLS
    std::string user;
    common::SecretSource secret;   // exactly one source
    bool allow_plaintext = false;  // imap:// without STARTTLS
    std::string ca_file;
    std::string folder = "INBOX";
    AfterProcessing after_processing = AfterProcessing::move;
    std::string move_to = "Processed";
    std::chrono::seconds poll_interval{30};
    bool idle = true;  // IMAP IDLE between polls, when the server offers it
    std::vector<std::string> alert_to;  // told of its queue's SLA warnings and breaches
    std::optional<std::chrono::seconds> expect_mail_within;  // silent longer: an alarm
};

// [alerts]: the alarms of casemaild (see daemon/health/alarms.hpp).
struct AlertsConfig {
    std::vector<std::string> to;  // mailed on each alarm change; empty: logged only
    std::string from;             // "" = the first mailbox's address
    std::chrono::seconds repeat{6 * 3600};
    std::chrono::seconds check_interval{60};
    std::chrono::seconds outbox_age{3600};
    std::chrono::seconds failing_critical_after{15 * 60};
    int review_warning = 100;
    int disk_free_warning = 10, disk_free_critical = 2;  // percent
};

// [relay]: the SMTP relay agents' replies go through.
struct RelayConfig {
    bool enabled = true;
    std::string listen_address = "127.0.0.1";
    int port = 2525;
    std::vector<std::string> allowed_networks = {"127.0.0.0/8", "::1/128"};
    std::string users_file;         // "user:$crypt-hash" lines; AUTH offered when set
    std::string tls_cert, tls_key;  // STARTTLS offered when set
    bool allow_plaintext_auth = false;
    std::size_t max_message_bytes = 25u << 20;
    std::size_t max_recipients = 100;
    std::size_t max_line_length = 1000;
    std::size_t max_connections = 20;
    std::size_t max_connections_per_client = 10;
    std::chrono::seconds idle_timeout{300};
    std::chrono::seconds stress_timeout{10};
    int auth_backoff_after = 5;
    std::chrono::seconds auth_backoff{60};
    std::string hostname = "casemail";
    bool pass_through = false;             // mail without a case: relayed unchanged (logged)
    bool keep_unresolved_as_text = false;  // dropped recipients listed in a note atop the body
    bool hold_confidential = false;        // confidential = "hold"
    bool hold_refused = false;             // on_refused = "hold": keep for review instead of 550
};

// [upstream]: the smarthost the outbox delivers to. Without a url nothing is sent (the outbox
// keeps every entry pending, and casemaild says so at start).
struct UpstreamConfig {
    int line = 0;
    std::string url;  // smtps://host[:port] or smtp://host[:port] (+ STARTTLS unless allow_plaintext)
    std::string user;
    common::SecretSource secret;  // at most one source; none: no AUTH
    bool allow_plaintext = false;
    std::string ca_file;
    std::string helo_name = "casemail";
    std::chrono::seconds max_age{3 * 24 * 3600};
    std::chrono::seconds retry_base{60};
    std::chrono::seconds retry_max{3600};
    std::chrono::seconds poll_interval{10};
};

// [[workorder]]: a work-order system casemail hands cases to through two spool directories.
struct WorkorderConfig {
    int line = 0;
    std::string name;             // "nexgen": `case submit-workorder --system`, the timeline
    std::string outbox_dir;       // where case documents are written for it
    std::string inbox_dir;        // where it drops status updates
    std::string resolution_type;  // of the cases its updates resolve; "" = the first configured
};

// [[open311_service]]: how a case category is published in the Open311 export.
using Open311Service = matching::Open311Service;

struct Config {
    std::string source;  // file it came from, "" for defaults
    std::string store_path = "casemail.db";
    bool store_path_set = false;  // [store] path given explicitly
    std::string token_prefix = "311";
    // [tracking] message_id_domain: the domain of every Message-ID casemail writes; mail
    // carrying it is ours coming back (a loop) and never opens a case.
    std::string message_id_domain = "casemail.invalid";
    // [ingest]
    std::chrono::seconds resolved_window = std::chrono::hours(24 * 14);
    matching::OnResolved on_resolved = matching::OnResolved::link;
    bool auto_ack = true;
    int ack_limit_per_hour = 3;
    matching::OnForeignSender on_foreign_sender = matching::OnForeignSender::review;
    int max_new_cases_per_sender = 10;
    int max_new_cases_per_domain = 0;
    // [cases]
    matching::ChildClosure child_closure = matching::ChildClosure::independent;
    std::vector<std::string> resolution_types = {"Problem Solved", "Information Provided", "Referred", "Duplicate",
                                                 "Cancelled"};
    std::vector<std::string> blocked_extensions;  // empty: the built-in list
    // [limits]
    mime::Limits limits;
    // [daemon]
    int fetch_batch = 200;                      // messages per IMAP fetch and per server acknowledgement
    std::chrono::seconds max_backoff{15 * 60};  // cap of a failing mailbox's retry delay
    std::chrono::seconds connect_timeout{15};
    std::chrono::seconds stall_timeout{60};
    int commit_group_max = 256;    // store writer: items per transaction
    int commit_group_wait_us = 0;     // store writer: how long a group waits for more items
    std::vector<MailboxConfig> mailboxes;
    std::vector<matching::RouteRule> routes;  // [[route]], in order
    // [business_hours] and [[sla]]: SLA clocks count business time only. (TOML cannot have a
    // [sla] table beside [[sla]] entries, hence the calendar's own table.)
    std::array<std::vector<matching::sla::Window>, 7> business_week = *matching::sla::parse_hours("Mon-Fri 08:00-17:00");
    std::string timezone = "UTC";
    const date::time_zone* zone = nullptr;  // located when the config is loaded
    std::set<date::local_days> holidays;
    std::vector<matching::sla::SlaPolicy> slas;  // [[sla]], in order: the first that matches a case
    std::chrono::seconds sla_check_interval{60};
    std::vector<WorkorderConfig> workorders;  // [[workorder]]
    std::vector<Open311Service> open311_services;  // [[open311_service]]
    std::chrono::seconds workorder_sync_interval{300};
    RelayConfig relay;
    UpstreamConfig upstream;
    AlertsConfig alerts;
    // [metrics] listen: GET /metrics for Prometheus; off when the address is empty.
    std::string metrics_address;
    int metrics_port = 0;
    std::string templates_dir;  // [templates] dir; "" = the shipped templates
};

// Loads and validates `path`. On failure the reason holds one line per bad key, with its line.
Result<Config> load_config(const std::string& path);
// The same for a file's text already read; `path` names it in messages and anchors relative paths.
// Reads no file (secrets are read later, by mailbox_login and upstream_login).
Result<Config> parse_config(std::string_view text, const std::string& path);

// One row of the settings table, for `casemail settings` and the README.
struct SettingInfo {
    std::string key;           // "relay.max_connections"; "mailbox.url" for each [[mailbox]]
    std::string type;          // string, boolean, integer, duration, list, path
    std::string default_text;  // as it would be written in the file; "(required)", "(none)"
    std::string bounds;        // "1-10000", "> 0", "" when unbounded
    std::string help;          // one line
};
std::vector<SettingInfo> settings_reference();

// The rules as configured: inbound (ingest), and outbound (the relay and the outbox).
matching::IngestRules ingest_rules(const Config& cfg);
matching::OutboundPolicy outbound_policy(const Config& cfg);
matching::sla::BusinessHours business_hours(const Config& cfg);
// Limits for parsing agents' replies: [limits], but never below what the relay accepts.
mime::Limits outbound_limits(const Config& cfg);

// "14d", "12h", "30m", "45s" or a bare number of seconds.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// The login for a mailbox (IMAP) or the upstream (SMTP), its secret read now. The reason
// names the key, never the secret.
Result<common::ServerLogin> mailbox_login(const MailboxConfig& m, const Config& cfg);
Result<common::ServerLogin> upstream_login(const Config& cfg);

}  // namespace casemail::config
