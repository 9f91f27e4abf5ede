#include "store/workflow.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "mime/digest.hpp"

namespace casemail::store {
namespace {

matching::CaseFacts read_facts(Statement& st) {
    matching::CaseFacts f;
    f.id = st.int64(0);
    f.token = st.text(1);
    f.status = read_state<matching::CaseStatus>(st, 2);
    f.owner = st.opt_text(3);
    f.queue_id = st.opt_int64(4);
    f.parent_id = st.opt_int64(5);
    f.child_count = static_cast<int>(st.int64(6));
    f.work_order_system = st.opt_text(7);
    return f;
}

constexpr const char* facts_columns =
    R"(SELECT c.id, c.token, c.status, c.owner, c.queue_id, c.parent_case_id,
              (SELECT count(*) FROM "case" k WHERE k.parent_case_id = c.id),
              (SELECT w.system FROM work_order w WHERE w.case_id = c.id AND w.open = 1) FROM "case" c )";

void refuse_unless(const std::string& refusal) {
    if (!refusal.empty()) throw Refused(refusal);
}

void set_owner(Store& store, Id case_id, const std::optional<std::string>& owner, std::optional<Id> queue_id) {
    auto st = store.db().cached(
        R"(UPDATE "case" SET owner = ?2, queue_id = coalesce(?3, queue_id), updated_at = ?4 WHERE id = ?1)");
    st->bind_all(case_id, owner, queue_id, store.now_text());
    st->run();
}

std::vector<matching::CaseFacts> children_of(Store& store, Id parent) {
    auto st = store.db().cached(std::string(facts_columns) + "WHERE c.parent_case_id = ?1 ORDER BY c.id");
    st->bind(1, parent);
    std::vector<matching::CaseFacts> out;
    while (st->step()) out.push_back(read_facts(*st));
    return out;
}

// The agents' replies of the case still to go, as "outbox 4 reply pending". The automatic
// acknowledgement is a receipt, not an agent's activity: it does not count.
std::vector<std::string> open_outbox(Store& store, Id case_id) {
    auto st = store.db().cached(
        "SELECT id, kind, status FROM outbox WHERE case_id = ?1 AND kind = 'reply' AND status IN ('pending', 'held') "
        "ORDER BY id");
    st->bind(1, case_id);
    std::vector<std::string> out;
    while (st->step()) out.push_back(fmt::format("outbox {} {} {}", st->int64(0), st->text(1), st->text(2)));
    return out;
}

void set_resolution_details(Store& store, Id case_id, const std::string& type, std::optional<int> minutes) {
    auto st = store.db().cached(R"(UPDATE "case" SET resolution_type = ?2, time_spent_minutes = ?3 WHERE id = ?1)");
    st->bind_all(case_id, type, minutes);
    st->run();
}

}  // namespace

matching::CaseFacts case_facts(Store& store, const std::string& token) {
    auto st = store.db().cached(std::string(facts_columns) + "WHERE c.token = ?1");
    st->bind(1, token);
    if (!st->step()) throw Refused(fmt::format("no case with token '{}'", token));
    return read_facts(*st);
}

void assign_case(Store& store, const std::string& token, const std::string& user, const std::string& actor) {
    auto c = case_facts(store, token);
    refuse_unless(matching::assign_refusal(c, user));
    set_owner(store, c.id, user, std::nullopt);
    store.record_event(actor, "assigned", c.id, std::nullopt, std::nullopt,
                       c.owner ? fmt::format("to {} (was {})", user, *c.owner) : "to " + user);
}

void release_case(Store& store, const std::string& token, const std::string& actor) {
    auto c = case_facts(store, token);
    refuse_unless(matching::release_refusal(c));
    set_owner(store, c.id, std::nullopt, std::nullopt);
    store.record_event(actor, "released", c.id, std::nullopt, std::nullopt, "back to its queue (was " + *c.owner + ")");
}

void move_case(Store& store, const std::string& token, const std::string& queue, const std::string& actor) {
    auto c = case_facts(store, token);
    auto q = store.find_queue(queue);
    if (!q) throw Refused(fmt::format("no queue named '{}'", queue));
    refuse_unless(matching::move_refusal(c, q->id));
    set_owner(store, c.id, std::nullopt, q->id);
    store.record_event(actor, "queue-changed", c.id, std::nullopt, std::nullopt,
                       fmt::format("to {}, unassigned{}", q->name, c.owner ? " (was " + *c.owner + ")" : ""));
}

void link_child(Store& store, const std::string& parent, const std::string& child, const std::string& actor) {
    auto p = case_facts(store, parent);
    auto c = case_facts(store, child);
    refuse_unless(matching::child_link_refusal(p, c));
    auto st = store.db().cached(R"(UPDATE "case" SET parent_case_id = ?2, updated_at = ?3 WHERE id = ?1)");
    st->bind_all(c.id, p.id, store.now_text());
    st->run();
    store.record_event(actor, "child-linked", p.id, std::nullopt, std::nullopt, "child " + c.token);
    store.record_event(actor, "child-linked", c.id, std::nullopt, std::nullopt, "parent " + p.token);
}

