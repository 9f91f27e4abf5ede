// The store's side of the case workflow (matching/workflow.hpp holds the rules): reads the facts
// the rules need, applies what they allow, and writes an audit event with the actor for each
// change. Every function writes inside the caller's transaction; a refusal throws Refused with
// the rule's reason and changes nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "matching/workflow.hpp"
#include "store/store.hpp"

namespace casemail::store {

matching::CaseFacts case_facts(Store& store, const std::string& token);

// Ownership and team queues (events: assigned, released, queue-changed).
void assign_case(Store& store, const std::string& token, const std::string& user, const std::string& actor);
void release_case(Store& store, const std::string& token, const std::string& actor);
// To another team's queue, where it waits unassigned.
void move_case(Store& store, const std::string& token, const std::string& queue, const std::string& actor);

// Parent and child cases (events on both: child-linked / child-unlinked).
void link_child(Store& store, const std::string& parent, const std::string& child, const std::string& actor);
void unlink_child(Store& store, const std::string& child, const std::string& actor);

struct Resolution {
    std::string type;  // one of the configured resolution types (checked here)
    std::string text;
    std::optional<int> minutes_spent;
    bool force = false;  // resolve even with mail waiting in the outbox
};
// Resolves a case; its active children as `policy` says (each closed child gets its own event).
// Returns the tokens of the children closed with it.
std::vector<std::string> resolve_case(Store& store, const std::string& token, const Resolution& resolution,
                                      const std::vector<std::string>& types, matching::ChildClosure policy,
                                      const std::string& actor);

// Notes on a case's timeline, with attachments (kept whole, with their SHA-256).
struct NoteFile {
    std::string filename, content_type, data;
};
struct Note {
    Id id = 0;
    std::string at, author, text;
    struct File {
        int index = 0;
        std::string filename, content_type, sha256;
        std::int64_t size = 0;
    };
    std::vector<File> files;
};
Id add_note(Store& store, const std::string& token, const std::string& text, const std::vector<NoteFile>& files,
            const std::string& actor);
std::vector<Note> case_notes(Store& store, Id case_id);
// The bytes of attachment `index` (1-based) of a note. Refused when there is none.
std::string note_attachment(Store& store, Id note_id, int index);

}  // namespace casemail::store
