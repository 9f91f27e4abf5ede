// The case workflow rules: ownership, team queues, parent and child cases.
#include <doctest/doctest.h>

#include "matching/workflow.hpp"

using namespace casemail::matching;

namespace {

CaseFacts facts(Id id, std::string token, CaseStatus status = CaseStatus::active) {
    CaseFacts f;
    f.id = id;
    f.token = std::move(token);
    f.status = status;
    f.queue_id = 1;
    return f;
}

}  // namespace

TEST_CASE("workflow: taking, handing on and releasing a case") {
    auto c = facts(1, "311-000001-AAAA");
    CHECK(assign_refusal(c, "jdoe") == "");
    CHECK(assign_refusal(c, "jdoe@city.example") == "");
    CHECK(assign_refusal(c, "") != "");
    CHECK(assign_refusal(c, "j doe") != "");
    CHECK(assign_refusal(c, std::string(65, 'a')) != "");
    CHECK(assign_refusal(c, std::string(64, 'a')) == "");
    CHECK(release_refusal(c) == "case 311-000001-AAAA is not assigned: it is already waiting in its queue");
    c.owner = "jdoe";
    CHECK(assign_refusal(c, "jdoe") == "case 311-000001-AAAA is already assigned to jdoe");
    CHECK(assign_refusal(c, "supervisor") == "");
    CHECK(release_refusal(c) == "");
    CHECK(move_refusal(c, 1) == "case 311-000001-AAAA is already in that queue");
    CHECK(move_refusal(c, 2) == "");
    auto resolved = facts(2, "311-000002-BBBB", CaseStatus::resolved);
    CHECK(assign_refusal(resolved, "jdoe") == "case 311-000002-BBBB is resolved: reactivate it first");
    CHECK(move_refusal(resolved, 2) == "case 311-000002-BBBB is resolved: reactivate it first");
    auto cancelled = facts(3, "311-000003-CCCC", CaseStatus::cancelled);
    CHECK(assign_refusal(cancelled, "jdoe") == "case 311-000003-CCCC is cancelled: it cannot be assigned");
}

TEST_CASE("workflow: one level of children, never its own ancestor") {
    auto parent = facts(1, "P"), child = facts(2, "C"), other = facts(3, "O");
    CHECK(child_link_refusal(parent, child) == "");
    CHECK(child_link_refusal(parent, parent) == "a case cannot be its own parent");
    child.parent_id = 1;
    CHECK(child_link_refusal(parent, child) == "C is already a child of P");
    CHECK(child_link_refusal(other, child) == "C is already the child of another case: unlink it first");
    CHECK(child_link_refusal(child, other) == "C is itself a child: a child cannot have children");  // no grandchildren
    parent.child_count = 1;
    CHECK(child_link_refusal(other, parent) == "P has children of its own: a child cannot have children");
    auto resolved = facts(4, "R", CaseStatus::resolved);
    CHECK(child_link_refusal(resolved, other) == "both cases must be active to be linked");
}

TEST_CASE("workflow: resolving a parent under each child_closure policy") {
    auto parent = facts(1, "P");
    std::vector<CaseFacts> children = {facts(2, "C1"), facts(3, "C2", CaseStatus::resolved), facts(4, "C3")};
    CHECK(plan_parent_resolution(parent, children, ChildClosure::independent).close_children.empty());
    CHECK(plan_parent_resolution(parent, children, ChildClosure::independent).refusal.empty());
    auto close = plan_parent_resolution(parent, children, ChildClosure::close_children);
    CHECK(close.refusal.empty());
    CHECK(close.close_children == std::vector<Id>{2, 4});
    auto block = plan_parent_resolution(parent, children, ChildClosure::block_parent);
    CHECK(block.refusal.find("case P has active children (C1, C3)") == 0);
    children[0].status = children[2].status = CaseStatus::resolved;
    CHECK(plan_parent_resolution(parent, children, ChildClosure::block_parent).refusal.empty());
}

TEST_CASE("workflow: resolution types and open activities") {
    std::vector<std::string> types = {"Problem Solved", "Information Provided", "Referred"};
    CHECK(resolution_type("problem solved", types) == "Problem Solved");
    CHECK(resolution_type("REFERRED", types) == "Referred");
    CHECK_FALSE(resolution_type("Solved", types));
    CHECK(open_activities_refusal("T", {}, false) == "");
    CHECK(open_activities_refusal("T", {"outbox 4 reply pending"}, true) == "");
    CHECK(open_activities_refusal("T", {"outbox 4 reply pending", "outbox 5 reply held"}, false) ==
          "case T has mail waiting in the outbox (outbox 4 reply pending; outbox 5 reply held): resolve with --force "
          "to confirm");
}
