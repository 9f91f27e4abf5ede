// The review list's side of store/ingest.hpp: addresses that match several contacts, emails
// the inbound rules put aside, and an agent's decision on either (matching::party_link_refusal
// says which decisions are allowed).
#include <fmt/format.h>

#include "matching/review.hpp"
#include "store/ingest.hpp"

namespace casemail::store {

std::vector<ReviewItem> review_items(Store& store) {
    auto& db = store.db();
    std::vector<ReviewItem> out;
    auto st = db.cached(
        R"(SELECT p.id, p.email_id, c.token, p.role, p.address, p.address_norm FROM email_party p
           JOIN email e ON e.id = p.email_id LEFT JOIN "case" c ON c.id = e.case_id
           WHERE p.resolved = 0 AND p.candidate_count >= 2 ORDER BY p.id)");
    std::vector<std::string> norms;
    while (st->step()) {
        out.push_back({st->int64(0), st->int64(1), st->opt_text(2), st->text(3), st->text(4), {}});
        norms.push_back(st->text(5));
    }
    st->reset();
    auto lookups = make_lookups(db);
    for (std::size_t i = 0; i < out.size(); ++i)
        for (const auto& c : lookups->active_contacts(norms[i])) out[i].candidate_contact_ids.push_back(c.id);
    return out;
}

std::vector<EmailReview> email_reviews(Store& store) {
    std::vector<EmailReview> out;
    auto st = store.db().cached(
        R"(SELECT e.id, c.token, coalesce((SELECT address FROM email_party p WHERE p.email_id = e.id AND p.role = 'from'
                                            ORDER BY p.id LIMIT 1), ''),
                  e.subject, e.received_at, e.review_reason
           FROM email e LEFT JOIN "case" c ON c.id = e.case_id WHERE e.review_reason IS NOT NULL ORDER BY e.id)");
    while (st->step()) out.push_back({st->int64(0), st->opt_text(1), st->text(2), st->text(3), st->text(4), st->text(5)});
    return out;
}

void clear_email_review(Store& store, Id email_id, const std::string& actor) {
    auto st = store.db().cached("SELECT review_reason, case_id FROM email WHERE id = ?1 AND review_reason IS NOT NULL");
    st->bind(1, email_id);
    if (!st->step()) throw Refused(fmt::format("email {} is not on the review list", email_id));
    auto reason = st->text(0);
    auto case_id = st->opt_int64(1);
    st->reset();
    auto clear = store.db().cached("UPDATE email SET review_reason = NULL WHERE id = ?1");
    clear->bind(1, email_id);
    clear->run();
    store.record_event(actor, "review-cleared", case_id, std::nullopt, email_id, reason);
}

namespace {

// What the review rule needs to know about a party, from the store.
matching::PartyFacts party_facts(Store& store, Id party_id, Id& email_id) {
    auto st = store.db().cached(
        R"(SELECT p.email_id, p.role, p.address_norm, p.resolved, e.case_id, c.token, c.status,
                  (SELECT min(id) FROM email f WHERE f.case_id = e.case_id AND f.direction = 'in') = e.id
           FROM email_party p JOIN email e ON e.id = p.email_id LEFT JOIN "case" c ON c.id = e.case_id
           WHERE p.id = ?1)");
    st->bind(1, party_id);
    if (!st->step()) throw Refused(fmt::format("no party with id {}", party_id));
    email_id = st->int64(0);
    matching::PartyFacts f;
    f.party_id = party_id;
    f.role = st->text(1);
    f.address_norm = st->text(2);
    f.resolved = st->int64(3) != 0;
    f.case_id = st->opt_int64(4);
    f.case_token = st->text(5);
    if (!st->is_null(6)) f.case_status = read_state<matching::CaseStatus>(*st, 6);
    f.email_opened_case = st->int64(7) != 0;
    return f;
}

}  // namespace

void link_party(Store& store, Id party_id, Id contact_id, bool as_customer, const std::string& actor) {
    Id email_id = 0;
    auto party = party_facts(store, party_id, email_id);
    std::optional<matching::ContactFacts> contact;
    if (auto c = store.find_contact(contact_id))
        contact = matching::ContactFacts{c->id, c->email, c->email_norm, c->archived_at || c->merged_into};
    if (auto why = matching::party_link_refusal(party, contact_id, contact, as_customer); !why.empty()) throw Refused(why);

    auto& db = store.db();
    Savepoint sp(db, "link_party");
    auto up = db.cached("UPDATE email_party SET contact_id = ?2, resolved = 1 WHERE id = ?1");
    up->bind_all(party_id, contact_id);
    up->run();
    store.link_email_contact(email_id, contact_id);
    store.record_event(actor, "party-linked", party.case_id, contact_id, email_id,
                       fmt::format("{} {} linked to contact {}", party.role, party.address_norm, contact_id));
    if (as_customer) {
        auto before = store.find_case(*party.case_id);
        auto cu = db.cached(R"(UPDATE "case" SET customer_contact_id = ?2, updated_at = ?3 WHERE id = ?1)");
        cu->bind_all(*party.case_id, contact_id, store.now_text());
        cu->run();
        store.record_event(actor, "customer-changed", party.case_id, contact_id, email_id,
                           fmt::format("customer {} -> {} (sender review)",
                                       before ? before->customer_contact_id : Id{0}, contact_id));
    }
    sp.release();
}

}  // namespace casemail::store
