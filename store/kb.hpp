// Knowledge articles (the 311 guide's knowledge base): added by admins from Markdown files,
// found with SQLite FTS5 (ranked by bm25), suggested for a case from its title and first mail,
// linked to the cases they helped resolve. Writes go inside the caller's transaction; a refusal
// throws Refused.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace casemail::store {

struct KbArticle {
    Id id = 0;
    std::string title, body;
    std::optional<std::string> category;
    bool internal = false;
    std::string created_at, created_by;
};

Id add_article(Store& store, const KbArticle& article, const std::string& actor);
std::optional<KbArticle> find_article(Store& store, Id id);
std::vector<KbArticle> list_articles(Store& store, const std::optional<std::string>& category);

struct KbHit {
    KbArticle article;
    double rank = 0;      // bm25: lower is better
    std::string snippet;  // the best matching words, [marked]
};
// Articles matching every word of `query` (any order, stemmed), best first. Words are taken
// from the query as plain words: FTS5 syntax in it has no effect.
std::vector<KbHit> search_articles(Store& store, const std::string& query, int limit = 10);
// Articles sharing any of the case's words (its title and the text of its first email), best
// first: the guide's automatic search.
std::vector<KbHit> suggest_articles(Store& store, Id case_id, int limit = 5);

// Records that the article helped with the case (event kb-linked); `sent`: it was also mailed.
void link_article(Store& store, Id case_id, Id article_id, bool sent, const std::string& actor);
std::vector<KbArticle> case_articles(Store& store, Id case_id);

}  // namespace casemail::store
