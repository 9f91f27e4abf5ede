// The outbox worker: delivers due entries to the upstream server, one at a time, and records
// each outcome through the store's writer (delivered; retry later with capped exponential backoff;
// failed for a 5xx or after max_age). Acknowledgements are rendered from their template first,
// and released held replies rewritten, in the same way.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>

#include "daemon/outbox/acknowledgement.hpp"
#include "daemon/common/log.hpp"
#include "daemon/outbox/upstream.hpp"
#include "store/writer.hpp"

namespace casemail::outbox {

struct DeliverySettings {
    std::chrono::seconds max_age{3 * 24 * 3600};  // temporary failures retried this long
    std::chrono::seconds retry_base{60};          // first retry delay, doubling
    std::chrono::seconds retry_max{3600};         // cap of the retry delay
    int batch = 50;                               // entries per run
    // Only entries due by then (default: now). `casemaild --once` passes its start, so an entry
    // it defers is not due again within the same run: with the upstream down and a retry
    // delay shorter than a pass over the outbox, --once would otherwise never end.
    std::optional<std::chrono::system_clock::time_point> due_by;
};

struct DeliveryReport {
    int delivered = 0, retried = 0, failed = 0;
    bool more = false;  // a full batch: run again soon
};

DeliveryReport deliver_due(store::Writer& writer, Upstream& upstream, const RenderSettings& render,
                           const DeliverySettings& settings, const common::LogLine& log, const std::atomic<bool>& stop);

// The delay before attempt `attempts + 1` (attempts already made >= 1).
std::chrono::seconds retry_delay(int attempts, const DeliverySettings& settings);

}  // namespace casemail::outbox
