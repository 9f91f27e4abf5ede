// casemail kb add|list|show|search|suggest and case link-kb|send-kb: the knowledge articles
// (store/kb.hpp: SQLite FTS5, bm25). An article mailed to a customer goes through the relay's
// own accept path (daemon/relay/accept.hpp): the same rewrite rules and outbox as an agent's
// reply, so it reaches the case's customer only, with the token, threaded.
#include <fmt/format.h>

#include <iostream>

#include "daemon/cli/context.hpp"
#include "daemon/relay/accept.hpp"
#include "mime/compose.hpp"
#include "mime/printable.hpp"
#include "store/kb.hpp"
#include "store/outbound.hpp"

namespace casemail::cli {
namespace {

struct KbOptions {
    std::string title, file, category, query, token, from;
    store::Id id = 0;
    bool internal = false;
    int limit = 10;
};

nlohmann::json article_json(const store::KbArticle& a, bool with_body) {
    nlohmann::json j = {{"id", a.id},
                        {"title", a.title},
                        {"category", a.category ? nlohmann::json(*a.category) : nlohmann::json(nullptr)},
                        {"internal", a.internal},
                        {"created_at", a.created_at},
                        {"created_by", a.created_by}};
    if (with_body) j["body"] = a.body;
    return j;
}

std::string article_line(const store::KbArticle& a) {
    return fmt::format("{:>5}  {:<14} {}{}", a.id, a.category.value_or("-"), mime::printable(a.title, 100),
                       a.internal ? "  (internal)" : "");
}

int print_hits(Context& ctx, const std::vector<store::KbHit>& hits) {
    return print_list(
        ctx, hits,
        [](const store::KbHit& h) {
            auto j = article_json(h.article, false);
            j["rank"] = h.rank;
            j["snippet"] = h.snippet;
            return j;
        },
        [](const store::KbHit& h) { return article_line(h.article) + "\n       " + mime::printable(h.snippet, 200); });
}

store::KbArticle require_article(store::Store& s, store::Id id) {
    auto a = store::find_article(s, id);
    if (!a) throw BadRequest(fmt::format("no knowledge article {}", id));
    return *a;
}

int add(Context& ctx, const KbOptions& o) {
    store::KbArticle a;
    a.title = o.title;
    a.body = read_input(o.file);
    if (!o.category.empty()) a.category = o.category;
    a.internal = o.internal;
    auto& s = ctx.store();
    store::Transaction tx(s.db());
    auto id = store::add_article(s, a, ctx.actor());
    tx.commit();
    if (ctx.json()) print({{"id", id}});
    else std::cout << fmt::format("knowledge article {} added: {}\n", id, mime::printable(a.title, 100));
    return exit_ok;
}

int show(Context& ctx, const KbOptions& o) {
    auto a = require_article(ctx.store(), o.id);
    if (ctx.json()) print(article_json(a, true));
    else std::cout << article_line(a) << "\n\n" << a.body << (a.body.ends_with('\n') ? "" : "\n");
    return exit_ok;
}

// The article as an agent's message to the customer; the relay's rules rewrite it as they
// rewrite any reply (From the queue's mailbox, the token in the subject, threading headers).
std::string article_message(const store::KbArticle& a, const store::CaseRecord& c, const std::string& from,
                            const std::string& to, const std::string& message_id_domain) {
    std::string head;
    head += mime::header_field("From", mime::format_mailbox("", from));
    head += mime::header_field("To", mime::format_mailbox("", to));
    head += mime::header_field("Subject", mime::encode_header_text(fmt::format("[{}] {}", c.token, a.title)));
    head += mime::header_field("Date", mime::format_date(std::chrono::system_clock::now()));
    head += mime::header_field("Message-ID", "<" + store::new_message_id(message_id_domain) + ">");
    head += mime::header_field("MIME-Version", "1.0");
    head += mime::header_field("Content-Type", "text/plain; charset=utf-8");
    head += mime::header_field("Content-Transfer-Encoding", "base64");
    return head + "\r\n" + mime::base64_lines(a.body);
}

int send(Context& ctx, const KbOptions& o) {
    auto& s = ctx.store();
    const auto& cfg = ctx.config();
    store::Transaction tx(s.db());
    auto c = s.require_case(o.token);
    auto a = require_article(s, o.id);
    if (a.internal) throw BadRequest(fmt::format("article {} is internal: it is for agents, never mailed to a citizen", a.id));
    auto customer = s.find_contact(c.customer_contact_id);
    if (!customer || customer->email.empty()) throw BadRequest(fmt::format("case {} has no customer address", c.token));
    auto from = o.from;
    if (from.empty() && c.queue_id)
        for (const auto& q : s.list_queues())
            if (q.id == *c.queue_id) from = q.mailbox;
    if (from.empty()) throw BadRequest("give --from ADDRESS (the case has no queue mailbox)");
    auto raw = article_message(a, c, from, customer->email, cfg.message_id_domain);
    relay::AcceptSettings settings{config::outbound_policy(cfg), config::outbound_limits(cfg)};
    auto verdict = relay::accept_reply(s, raw, from, {customer->email}, settings);
    if (verdict.code != 250) throw BadRequest(fmt::format("refused by the outbound rules: {} {}", verdict.code, verdict.text));
    store::link_article(s, c.id, a.id, true, ctx.actor());
    tx.commit();
    std::cout << fmt::format("article {} to the customer of case {}: {}\n", a.id, c.token, verdict.text);
    return exit_ok;
}

void add_case_kb(CommandTable& t, const std::shared_ptr<KbOptions>& o) {
    auto* cases = t.existing_group("case");
    auto* link = t.command(cases, "link-kb", "record that a knowledge article helped resolve the case", [o](Context& c) {
        auto& s = c.store();
        return apply_change(c, [&](store::Store&) { store::link_article(s, s.require_case(o->token).id, o->id, false, c.actor()); },
                            fmt::format("article {} linked to case {}", o->id, o->token));
    });
    link->add_option("TOKEN", o->token, "case token")->required();
    link->add_option("ARTICLE_ID", o->id, "article id")->required();
    auto* send_cmd = t.command(cases, "send-kb", "mail a public article to the case's customer (through the outbox, as a reply)",
                               [o](Context& c) { return send(c, *o); });
    send_cmd->add_option("TOKEN", o->token, "case token")->required();
    send_cmd->add_option("ARTICLE_ID", o->id, "article id")->required();
    send_cmd->add_option("--from", o->from, "the agent's address (default: the case's queue mailbox)");
}

}  // namespace

void add_kb_commands(CommandTable& t) {
    auto o = std::make_shared<KbOptions>();
    auto* kb = t.group("kb", "knowledge articles: add, find, suggest for a case");
    auto* add_cmd = t.command(kb, "add", "add an article from a Markdown file", [o](Context& c) { return add(c, *o); }, true);
    add_cmd->add_option("--title", o->title, "title")->required();
    add_cmd->add_option("--file", o->file, "the article, Markdown (- for stdin)")->required();
    add_cmd->add_option("--category", o->category, "category");
    add_cmd->add_flag("--internal", o->internal, "for agents only: never mailed to a citizen");
    auto* list = t.command(kb, "list", "articles, oldest first", [o](Context& c) {
        std::optional<std::string> category;
        if (!o->category.empty()) category = o->category;
        return print_list(c, store::list_articles(c.store(), category),
                          [](const store::KbArticle& a) { return article_json(a, false); }, article_line);
    }, true);
    list->add_option("--category", o->category, "only this category");
    auto* show_cmd = t.command(kb, "show", "one article with its text", [o](Context& c) { return show(c, *o); }, true);
    show_cmd->add_option("ID", o->id, "article id")->required();
    auto* search = t.command(kb, "search", "articles with every word of QUERY, best first (full-text, stemmed)",
                             [o](Context& c) { return print_hits(c, store::search_articles(c.store(), o->query, o->limit)); }, true);
    search->add_option("QUERY", o->query, "words")->required();
    search->add_option("--limit", o->limit, "at most this many")->check(CLI::Range(1, 100));
    auto* suggest = t.command(kb, "suggest", "articles for a case, from its title and first mail, best first", [o](Context& c) {
        auto& s = c.store();
        return print_hits(c, store::suggest_articles(s, s.require_case(o->token).id, o->limit));
    }, true);
    suggest->add_option("TOKEN", o->token, "case token")->required();
    suggest->add_option("--limit", o->limit, "at most this many")->check(CLI::Range(1, 100));
    add_case_kb(t, o);
}

}  // namespace casemail::cli
