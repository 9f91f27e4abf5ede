#include "matching/workflow.hpp"

#include <fmt/format.h>

#include <cctype>

namespace casemail::matching {
namespace {

std::string not_active(const CaseFacts& c, const char* what) {
    if (c.status == CaseStatus::active && c.work_order_system)
        return fmt::format("case {} is with the work-order system {}: {} (it is resolved from there)", c.token,
                           *c.work_order_system, what);
    if (c.status == CaseStatus::active) return {};
    return fmt::format("case {} is {}: {}", c.token, name(c.status),
                       c.status == CaseStatus::resolved ? std::string("reactivate it first") : std::string(what));
}

}  // namespace

bool valid_user_name(const std::string& user) {
    if (user.empty() || user.size() > 64) return false;
    for (unsigned char c : user)
        if (!std::isalnum(c) && c != '.' && c != '_' && c != '-' && c != '@' && c != '+') return false;
    return true;
}

std::string assign_refusal(const CaseFacts& c, const std::string& user) {
    if (auto r = not_active(c, "it cannot be assigned"); !r.empty()) return r;
    if (!valid_user_name(user))
        return "a user name is letters, digits and . _ - @ + (at most 64), like jdoe or jdoe@city.example";
    if (c.owner && *c.owner == user) return fmt::format("case {} is already assigned to {}", c.token, user);
    return {};
}

std::string release_refusal(const CaseFacts& c) {
    if (auto r = not_active(c, "it cannot be released"); !r.empty()) return r;
    if (!c.owner) return fmt::format("case {} is not assigned: it is already waiting in its queue", c.token);
    return {};
}

std::string move_refusal(const CaseFacts& c, Id queue_id) {
    if (auto r = not_active(c, "it cannot change queue"); !r.empty()) return r;
    if (c.queue_id && *c.queue_id == queue_id) return fmt::format("case {} is already in that queue", c.token);
    return {};
}

std::string resolve_refusal(const CaseFacts& c) {
    if (!c.work_order_system) return {};
    return fmt::format("case {} is with the work-order system {}: it is resolved when the work order is", c.token,
                       *c.work_order_system);
}

std::string work_order_refusal(const CaseFacts& c) {
    if (c.work_order_system)
        return fmt::format("case {} is already with the work-order system {}", c.token, *c.work_order_system);
    return not_active(c, "it cannot be handed to a work-order system");
}

std::string child_link_refusal(const CaseFacts& parent, const CaseFacts& child) {
    if (parent.id == child.id) return "a case cannot be its own parent";
    if (child.parent_id) {
        if (*child.parent_id == parent.id) return fmt::format("{} is already a child of {}", child.token, parent.token);
        return fmt::format("{} is already the child of another case: unlink it first", child.token);
    }
    if (parent.parent_id)
        return fmt::format("{} is itself a child: a child cannot have children", parent.token);
    if (child.child_count > 0)
        return fmt::format("{} has children of its own: a child cannot have children", child.token);
    if (parent.status != CaseStatus::active || child.status != CaseStatus::active)
        return "both cases must be active to be linked";
    if (parent.work_order_system || child.work_order_system)
        return "a case with a work-order system cannot be linked: it changes there";
    return {};
}

std::optional<std::string> resolution_type(const std::string& type, const std::vector<std::string>& allowed) {
    auto lower = [](std::string s) {
        for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return s;
    };
    for (const auto& a : allowed)
        if (lower(a) == lower(type)) return a;
    return std::nullopt;
}

std::string open_activities_refusal(const std::string& token, const std::vector<std::string>& open, bool confirmed) {
    if (open.empty() || confirmed) return {};
    std::string list;
    for (const auto& o : open) list += (list.empty() ? "" : "; ") + o;
    return fmt::format("case {} has mail waiting in the outbox ({}): resolve with --force to confirm", token, list);
}

ParentResolution plan_parent_resolution(const CaseFacts& parent, const std::vector<CaseFacts>& children,
                                        ChildClosure policy) {
    ParentResolution out;
    std::vector<const CaseFacts*> active;
    for (const auto& c : children)
        if (c.status == CaseStatus::active) active.push_back(&c);
    if (active.empty() || policy == ChildClosure::independent) return out;
    if (policy == ChildClosure::block_parent) {
        std::string tokens;
        for (const auto* c : active) tokens += (tokens.empty() ? "" : ", ") + c->token;
        out.refusal = fmt::format("case {} has active children ({}): resolve them first (cases.child_closure = "
                                  "\"block_parent\")",
                                  parent.token, tokens);
        return out;
    }
    for (const auto* c : active) out.close_children.push_back(c->id);
    return out;
}

}  // namespace casemail::matching