void unlink_child(Store& store, const std::string& child, const std::string& actor) {
    auto c = case_facts(store, child);
    if (!c.parent_id) throw Refused(fmt::format("case {} has no parent", c.token));
    if (c.status == matching::CaseStatus::resolved) throw Refused(fmt::format("case {} is resolved: reactivate it first", c.token));
    auto parent = store.find_case(*c.parent_id);
    auto st = store.db().cached(R"(UPDATE "case" SET parent_case_id = NULL, updated_at = ?2 WHERE id = ?1)");
    st->bind_all(c.id, store.now_text());
    st->run();
    std::string parent_token = parent ? parent->token : std::to_string(*c.parent_id);
    store.record_event(actor, "child-unlinked", *c.parent_id, std::nullopt, std::nullopt, "child " + c.token);
    store.record_event(actor, "child-unlinked", c.id, std::nullopt, std::nullopt, "parent " + parent_token);
}

std::vector<std::string> resolve_case(Store& store, const std::string& token, const Resolution& resolution,
                                      const std::vector<std::string>& types, matching::ChildClosure policy,
                                      const std::string& actor) {
    auto type = matching::resolution_type(resolution.type, types);
    if (!type) throw Refused(fmt::format("unknown resolution type '{}' (configured: {})", resolution.type, fmt::join(types, ", ")));
    auto parent = case_facts(store, token);
    refuse_unless(matching::resolve_refusal(parent));
    refuse_unless(matching::open_activities_refusal(parent.token, open_outbox(store, parent.id), resolution.force));
    auto children = children_of(store, parent.id);
    auto plan = matching::plan_parent_resolution(parent, children, policy);
    refuse_unless(plan.refusal);
    for (const auto& child : children)
        if (std::find(plan.close_children.begin(), plan.close_children.end(), child.id) != plan.close_children.end())
            refuse_unless(matching::resolve_refusal(child));
    store.resolve_case(parent.token, resolution.text, actor);
    set_resolution_details(store, parent.id, *type, resolution.minutes_spent);
    std::vector<std::string> closed;
    for (const auto& child : children) {
        if (std::find(plan.close_children.begin(), plan.close_children.end(), child.id) == plan.close_children.end())
            continue;
        store.resolve_case(child.token, "closed with parent " + parent.token + ": " + resolution.text, actor);
        set_resolution_details(store, child.id, *type, std::nullopt);
        closed.push_back(child.token);
    }
    return closed;
}

Id add_note(Store& store, const std::string& token, const std::string& text, const std::vector<NoteFile>& files,
            const std::string& actor) {
    if (text.empty() && files.empty()) throw Refused("a note needs --text or --attach");
    auto c = case_facts(store, token);
    auto st = store.db().cached("INSERT INTO case_note(case_id, author, text, created_at) VALUES (?1, ?2, ?3, ?4)");
    st->bind_all(c.id, actor, text, store.now_text());
    st->run();
    Id note = store.db().last_insert_rowid();
    int position = 0;
    for (const auto& f : files) {
        auto a = store.db().cached(
            "INSERT INTO note_attachment(note_id, position, filename, content_type, size, sha256, data) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        a->bind_all(note, ++position, f.filename, f.content_type, static_cast<std::int64_t>(f.data.size()),
                    mime::sha256_hex(f.data), as_blob(f.data));
        a->run();
    }
    store.record_event(actor, "note-added", c.id, std::nullopt, std::nullopt,
                       fmt::format("note {} ({} attachment{})", note, files.size(), files.size() == 1 ? "" : "s"));
    return note;
}

std::vector<Note> case_notes(Store& store, Id case_id) {
    std::vector<Note> out;
    auto st = store.db().cached("SELECT id, created_at, author, text FROM case_note WHERE case_id = ?1 ORDER BY id");
    st->bind(1, case_id);
    while (st->step()) out.push_back({st->int64(0), st->text(1), st->text(2), st->text(3), {}});
    st->reset();
    for (auto& n : out) {
        auto f = store.db().cached(
            "SELECT position, filename, content_type, sha256, size FROM note_attachment WHERE note_id = ?1 ORDER BY position");
        f->bind(1, n.id);
        while (f->step())
            n.files.push_back({static_cast<int>(f->int64(0)), f->text(1), f->text(2), f->text(3), f->int64(4)});
    }
    return out;
}

std::string note_attachment(Store& store, Id note_id, int index) {
    auto st = store.db().cached("SELECT data FROM note_attachment WHERE note_id = ?1 AND position = ?2");
    st->bind_all(note_id, index);
    if (!st->step()) throw Refused(fmt::format("note {} has no attachment {}", note_id, index));
    return st->blob(0);
}

}  // namespace casemail::store
