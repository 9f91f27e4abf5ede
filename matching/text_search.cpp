#include "matching/text_search.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <vector>

namespace casemail::matching {
namespace {

// Words too common to say what a mail is about (for suggestions only: a search keeps them).
constexpr std::array<std::string_view, 48> common_words = {
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "her", "was", "one", "our", "out",
    "his", "has", "have", "had", "this", "that", "with", "from", "they", "will", "would", "there", "their",
    "what", "about", "which", "when", "been", "were", "please", "thank", "thanks", "hello", "dear", "regards",
    "is", "it", "in", "on", "of", "to", "my", "re"};

bool word_byte(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; }

}  // namespace

std::string fts_query(std::string_view text, bool any, std::size_t max_words) {
    std::vector<std::string> words;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < text.size() && words.size() < max_words;) {
        while (i < text.size() && !word_byte(static_cast<unsigned char>(text[i]))) ++i;
        std::string w;
        while (i < text.size() && word_byte(static_cast<unsigned char>(text[i]))) {
            char c = text[i++];
            w.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
        }
        if (w.size() < 2 || w.size() > 64) continue;
        if (any && std::find(common_words.begin(), common_words.end(), w) != common_words.end()) continue;
        if (seen.insert(w).second) words.push_back(w);
    }
    std::string q;
    for (const auto& w : words) q += (q.empty() ? "" : any ? " OR " : " ") + ("\"" + w + "\"");
    return q;
}

}  // namespace casemail::matching
