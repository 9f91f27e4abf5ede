// casemail ingest | parse | quarantine | unresolved: the inbound pipeline by hand, what the
// parser reads, mail that could not be parsed, and addresses that wait for an agent.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>

#include "daemon/cli/context.hpp"
#include "daemon/cli/json_views.hpp"
#include "daemon/inbound/ingestor.hpp"
#include "mime/printable.hpp"
#include "store/ingest.hpp"

namespace casemail::cli {
namespace {

struct InboundOptions {
    std::string mailbox, parse_file;
    std::vector<std::string> files;
    std::size_t batch = 200;
    store::Id quarantine_id = 0, party_id = 0, contact_id = 0, email_id = 0;
    bool as_customer = false;
};

inbound::IngestOptions ingest_options(Context& ctx) { return {config::ingest_rules(ctx.config()), ctx.config().limits, ctx.actor()}; }

// One message's line of `casemail ingest` output: its result, or the error that stopped it.
struct Row {
    std::string file;
    inbound::IngestResult result;
    std::optional<std::string> error;
    std::string action() const { return error ? "error" : std::string(matching::name(result.action)); }
};

nlohmann::json ingest_result_json(const std::string& file, const inbound::IngestResult& r,
                                  const std::string& action) {
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    return {{"file", file},
            {"message_id", r.message_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.message_id)},
            {"action", action},
            {"case", opt(r.case_token)},
            {"customer_id", opt(r.customer_id)},
            {"email_id", opt(r.email_id)},
            {"reason", r.reason},
            {"correlation", {{"method", r.evidence.method}, {"evidence", r.evidence.detail}}},
            {"review_reason", r.review_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.review_reason)},
            {"defects", r.defects}};
}

void report_row(const Row& row, bool json) {
    const auto& r = row.result;
    auto reason = row.error.value_or(r.reason);
    if (json) {
        auto j = ingest_result_json(row.file, r, row.action());
        j["reason"] = reason;
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return;
    }
    std::cout << fmt::format("{}: {}{}{} - {}\n", mime::printable(row.file), row.action(),
                             r.case_token ? " " + *r.case_token : "",
                             r.customer_id ? fmt::format(" (customer {})", *r.customer_id) : "",
                             mime::printable(reason, 300));
}

// One file through the pipeline; a failure of this message only is an "error" row.
Row ingest_one(inbound::Ingestor& ingestor, const std::string& file, const std::string& mailbox) {
    try {
        return {file, ingestor.ingest(read_input(file), mailbox), std::nullopt};
    } catch (const store::Refused&) {
        throw;  // no such mailbox: nothing can be ingested
    } catch (const BadRequest& e) {
        return {file, {}, e.what()};
    } catch (const store::Error& e) {  // this message rolled back; the batch goes on
        return {file, {}, e.what()};
    }
}

// `batch` messages per transaction. Results are printed only after their batch commits:
// nothing is reported as stored before it is.
int ingest(Context& ctx, const InboundOptions& o) {
    auto files = expand_inputs(o.files);
    auto& s = ctx.store();
    inbound::Ingestor ingestor(s, ingest_options(ctx));
    std::map<std::string, int> counts;
    auto started = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < files.size();) {
        std::vector<Row> done;
        store::Transaction tx(s.db());
        for (std::size_t n = 0; n < o.batch && i < files.size(); ++n, ++i)
            done.push_back(ingest_one(ingestor, files[i], o.mailbox));
        tx.commit();
        for (const auto& row : done) {
            ++counts[row.action()];
            report_row(row, ctx.json());
        }
        std::cout.flush();
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cerr << fmt::format("casemail: ingested {} message(s) in {:.2f} s ({:.0f} msgs/s): {} created, {} linked, "
                             "{} duplicate, {} ignored, {} quarantined, {} error(s)\n",
                             files.size(), secs, secs > 0 ? files.size() / secs : 0.0, counts["created"],
                             counts["linked"], counts["duplicate"], counts["ignored"], counts["quarantined"],
                             counts["error"]);
    return counts["error"] ? exit_failed : exit_ok;
}

void print_message_human(const mime::ParsedMessage& m) {
    auto list = [](const std::vector<mime::Address>& as) {
        std::string out;
        for (const auto& a : as)
            out += (out.empty() ? "" : ", ") + (a.name.empty() ? a.address : fmt::format("{} <{}>", a.name, a.address));
        return mime::printable(out, 400);
    };
    std::cout << "Message-ID: " << mime::printable(m.message_id) << '\n'
              << "Subject:    " << mime::printable(m.subject, 400) << '\n'
              << "From:       " << list(m.from) << '\n'
              << "To:         " << list(m.to) << '\n';
    if (!m.cc.empty()) std::cout << "Cc:         " << list(m.cc) << '\n';
    if (m.date) std::cout << "Date:       " << store::format_time(*m.date) << '\n';
    for (const auto* f : {&m.flags.auto_reply, &m.flags.bulk, &m.flags.bounce})
        if (f->set) std::cout << "Flag:       " << f->trigger << '\n';
    for (const auto& a : m.attachments)
        std::cout << fmt::format("Attachment: {} ({}, {} bytes){}\n", mime::printable(a.filename), a.content_type, a.size,
                                 a.tnef ? " [TNEF]" : "");
    for (const auto& d : m.defects) std::cout << "Defect:     " << mime::printable(d) << '\n';
    std::cout << '\n' << m.text << '\n';
}

