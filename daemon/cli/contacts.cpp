// casemail contact | account | queue: who writes (contacts), what a case is about (accounts),
// and the team queues behind the 311 mailboxes.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "daemon/cli/context.hpp"
#include "daemon/cli/json_views.hpp"
#include "mime/printable.hpp"

namespace casemail::cli {
namespace {

struct ContactOptions {
    store::NewContact contact;
    std::string phone, email_filter, older_than;
    store::Id guest_id = 0, into_id = 0, archive_id = 0;
};

int contact_add(Context& ctx, ContactOptions& o) {
    require_address(o.contact.email, "email");
    if (o.contact.is_guest && o.contact.is_registered) throw BadRequest("a contact is either --guest or --registered, not both");
    if (!o.phone.empty()) o.contact.phone = o.phone;
    auto& s = ctx.store();
    auto id = s.add_contact(o.contact);
    s.record_event(ctx.actor(), "contact-created", std::nullopt, id, std::nullopt,
                   o.contact.is_registered ? "registered" : (o.contact.is_guest ? "guest" : "contact"));
    if (ctx.json()) print({{"id", id}});
    else std::cout << fmt::format("contact {} added\n", id);
    return exit_ok;
}

int contact_list(Context& ctx, const ContactOptions& o) {
    std::optional<std::string> email;
    if (!o.email_filter.empty()) email = o.email_filter;
    return print_list(ctx, ctx.store().list_contacts(email), contact_json, [](const store::Contact& c) {
        return fmt::format("{:>6}  {:<30} {:<32} {}{}", c.id, c.name, c.email,
                           c.is_registered ? "registered" : (c.is_guest ? "guest" : "contact"),
                           c.archived_at ? " (archived)" : "");
    });
}

int archive_guests(Context& ctx, const ContactOptions& o) {
    auto age = config::parse_duration(o.older_than);
    if (!age) throw BadRequest(fmt::format("--older-than: '{}' is not a duration like 90d", mime::printable(o.older_than)));
    auto& s = ctx.store();
    store::Transaction tx(s.db());
    int n = s.archive_guests_before(s.now() - *age, ctx.actor());
    tx.commit();
    std::cout << fmt::format("{} guest contact(s) archived\n", n);
    return exit_ok;
}

void add_contacts(CommandTable& t) {
    auto o = std::make_shared<ContactOptions>();
    auto* contact = t.group("contact", "citizens (customers) and guests");
    auto* add = t.command(contact, "add", "add a contact", [o](Context& c) { return contact_add(c, *o); }, true);
    add->add_option("--email", o->contact.email, "email address")->required();
    add->add_option("--name", o->contact.name, "full name")->required();
    add->add_option("--phone", o->phone, "phone number");
    add->add_flag("--registered", o->contact.is_registered, "authenticated portal user");
    add->add_flag("--guest", o->contact.is_guest, "guest contact (as created from email)");
    auto* list = t.command(contact, "list", "list contacts", [o](Context& c) { return contact_list(c, *o); }, true);
    list->add_option("--email", o->email_filter, "only contacts with this address");
    auto* merge = t.command(contact, "merge", "merge a guest into a registered contact", [o](Context& c) {
        c.store().merge_guest(o->guest_id, o->into_id, c.actor());
        std::cout << fmt::format("guest {} merged into contact {}\n", o->guest_id, o->into_id);
        return exit_ok;
    });
    merge->add_option("GUEST_ID", o->guest_id, "guest contact id")->required();
    merge->add_option("--into", o->into_id, "registered contact id")->required();
    auto* archive = t.command(contact, "archive", "archive a contact (no longer matches mail)", [o](Context& c) {
        c.store().archive_contact(o->archive_id, c.actor());
        std::cout << fmt::format("contact {} archived\n", o->archive_id);
        return exit_ok;
    });
    archive->add_option("ID", o->archive_id, "contact id")->required();
    auto* guests = t.command(contact, "archive-guests", "archive guests created more than DURATION ago (e.g. 90d)",
                             [o](Context& c) { return archive_guests(c, *o); });
    guests->add_option("--older-than", o->older_than, "age, like 90d or 720h")->required();
}

void add_accounts(CommandTable& t) {
    auto a = std::make_shared<store::NewAccount>();
    auto* account = t.group("account", "properties and businesses (context, never customers)");
    auto* add = t.command(account, "add", "add an account", [a](Context& ctx) {
        auto id = ctx.store().add_account(*a);
        if (ctx.json()) print({{"id", id}});
        else std::cout << fmt::format("account {} added\n", id);
        return exit_ok;
    }, true);
    add->add_option("--kind", a->kind, "property | business")->required()->check(CLI::IsMember({"property", "business"}));
    add->add_option("--name", a->name, "name")->required();
    add->add_option("--address", a->civic_address, "civic address");
    add->add_option("--parcel", a->parcel_id, "parcel id");
    add->add_option("--ward", a->ward, "ward");
    add->add_option("--property-type", a->property_type, "property type");
    add->add_option("--license", a->business_license, "business license");
    add->add_option("--category", a->category, "category");
}

struct QueueOptions {
    std::string name, mailbox;
    std::optional<std::string> display_name;
};

void add_queues(CommandTable& t) {
    auto q = std::make_shared<QueueOptions>();
    auto* queue = t.group("queue", "team queues and their 311 mailboxes");
    auto* add = t.command(queue, "add", "add a queue", [q](Context& ctx) {
        require_address(q->mailbox, "mailbox");
        auto id = ctx.store().add_queue(q->name, q->mailbox, q->display_name);
        if (ctx.json()) print({{"id", id}});
        else std::cout << fmt::format("queue {} added\n", id);
        return exit_ok;
    }, true);
    add->add_option("--name", q->name, "queue (team) name")->required();
    add->add_option("--mailbox", q->mailbox, "its 311 mailbox address")->required();
    add->add_option("--display-name", q->display_name, "From display name for replies");
    t.command(queue, "list", "list queues", [](Context& ctx) {
        return print_list(ctx, ctx.store().list_queues(), queue_json, [](const store::Queue& row) {
            return fmt::format("{:>4}  {:<24} {}", row.id, row.name, row.mailbox);
        });
    }, true);
}

}  // namespace

void add_contact_commands(CommandTable& t) {
    add_contacts(t);
    add_accounts(t);
    add_queues(t);
}

}  // namespace casemail::cli
