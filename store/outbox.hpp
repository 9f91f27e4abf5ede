// The durable outbox: every message casemail sends (acknowledgements, agents' replies,
// pass-through mail) waits here until the upstream server accepted it.
//
// Contract: an entry is written in the same transaction that records the outbound email on its
// case; the relay says 250 only after that commit. Delivery marks an entry delivered only after
// the upstream's 250; a crash in between delivers it again on restart (at least once, never
// lost). Temporary failures are retried with backoff until max_age; permanent ones (5xx) end
// as failed with the server's reply.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace casemail::store {

struct NewOutboxEntry {
    matching::OutboxKind kind = matching::OutboxKind::reply;
    std::optional<Id> case_id, reply_to_email_id, email_id;
    std::string to_address;
    std::string envelope_from;
    std::vector<std::string> envelope_to;
    std::optional<std::string> message_id;
    matching::OutboxStatus status = matching::OutboxStatus::pending;  // or held
    std::optional<std::string> hold_reason;
    std::optional<std::string> raw;  // nullopt: an acknowledgement, rendered at delivery
    // The message is the raw of its recorded email (email_id), which is stored once, there.
    bool raw_is_email = false;
};

struct OutboxEntry {
    Id id = 0;
    matching::OutboxKind kind = matching::OutboxKind::reply;
    std::optional<Id> case_id, reply_to_email_id, email_id;
    std::optional<std::string> case_token;
    std::string to_address;
    std::string envelope_from;
    std::vector<std::string> envelope_to;
    std::optional<std::string> message_id;
    matching::OutboxStatus status = matching::OutboxStatus::pending;
    int attempts = 0;
    std::optional<std::string> next_attempt_at, last_error, delivered_at, hold_reason;
    bool rendered = false;  // the message is ready (acks are rendered by the delivery worker)
    std::string created_at;
};

Id enqueue_outbox(Store& store, const NewOutboxEntry& e);
std::vector<OutboxEntry> list_outbox(Store& store, std::optional<matching::OutboxStatus> status = std::nullopt);
std::optional<OutboxEntry> find_outbox(Store& store, Id id);
OutboxEntry require_outbox(Store& store, Id id);  // Refused when there is no such entry
std::string outbox_raw(Store& store, Id id);  // the message to send, wherever it is stored

// Pending entries whose next attempt is due at `now`, oldest first.
std::vector<OutboxEntry> due_outbox(Store& store, std::chrono::system_clock::time_point now, int limit);

// An acknowledgement rendered (or a held reply rewritten): its envelope and its recorded
// email, whose raw is the message to send.
void set_outbox_rendered(Store& store, Id id, const std::string& envelope_from, const std::vector<std::string>& envelope_to,
                         const std::string& message_id, Id email_id);

// Delivered: the recorded email becomes "sent", and the case's first acknowledgement time is
// set if it had none.
void mark_outbox_delivered(Store& store, Id id, const std::string& server_reply);
void mark_outbox_retry(Store& store, Id id, const std::string& error, std::chrono::system_clock::time_point next);
void mark_outbox_failed(Store& store, Id id, const std::string& error);
// Failed or held: back to pending, due now. Refused for a delivered or unknown entry.
void retry_outbox(Store& store, Id id, const std::string& actor);

}  // namespace casemail::store