int parse(Context& ctx, const InboundOptions& o) {
    auto raw = read_input(o.parse_file);
    auto parsed = mime::parse_message(raw, ctx.config().limits);
    if (!parsed) {
        std::cerr << "casemail: cannot parse " << mime::printable(o.parse_file) << ": "
                  << mime::printable(parsed.error(), 400) << '\n';
        return exit_failed;
    }
    if (ctx.json()) print(parsed_message_json(*parsed));
    else print_message_human(*parsed);
    return exit_ok;
}

int quarantine_list(Context& ctx) {
    return print_list(ctx, store::quarantine_list(ctx.store()), quarantine_json, [](const store::QuarantineEntry& q) {
        return fmt::format("{:>6}  {}  {:<28} {:>9} bytes  {}", q.id, q.created_at, mime::printable(q.mailbox, 28), q.size,
                           mime::printable(q.reason, 200));
    });
}

int quarantine_retry(Context& ctx, const InboundOptions& o) {
    auto& s = ctx.store();
    inbound::Ingestor ingestor(s, ingest_options(ctx));
    store::Transaction tx(s.db());
    auto r = ingestor.retry_quarantined(o.quarantine_id);
    tx.commit();
    if (ctx.json()) print(ingest_result_json("quarantine:" + std::to_string(o.quarantine_id), r, std::string(matching::name(r.action))));
    else
        std::cout << fmt::format("quarantine {}: {}{} - {}\n", o.quarantine_id, matching::name(r.action),
                                 r.case_token ? " " + *r.case_token : "", mime::printable(r.reason, 300));
    return exit_ok;
}

int unresolved_list(Context& ctx) {
    return print_list(ctx, store::review_items(ctx.store()), review_item_json, [](const store::ReviewItem& it) {
        std::string ids;
        for (auto id : it.candidate_contact_ids) ids += (ids.empty() ? "" : ",") + std::to_string(id);
        return fmt::format("party {:>6}  email {:>6}  {:<18} {:<4} {:<32} candidates {}", it.party_id, it.email_id,
                           it.case_token.value_or("-"), it.role, mime::printable(it.address, 60), ids);
    });
}

int unresolved_link(Context& ctx, const InboundOptions& o) {
    auto& s = ctx.store();
    store::Transaction tx(s.db());
    store::link_party(s, o.party_id, o.contact_id, o.as_customer, ctx.actor());
    tx.commit();
    std::cout << fmt::format("party {} linked to contact {}{}\n", o.party_id, o.contact_id,
                             o.as_customer ? " (now the case customer)" : "");
    return exit_ok;
}

int review_list(Context& ctx) {
    return print_list(ctx, store::email_reviews(ctx.store()), email_review_json, [](const store::EmailReview& it) {
        return fmt::format("email {:>6}  {:<18} {}  {:<32} {}", it.email_id, it.case_token.value_or("-"), it.received_at,
                           mime::printable(it.from, 60), mime::printable(it.reason, 200));
    });
}

int review_clear(Context& ctx, const InboundOptions& o) {
    auto& s = ctx.store();
    store::Transaction tx(s.db());
    store::clear_email_review(s, o.email_id, ctx.actor());
    tx.commit();
    std::cout << fmt::format("email {} taken off the review list\n", o.email_id);
    return exit_ok;
}

void add_review_commands(CommandTable& t, const std::shared_ptr<InboundOptions>& o) {
    auto* review = t.group("review", "emails the inbound rules put aside for an agent, with the reason");
    t.command(review, "list", "list emails waiting for review, oldest first", review_list, true);
    auto* clear = t.command(review, "clear", "take a reviewed email off the list (audit event)",
                            [o](Context& c) { return review_clear(c, *o); });
    clear->add_option("EMAIL_ID", o->email_id, "email id from 'review list'")->required();
    auto* unresolved = t.group("unresolved", "review addresses that match several contacts");
    t.command(unresolved, "list", "list review items", unresolved_list, true);
    auto* link = t.command(unresolved, "link", "link an unresolved address to a contact",
                           [o](Context& c) { return unresolved_link(c, *o); });
    link->add_option("PARTY_ID", o->party_id, "party id from 'unresolved list'")->required();
    link->add_option("CONTACT_ID", o->contact_id, "contact with that address")->required();
    link->add_flag("--as-customer", o->as_customer, "also make it the customer of the case this email opened");
    auto* quarantine = t.group("quarantine", "mail that could not be parsed");
    t.command(quarantine, "list", "list quarantined messages", quarantine_list, true);
    auto* retry = t.command(quarantine, "retry", "parse a quarantined message again",
                            [o](Context& c) { return quarantine_retry(c, *o); }, true);
    retry->add_option("ID", o->quarantine_id, "quarantine id")->required();
}

}  // namespace

void add_inbound_commands(CommandTable& t) {
    auto o = std::make_shared<InboundOptions>();
    auto* in = t.command(nullptr, "ingest", "run the inbound pipeline on raw messages", [o](Context& c) { return ingest(c, *o); },
                         true);
    in->add_option("--mailbox", o->mailbox, "the 311 mailbox the mail arrived at")->required();
    in->add_option("FILE", o->files, "message files or directories, - for stdin")->required();
    in->add_option("--batch", o->batch, "messages per transaction")->default_val(200)->check(CLI::Range(1, 10000));
    auto* p = t.command(nullptr, "parse", "parse one email (FILE or - for stdin) and print it",
                        [o](Context& c) { return parse(c, *o); }, true);
    p->add_option("FILE", o->parse_file, "raw RFC 5322 message")->required();
    add_review_commands(t, o);
}

}  // namespace casemail::cli
