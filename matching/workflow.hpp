// The case workflow of the city's 311 guide, as rules over plain facts the store reads: who holds
// a case and where it waits (ownership and team queues), and how parent and child cases relate
// and close. Pure: each returns why an action is refused ("" when it may go ahead), or the plan
// the store applies.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "matching/plan.hpp"
#include "matching/states.hpp"

namespace casemail::matching {

struct CaseFacts {
    Id id = 0;
    std::string token;
    CaseStatus status = CaseStatus::active;
    std::optional<std::string> owner;  // nullopt: unassigned, waiting in its queue
    std::optional<Id> queue_id;
    std::optional<Id> parent_id;
    int child_count = 0;
    // Handed to the city's work-order system, not yet resolved there: read-only here, as a
    // resolved case is, until that system's update resolves it.
    std::optional<std::string> work_order_system;
};

// A user name as agents type it: letters, digits and . _ - @ + (an account, not a display name).
bool valid_user_name(const std::string& user);

// Taking a case or giving it to someone (a supervisor): the case must be active, the user valid
// and not already the owner.
std::string assign_refusal(const CaseFacts& c, const std::string& user);
// Giving a case back to its queue: it must be active and owned.
std::string release_refusal(const CaseFacts& c);
// Sending a case to another team's queue (it becomes unassigned there).
std::string move_refusal(const CaseFacts& c, Id queue_id);

// Resolving a case here: not while a work-order system has it (its update resolves it).
std::string resolve_refusal(const CaseFacts& c);
// Handing a case to a work-order system: it must be active and not with one already.
std::string work_order_refusal(const CaseFacts& c);

// Making `child` a child of `parent`. One level only: a child cannot have children, so a case
// is never its own ancestor.
std::string child_link_refusal(const CaseFacts& parent, const CaseFacts& child);

// The configured resolution type that `type` names (case-insensitive), or nullopt.
std::optional<std::string> resolution_type(const std::string& type, const std::vector<std::string>& allowed);
// Resolving with mail still waiting in the outbox (pending or held, `open` describes each): the
// guide warns that open activities go with a resolved case, so it takes a confirmation.
std::string open_activities_refusal(const std::string& token, const std::vector<std::string>& open, bool confirmed);

enum class ChildClosure { independent, close_children, block_parent };

struct ParentResolution {
    std::string refusal;           // block_parent with an active child
    std::vector<Id> close_children;  // close_children: the active children to resolve with it
};
// What resolving a parent does to its children under `policy`.
ParentResolution plan_parent_resolution(const CaseFacts& parent, const std::vector<CaseFacts>& children,
                                        ChildClosure policy);

}  // namespace casemail::matching
