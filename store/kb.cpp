#include "store/kb.hpp"

#include <fmt/format.h>

#include "matching/text_search.hpp"

namespace casemail::store {
namespace {

constexpr const char* article_columns = "SELECT a.id, a.title, a.body, a.category, a.internal, a.created_at, a.created_by ";

KbArticle read_article(Statement& st) {
    return {st.int64(0), st.text(1), st.text(2), st.opt_text(3), st.int64(4) != 0, st.text(5), st.text(6)};
}

std::vector<KbHit> run_search(Store& store, const std::string& fts, int limit) {
    std::vector<KbHit> out;
    if (fts.empty()) return out;
    auto st = store.db().cached(std::string(article_columns) +
                                ", bm25(kb_search, 4.0, 1.0), snippet(kb_search, 1, '[', ']', '...', 12) "
                                "FROM kb_search JOIN kb_article a ON a.id = kb_search.rowid "
                                "WHERE kb_search MATCH ?1 ORDER BY bm25(kb_search, 4.0, 1.0), a.id LIMIT ?2");
    st->bind_all(fts, limit);
    while (st->step()) out.push_back({read_article(*st), st->real(7), st->text(8)});
    return out;
}

}  // namespace

Id add_article(Store& store, const KbArticle& a, const std::string& actor) {
    if (a.title.empty() || a.body.empty()) throw Refused("an article needs a title and a text");
    auto st = store.db().cached(
        "INSERT INTO kb_article(title, body, category, internal, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    st->bind_all(a.title, a.body, a.category, a.internal ? 1 : 0, store.now_text(), actor);
    st->run();
    return store.db().last_insert_rowid();
}

std::optional<KbArticle> find_article(Store& store, Id id) {
    auto st = store.db().cached(std::string(article_columns) + "FROM kb_article a WHERE a.id = ?1");
    st->bind(1, id);
    if (!st->step()) return std::nullopt;
    return read_article(*st);
}

std::vector<KbArticle> list_articles(Store& store, const std::optional<std::string>& category) {
    auto st = store.db().cached(std::string(article_columns) +
                                "FROM kb_article a WHERE ?1 IS NULL OR a.category = ?1 ORDER BY a.id");
    st->bind(1, category);
    std::vector<KbArticle> out;
    while (st->step()) out.push_back(read_article(*st));
    return out;
}

std::vector<KbHit> search_articles(Store& store, const std::string& query, int limit) {
    return run_search(store, matching::fts_query(query, false), limit);
}

std::vector<KbHit> suggest_articles(Store& store, Id case_id, int limit) {
    auto st = store.db().cached(
        R"(SELECT c.title || ' ' || coalesce((SELECT e.body_text FROM email e WHERE e.case_id = c.id
                                               AND e.direction = 'in' ORDER BY e.id LIMIT 1), '')
           FROM "case" c WHERE c.id = ?1)");
    st->bind(1, case_id);
    if (!st->step()) return {};
    auto text = st->text(0);
    return run_search(store, matching::fts_query(text.substr(0, 4000), true), limit);
}

void link_article(Store& store, Id case_id, Id article_id, bool sent, const std::string& actor) {
    auto a = find_article(store, article_id);
    if (!a) throw Refused(fmt::format("no knowledge article {}", article_id));
    auto st = store.db().cached(
        "INSERT INTO case_kb(case_id, article_id, linked_at, linked_by, sent) VALUES (?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT(case_id, article_id) DO UPDATE SET sent = max(sent, excluded.sent)");
    st->bind_all(case_id, article_id, store.now_text(), actor, sent ? 1 : 0);
    st->run();
    store.record_event(actor, sent ? "kb-sent" : "kb-linked", case_id, std::nullopt, std::nullopt,
                       fmt::format("article {}: {}", article_id, a->title));
}

std::vector<KbArticle> case_articles(Store& store, Id case_id) {
    auto st = store.db().cached(std::string(article_columns) +
                                "FROM case_kb k JOIN kb_article a ON a.id = k.article_id WHERE k.case_id = ?1 ORDER BY k.linked_at, a.id");
    st->bind(1, case_id);
    std::vector<KbArticle> out;
    while (st->step()) out.push_back(read_article(*st));
    return out;
}

}  // namespace casemail::store
