// The store's side of the work-order hand-off (the 311 guide's NexGen step): a case handed to
// the city's asset system is read-only here (matching/workflow.hpp refuses edits; a trigger
// guards the table) until an update from that system resolves it. Every function writes inside
// the caller's transaction; a refusal throws Refused and changes nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "matching/workflow.hpp"
#include "store/store.hpp"

namespace casemail::store {

struct WorkOrder {
    Id case_id = 0;
    std::string token;
    std::string system, document, submitted_at, submitted_by, status;
    bool open = true;
    std::optional<std::string> external_id, url, updated_at;
};
std::optional<WorkOrder> work_order(Store& store, Id case_id);
// Every work order (of `system` when given; open ones only when asked), oldest first.
std::vector<WorkOrder> list_work_orders(Store& store, const std::optional<std::string>& system, bool open_only);

// Marks the case as with `system` (event workorder-submitted); `document` names the spool file.
void submit_work_order(Store& store, const std::string& token, const std::string& system, const std::string& document,
                       const std::string& actor);

// One status update from a work-order system, as read from its file.
struct WorkOrderUpdate {
    std::string token, status;
    std::optional<std::string> external_id, url, note, resolved_at;
    bool resolved = false;   // the work order is done: the case is resolved here
    std::string file, sha256;  // the file it came from, and its SHA-256 (applied once)
};

struct WorkOrderResolution {
    std::string type;  // a configured resolution type
    std::vector<std::string> types;
    matching::ChildClosure policy = matching::ChildClosure::independent;
};

enum class UpdateOutcome { applied, resolved, already_applied };

// Applies `update` from `system` once (event workorder-updated, and the case resolved when the
// work order is). Refused: no such case, or it was not handed to `system`, or that work order
// is closed.
UpdateOutcome apply_work_order_update(Store& store, const std::string& system, const WorkOrderUpdate& update,
                                      const WorkOrderResolution& resolution, const std::string& actor);

}  // namespace casemail::store
