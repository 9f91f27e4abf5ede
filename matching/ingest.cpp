#include "matching/ingest.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "matching/routing.hpp"
#include "matching/subject.hpp"
#include "mime/address.hpp"
#include "mime/decode.hpp"
#include "mime/digest.hpp"
#include "mime/printable.hpp"

namespace casemail::matching {
namespace {

// The case of one Message-ID of the reply chain. A reused id (several different messages, on
// different cases) stops the search: an older reference must not stand in for a guess.
enum class ChainStep { unknown, found, reused };
ChainStep chain_step(const std::string& id, const char* method, const char* key, Lookups& lookups, Correlation& out,
                     std::vector<std::string>& defects) {
    auto cases = lookups.cases_by_message_id(id);
    if (cases.empty() || (cases.size() == 1 && !cases.front())) return ChainStep::unknown;
    if (cases.size() == 1) {
        out = {cases.front(), method, {key, "<" + mime::printable(id, 200) + ">"}, {}};
        return ChainStep::found;
    }
    std::string names;
    for (const auto& c : cases) names += (names.empty() ? "" : ", ") + (c ? c->token : std::string("an email on no case"));
    mime::add_defect(defects, fmt::format("{} <{}> is carried by several different messages ({}): no case is guessed",
                                          method, mime::printable(id, 100), names));
    out.reused_message_id = id;
    return ChainStep::reused;
}

Correlation chain_case(const mime::ParsedMessage& msg, Lookups& lookups, std::vector<std::string>& defects) {
    Correlation out;
    for (const auto& id : msg.in_reply_to)
        if (chain_step(id, "In-Reply-To", "in-reply-to", lookups, out, defects) != ChainStep::unknown) return out;
    // Newest reference first: the nearest known ancestor decides.
    for (auto it = msg.references.rbegin(); it != msg.references.rend(); ++it)
        if (chain_step(*it, "References", "references", lookups, out, defects) != ChainStep::unknown) return out;
    return out;
}

}  // namespace

Correlation correlate(const mime::ParsedMessage& msg, std::string_view token_prefix, Lookups& lookups,
                      std::vector<std::string>& defects) {
    Correlation by_token;
    for (const auto& token : find_subject_tokens(msg.subject, token_prefix)) {
        if (auto c = lookups.case_by_token(token)) {
            by_token = {c, "subject token " + token, {"subject-token", token}, {}};
            break;
        }
        mime::add_defect(defects, "unknown case token in subject: " + token);
    }
    if (!by_token.found && !msg.tracking.empty()) {
        std::string token;
        for (char ch : msg.tracking) token += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (auto c = lookups.case_by_token(token)) by_token = {c, "X-311-Case " + token, {"x-311-case", token}, {}};
        else mime::add_defect(defects, "unknown case token in X-311-Case: " + mime::printable(msg.tracking, 40));
    }
    Correlation by_chain = chain_case(msg, lookups, defects);
    if (by_token.found) {
        if (by_chain.found && by_chain.found->id != by_token.found->id)
            mime::add_defect(defects, fmt::format("token {} differs from the reply chain's case {}; token wins",
                                          by_token.found->token, by_chain.found->token));
        return by_token;
    }
    return by_chain;
}

std::string message_fingerprint(const mime::ParsedMessage& msg) {
    std::string key = "casemail-fingerprint-1\n" + msg.message_id + "\n";
    for (const auto& a : msg.from) key += mime::normalize_address(a.address) + ",";
    key += "\n";
    key += msg.date ? std::to_string(std::chrono::duration_cast<std::chrono::seconds>(msg.date->time_since_epoch()).count())
                    : msg.header("Date").value_or("");
    key += "\n" + msg.subject + "\n" + mime::sha256_hex(msg.text) + "\n" + mime::sha256_hex(msg.html) + "\n";
    for (const auto& a : msg.attachments) key += a.sha256 + ",";
    return mime::sha256_hex(key);
}

namespace {

// Why this mail must not open a case or trigger an acknowledgement, or "" when it may.
std::string guard_reason(const mime::ParsedMessage& msg, const IngestRules& rules, Lookups& lookups) {
    if (msg.flags.auto_reply.set) return "auto-reply (" + msg.flags.auto_reply.trigger + ")";
    if (msg.flags.bounce.set) return "bounce (" + msg.flags.bounce.trigger + ")";
    if (msg.flags.bulk.set) return "bulk mail (" + msg.flags.bulk.trigger + ")";
    for (const auto* list : {&msg.from, &msg.sender})
        for (const auto& a : *list)
            if (lookups.queue_by_address(mime::normalize_address(a.address)))
                return "sent from our own mailbox " + mime::printable(a.address, 80);
    if (!rules.own_message_id_domain.empty()) {
        std::string suffix = "@" + mime::normalize_address(rules.own_message_id_domain);
        if (mime::normalize_address(msg.message_id).ends_with(suffix))
            return "carries our own Message-ID domain";
    }
    return {};
}

const mime::Address* sender_of(const mime::ParsedMessage& msg) {
    for (const auto& a : msg.from)
        if (!a.address.empty()) return &a;
    for (const auto& a : msg.sender)
        if (!a.address.empty()) return &a;
    return nullptr;
}

std::vector<Id> ids_of(const std::vector<ContactRef>& contacts) {
    std::vector<Id> ids;
    for (const auto& c : contacts) ids.push_back(c.id);
    return ids;
}

}  // namespace

bool attachment_blocked(std::string_view filename, const std::vector<std::string>& blocked_extensions) {
    // "invoice.pdf.exe " and "invoice.exe." are the same trick: Windows drops trailing dots
    // and spaces when it saves the file.
    while (!filename.empty() && (filename.back() == ' ' || filename.back() == '.')) filename.remove_suffix(1);
    auto dot = filename.rfind('.');
    if (dot == std::string_view::npos) return false;
    std::string ext(filename.substr(dot + 1));
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return std::find(blocked_extensions.begin(), blocked_extensions.end(), ext) != blocked_extensions.end();
}

EmailStatus email_status(Action a) {
    switch (a) {
        case Action::created: return EmailStatus::created;
        case Action::linked: return EmailStatus::linked;
        case Action::ignored: return EmailStatus::ignored;
    }
    return EmailStatus::ignored;
}

namespace {

// Who the sender is: the first From address, else Sender; its normalised address.
struct Sender {
    const mime::Address* address = nullptr;
    std::string norm;
    std::vector<ContactRef> contacts;  // active contacts with that address
};

// Every address of the mail as a party, resolved where exactly one contact (or one of our
// queues) has it; the history links go to every contact sharing any address. For every
// outcome: nothing a sender writes is lost.
void plan_parties(const mime::ParsedMessage& msg, Lookups& lookups, Sender& sender, IngestPlan& plan) {
    std::vector<Id> history;
    auto add_parties = [&](const char* role, const std::vector<mime::Address>& list) {
        for (const auto& a : list) {
            PartyPlan p{role, a.name, a.address, std::nullopt, false, std::nullopt, false, {}};
            auto norm = mime::normalize_address(a.address);
            if (auto q = lookups.queue_by_address(norm)) {
                p.queue_id = q->id;
                p.resolved = true;
            } else {
                auto contacts = lookups.active_contacts(norm);
                p.candidates = ids_of(contacts);
                if (contacts.size() == 1) {
                    p.contact_id = contacts.front().id;
                    p.resolved = true;
                }
                history.insert(history.end(), p.candidates.begin(), p.candidates.end());
                if (norm == sender.norm) sender.contacts = contacts;
            }
            plan.parties.push_back(std::move(p));
        }
    };
    add_parties("from", msg.from);
    if (msg.from.empty()) add_parties("from", msg.sender);  // Sender stands in for a missing From
    add_parties("to", msg.to);
    add_parties("cc", msg.cc);
    add_parties("bcc", msg.bcc);
    std::sort(history.begin(), history.end());
    history.erase(std::unique(history.begin(), history.end()), history.end());
    plan.history_contact_ids = history;
}

// Links to the correlated case when it takes mail (active, or resolved inside the window
// under link/reactivate). Otherwise the new case will be a follow-up of it (`parent`).
bool plan_existing_case(const Correlation& correlation, const IngestRules& rules, TimePoint now, IngestPlan& plan,
                        std::optional<Id>& parent) {
    if (!correlation.found) return false;
    const auto& c = *correlation.found;
    bool in_window = c.status == CaseStatus::resolved && c.resolved_at && now - *c.resolved_at <= rules.resolved_window;
    if (c.status != CaseStatus::active && !(in_window && rules.on_resolved != OnResolved::new_case)) {
        parent = c.id;  // resolved long ago (or policy new_case), or cancelled: follow-up case
        return false;
    }
    plan.action = Action::linked;
    plan.linked_case = c;
    plan.reason = "linked by " + correlation.method;
    plan.evidence = correlation.evidence;
    if (c.work_order_system) {  // linked for history; its owner is told through the review list
        plan.flag_needs_review = true;
        plan.reason += "; case is with the work-order system " + *c.work_order_system;
        plan.review_reason = fmt::format("mail on case {} while its work order is with {}", c.token, *c.work_order_system);
    } else if (c.status == CaseStatus::resolved) {
        if (rules.on_resolved == OnResolved::reactivate) {
            plan.reactivate = true;
            plan.reason += "; resolved case reactivated";
        } else {
            plan.flag_needs_review = true;
            plan.reason += "; resolved case flagged for review";
            plan.review_reason = "mail on resolved case " + c.token;
        }
    }
    return true;
}

// A new case's customer: the single registered contact with the sender's address, else a new
// guest. The sender's identity decision is authoritative for the From party of a new case,
// except when it was ambiguous: that party stays unresolved for review.
void plan_customer(const Sender& sender, IngestPlan& plan) {
    std::vector<ContactRef> registered;
    for (const auto& c : sender.contacts)
        if (c.is_registered) registered.push_back(c);
    if (registered.size() == 1) {
        plan.customer_contact_id = registered.front().id;
    } else {
        plan.create_guest = true;
        plan.guest_name = sender.address ? sender.address->name : std::string();
        plan.guest_address = sender.address ? sender.address->address : std::string();
        plan.link_history_to_new_guest = true;
        plan.ambiguous_sender = registered.size() > 1;
        if (!sender.address) mime::add_defect(plan.defects, "no sender address: guest customer has no address");
    }
    for (auto& p : plan.parties) {
        if (p.role != "from" || mime::normalize_address(p.address) != sender.norm || p.queue_id) continue;
        p.resolved = !plan.ambiguous_sender;
        p.is_new_guest = plan.create_guest && !plan.ambiguous_sender;
        p.contact_id = plan.create_guest ? std::nullopt : plan.customer_contact_id;
        break;
    }
}

void plan_new_case(const mime::ParsedMessage& msg, const QueueRef& mailbox_queue, const IngestRules& rules,
                   const Correlation& correlation, std::optional<Id> parent, IngestPlan& plan) {
    plan.action = Action::created;
    plan.parent_case_id = parent;
    plan.queue_id = mailbox_queue.id;
    plan.title = case_title(msg.subject, rules.token_prefix);
    plan.description = msg.text;
    plan.reason = parent ? fmt::format("follow-up to closed case {} ({})", correlation.found->token, correlation.method)
                         : "new case";
    plan.evidence = parent ? Evidence{"follow-up", fmt::format("{} by {}", correlation.found->token, correlation.method)}
                           : Evidence{"new-case", "routed to the queue of mailbox " + mime::printable(mailbox_queue.mailbox, 100)};
    // A reply to a reused Message-ID: an agent decides where it belongs, and the citizen gets
    // no receipt for a case that may be a duplicate of their own.
    if (!correlation.reused_message_id.empty()) {
        plan.flag_needs_review = true;
        plan.reason = fmt::format("new case for review: the reply chain names <{}>, a Message-ID reused by "
                                  "different messages",
                                  mime::printable(correlation.reused_message_id, 100));
        plan.review_reason = plan.reason;
        plan.evidence.detail = plan.reason;
    }
}

// The acknowledgement of a new case, at most ack_limit_per_hour per address.
void plan_ack(const Sender& sender, const IngestRules& rules, Lookups& lookups, TimePoint now, IngestPlan& plan) {
    if (!rules.auto_ack || !sender.address || is_no_reply_address(sender.norm) || plan.flag_needs_review) return;
    int sent = lookups.acks_since(sender.norm, now - std::chrono::hours(1));
    if (sent >= rules.ack_limit_per_hour) {
        mime::add_defect(plan.defects,
                         fmt::format("acknowledgement suppressed: {} already sent to this address in the last hour", sent));
        return;
    }
    plan.queue_ack = true;
    plan.ack_address = sender.address->address;
}

// The sender is not on the case it matched: linked for history and put on the review list.
// Nothing else of a link happens: no reactivation, and the customer stays who it was.
void plan_foreign_link(const Sender& sender, IngestPlan& plan) {
    const auto& c = *plan.linked_case;
    std::string who = sender.address ? mime::printable(sender.address->address, 100) : std::string("(no sender address)");
    plan.reactivate = false;
    plan.flag_needs_review = true;
    plan.review_reason = fmt::format("sender not on this case: {} matched {} by {}", who, c.token, plan.evidence.method);
    plan.reason = fmt::format("linked by {} for review: sender {} is not on the case", plan.evidence.method, who);
}

// A flood: past the hourly limit of new cases from one address or domain. Returns the cases
// that address (or domain) opened when it is over the limit.
std::optional<Lookups::OpenedCases> flood_of(const Sender& sender, const IngestRules& rules, Lookups& lookups,
                                             TimePoint now, std::string& who) {
    if (sender.norm.empty()) return std::nullopt;
    auto since = now - std::chrono::hours(1);
    if (rules.max_new_cases_per_sender > 0) {
        auto opened = lookups.cases_opened_by(sender.norm, false, since);
        who = sender.norm;
        if (opened.count >= rules.max_new_cases_per_sender && opened.latest) return opened;
    }
    auto at = sender.norm.rfind('@');
    if (rules.max_new_cases_per_domain > 0 && at != std::string::npos) {
        auto opened = lookups.cases_opened_by(sender.norm.substr(at + 1), true, since);
        who = "@" + sender.norm.substr(at + 1);
        if (opened.count >= rules.max_new_cases_per_domain && opened.latest) return opened;
    }
    return std::nullopt;
}

// Flood mail is linked to the flood's latest case as history: no case, no acknowledgement, and
// one review item (and one log line) per flood.
bool plan_flood(const Sender& sender, const IngestRules& rules, Lookups& lookups, TimePoint now, IngestPlan& plan) {
    std::string who;
    auto flood = flood_of(sender, rules, lookups, now, who);
    if (!flood) return false;
    plan.action = Action::linked;
    plan.linked_case = flood->latest;
    plan.reason = fmt::format("flood guard: {} opened {} cases in the last hour; linked to {} as history",
                              mime::printable(who, 100), flood->count, flood->latest->token);
    plan.evidence = {"flood", plan.reason};
    if (!flood->flood_noted) {
        plan.flood_started = true;
        plan.flag_needs_review = true;
        plan.review_reason = plan.reason;
    }
    return true;
}

// Under on_foreign_sender = new_case the match is set aside: the mail opens its own case.
void forget_foreign_match(const Sender& sender, Correlation& correlation, IngestPlan& plan) {
    mime::add_defect(plan.defects, fmt::format("sender {} is not on case {} it matched by {}: a new case instead",
                                               sender.address ? mime::printable(sender.address->address, 100) : "(none)",
                                               correlation.found->token, correlation.method));
    correlation = Correlation{};
    plan.action = Action::ignored;
    plan.linked_case.reset();
    plan.reactivate = plan.flag_needs_review = false;
    plan.review_reason.clear();
}

std::string route_summary(const RouteMatch& m) {
    std::string why;
    for (const auto& w : m.why) why += (why.empty() ? "" : "; ") + w;
    return fmt::format("rule '{}'{}", m.rule->name, why.empty() ? "" : " (" + why + ")");
}

// Spam and unsolicited mail: stored and linked to its senders' contacts for history, no case,
// no acknowledgement, the rule's name as the reason.
void plan_no_case(const RouteMatch& m, IngestPlan& plan) {
    plan.action = Action::ignored;
    plan.reason = fmt::format("no case: routing rule '{}'", m.rule->name);
    plan.evidence = {"none", route_summary(m)};
}

void plan_route(const RouteMatch& m, Lookups& lookups, IngestPlan& plan) {
    const auto& r = *m.rule;
    plan.route = r.name;
    if (!r.queue.empty()) {
        if (auto q = lookups.queue_by_name(r.queue)) plan.queue_id = q->id;
        else mime::add_defect(plan.defects, fmt::format("routing rule '{}': no queue named '{}'; the mailbox's queue "
                                                        "keeps the case", r.name, r.queue));
    }
    if (!r.category.empty()) plan.category = r.category;
    if (!r.request_type.empty()) plan.request_type = r.request_type;
    if (!r.priority.empty()) plan.priority = r.priority;
    plan.evidence.detail = "routed by " + route_summary(m);
}

bool sender_on_case(const Sender& sender, const CaseRef& c, Lookups& lookups) {
    return !sender.norm.empty() && lookups.sender_on_case(c.id, sender.norm);
}

}  // namespace

IngestPlan plan_ingest(const mime::ParsedMessage& msg, const QueueRef& mailbox_queue,
                       const IngestRules& rules, Lookups& lookups, TimePoint now) {
    IngestPlan plan;
    auto correlation = correlate(msg, rules.token_prefix, lookups, plan.defects);
    std::string guard = guard_reason(msg, rules, lookups);
    Sender sender;
    sender.address = sender_of(msg);
    if (sender.address) sender.norm = mime::normalize_address(sender.address->address);
    plan_parties(msg, lookups, sender, plan);

    // Guarded mail: linked when it correlates, never a case, never an acknowledgement.
    if (!guard.empty()) {
        plan.action = correlation.found ? Action::linked : Action::ignored;
        plan.linked_case = correlation.found;
        plan.reason = correlation.found ? guard + "; linked by " + correlation.method : guard;
        plan.evidence = correlation.found ? correlation.evidence : Evidence{"none", guard};
        return plan;
    }
    std::optional<Id> parent;
    if (plan_existing_case(correlation, rules, now, plan, parent)) {
        if (sender_on_case(sender, *correlation.found, lookups)) return plan;
        if (rules.on_foreign_sender == OnForeignSender::review) {
            plan_foreign_link(sender, plan);
            return plan;
        }
        forget_foreign_match(sender, correlation, plan);
    }
    if (plan_flood(sender, rules, lookups, now, plan)) return plan;
    auto routed = route(msg, mailbox_queue.mailbox, rules.routes);
    if (routed && routed->rule->no_case) {
        plan_no_case(*routed, plan);
        return plan;
    }
    plan_new_case(msg, mailbox_queue, rules, correlation, parent, plan);
    if (routed) plan_route(*routed, lookups, plan);
    plan.opened_by = sender.norm;
    plan_customer(sender, plan);
    plan_ack(sender, rules, lookups, now, plan);
    return plan;
}

}  // namespace casemail::matching
