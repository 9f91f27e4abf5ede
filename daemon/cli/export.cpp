// casemail case export: a case's records for a public records request. Every email exactly as
// received or sent (.eml), the attachments decoded, the case as JSON, the audit log, and a
// MANIFEST.sha256 that `sha256sum -c` checks. Nothing in it depends on when it was made, so two
// exports of an unchanged case are identical file for file. --redact-customer writes a copy for
// release: the customer's identity removed from the JSON, and the raw emails (which carry it and
// cannot be altered without ceasing to be the record) left out, as the manifest says.
#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

#include "daemon/cli/context.hpp"
#include "daemon/cli/json_views.hpp"
#include "mime/digest.hpp"
#include "mime/strings.hpp"
#include "store/attachments.hpp"
#include "store/ingest.hpp"
#include "store/workflow.hpp"

namespace casemail::cli {
namespace {
namespace fs = std::filesystem;

struct ExportOptions {
    std::string token, out;
    bool redact = false;
};

// A file name from an untrusted attachment name: letters, digits, . _ - only, no leading dot,
// at most 80 characters; "attachment" when nothing is left.
std::string safe_name(const std::string& name) {
    std::string out;
    for (unsigned char c : name.substr(name.find_last_of("/\\") == std::string::npos ? 0 : name.find_last_of("/\\") + 1))
        out.push_back(std::isalnum(c) || c == '.' || c == '_' || c == '-' ? static_cast<char>(c) : '_');
    while (!out.empty() && out.front() == '.') out.erase(0, 1);
    if (out.size() > 80) out = out.substr(out.size() - 80);
    return out.empty() ? "attachment" : out;
}

// What goes in the directory: relative path -> bytes, and the manifest's comment lines.
struct Export {
    std::map<std::string, std::string> files;
    std::vector<std::string> notes;
};

// Replaces the customer's name and address wherever they appear in the JSON's strings.
void redact(nlohmann::json& j, const store::Contact& who) {
    if (j.is_string()) {
        auto s = j.get<std::string>();
        for (const auto& secret : {who.email, who.name}) {
            if (secret.size() < 3) continue;
            for (auto at = mime::to_lower_ascii(s).find(mime::to_lower_ascii(secret)); at != std::string::npos;
                 at = mime::to_lower_ascii(s).find(mime::to_lower_ascii(secret), at + 10))
                s.replace(at, secret.size(), "[redacted]");
        }
        j = s;
    } else if (j.is_structured()) {
        for (auto& v : j) redact(v, who);
    }
}

void add_emails(Context& ctx, const std::vector<store::EmailRecord>& emails, bool redacted, Export& out) {
    auto& s = ctx.store();
    int n = 0;
    for (const auto& e : emails) {
        auto stem = fmt::format("{:03}-{}", ++n, matching::name(e.direction));
        if (!redacted) out.files["emails/" + stem + ".eml"] = store::email_raw(s, e.id);
        for (const auto& a : store::email_attachments(s, e.id)) {
            auto name = fmt::format("attachments/{}-{}-{}", stem, a.index, safe_name(a.filename));
            if (a.content == store::AttachmentContent::blocked)
                out.notes.push_back(fmt::format("# {}: blocked type {}, kept as metadata only ({} bytes, sha256 {}): "
                                                "not exported", name, a.content_type, a.size, a.sha256));
            else
                out.files[name] = store::read_attachment(s, e.id, a.index);
        }
    }
    if (redacted && !emails.empty())
        out.notes.push_back("# emails/: left out of this redacted copy: the raw messages carry the customer's identity");
}

Export build(Context& ctx, const ExportOptions& o) {
    auto& s = ctx.store();
    auto v = read_case_view(s, o.token);
    const auto& c = v.record;
    auto j = case_view_json(s, v);
    auto customer = s.find_contact(c.customer_contact_id);
    j["customer"] = customer ? nlohmann::json{{"name", customer->name}, {"email", customer->email}} : nlohmann::json(nullptr);
    auto audit = j["events"];
    j.erase("events");
    if (o.redact && customer) {
        j["customer"] = "[redacted]";
        j["customer_id"] = nullptr;
        for (auto& e : j["emails"])  // the customer's own display names, however they wrote them
            for (auto& p : e["parties"])
                if (mime::to_lower_ascii(p["address"].get<std::string>()) == mime::to_lower_ascii(customer->email))
                    p["name"] = "[redacted]";
        redact(j, *customer);
        redact(audit, *customer);
    }
    Export out;
    out.files["case.json"] = j.dump(2) + "\n";
    out.files["audit.json"] = audit.dump(2) + "\n";
    add_emails(ctx, v.emails, o.redact, out);
    for (const auto& n : v.notes)
        for (const auto& f : n.files)
            out.files[fmt::format("notes/{}-{}-{}", n.id, f.index, safe_name(f.filename))] =
                store::note_attachment(s, n.id, f.index);
    return out;
}

std::string manifest(const Export& e) {
    std::string text;
    for (const auto& note : e.notes) text += note + "\n";
    for (const auto& [path, data] : e.files) text += fmt::format("{}  {}\n", mime::sha256_hex(data), path);
    return text;
}

int case_export(Context& ctx, const ExportOptions& o) {
    auto out = build(ctx, o);
    fs::path dir(o.out);
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
        throw BadRequest(fmt::format("'{}' exists and is not empty: an export never overwrites", o.out));
    fs::create_directories(dir, ec);
    if (ec) throw BadRequest(fmt::format("cannot create '{}': {}", o.out, ec.message()));
    ::chmod(dir.c_str(), 0700);  // residents' records
    for (const auto& [path, data] : out.files) {
        fs::create_directories((dir / path).parent_path(), ec);
        write_new_file((dir / path).string(), data);
    }
    write_new_file((dir / "MANIFEST.sha256").string(), manifest(out));
    std::cout << fmt::format("case {}: {} files in {}{} (check: cd {} && sha256sum -c MANIFEST.sha256)\n", o.token,
                             out.files.size() + 1, o.out, o.redact ? ", customer redacted" : "", o.out);
    return exit_ok;
}

}  // namespace

void add_export_commands(CommandTable& t) {
    auto o = std::make_shared<ExportOptions>();
    auto* cmd = t.command(t.existing_group("case"), "export",
                          "a case's records (raw emails, attachments, case JSON, audit log, MANIFEST.sha256) for a records request",
                          [o](Context& c) { return case_export(c, *o); });
    cmd->add_option("TOKEN", o->token, "case token")->required();
    cmd->add_option("--out", o->out, "directory to write (new, or empty)")->required();
    cmd->add_flag("--redact-customer", o->redact, "a copy for release: the customer's identity removed, raw emails left out");
}

}  // namespace casemail::cli
