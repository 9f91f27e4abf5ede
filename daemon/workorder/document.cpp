#include "daemon/workorder/document.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "matching/token.hpp"
#include "mime/strings.hpp"

namespace casemail::workorder {
namespace {

using nlohmann::json;

json optional_text(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

// One optional string field of an update: absent, or a string of at most `max` bytes.
Result<std::optional<std::string>> text_field(const json& j, const char* name, std::size_t max) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return std::optional<std::string>();
    if (!it->is_string()) return fail(fmt::format("\"{}\" must be a string", name));
    auto s = it->get<std::string>();
    if (s.size() > max) return fail(fmt::format("\"{}\" is longer than {} bytes", name, max));
    return std::optional<std::string>(std::move(s));
}

}  // namespace

std::string case_document(const store::CaseRecord& c, const std::optional<store::Account>& property,
                          const std::string& system, const std::string& submitted_at, const std::string& submitted_by) {
    json place = nullptr;
    if (property)
        place = {{"name", property->fields.name},
                 {"civic_address", optional_text(property->fields.civic_address)},
                 {"parcel_id", optional_text(property->fields.parcel_id)},
                 {"ward", optional_text(property->fields.ward)}};
    json doc = {{"schema", "casemail.workorder.case/1"},
                {"case", c.token},
                {"system", system},
                {"title", c.title},
                {"description", c.description},
                {"category", optional_text(c.category)},
                {"request_type", optional_text(c.request_type)},
                {"priority", c.priority},
                {"queue", optional_text(c.queue_name)},
                {"origin", c.origin},
                {"opened_at", c.created_at},
                {"submitted_at", submitted_at},
                {"submitted_by", submitted_by},
                {"property", place}};
    return doc.dump(2) + "\n";
}

Result<store::WorkOrderUpdate> parse_update(std::string_view text) {
    if (text.size() > max_update_bytes) return fail(fmt::format("larger than {} bytes", max_update_bytes));
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded()) return fail("not JSON");
    if (!j.is_object()) return fail("not a JSON object");
    for (const auto& [key, value] : j.items())
        if (key != "case" && key != "status" && key != "external_id" && key != "url" && key != "note" &&
            key != "resolved_at")
            return fail(fmt::format("unknown key \"{}\"", key.substr(0, 60)));
    store::WorkOrderUpdate u;
    auto token = text_field(j, "case", 64);
    if (!token) return fail(token.error());
    auto parts = *token ? matching::parse_token(**token) : std::nullopt;
    if (!parts) return fail("\"case\" must be a case token such as 311-000042-K7QX");
    u.token = **token;
    for (auto& ch : u.token) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    auto status = text_field(j, "status", 100);
    if (!status) return fail(status.error());
    if (!*status || (*status)->empty()) return fail("\"status\" is required");
    u.status = **status;
    u.resolved = mime::iequals_ascii(u.status, "resolved");
    for (auto [name, field, max] : {std::tuple{"external_id", &u.external_id, 200}, {"url", &u.url, 2000},
                                    {"note", &u.note, 10000}, {"resolved_at", &u.resolved_at, 40}}) {
        auto v = text_field(j, name, static_cast<std::size_t>(max));
        if (!v) return fail(v.error());
        *field = std::move(*v);
    }
    if (u.url && !u.url->starts_with("https://") && !u.url->starts_with("http://"))
        return fail("\"url\" must be an http(s) URL");
    if (u.resolved_at && !store::parse_time(*u.resolved_at))
        return fail("\"resolved_at\" must be UTC like 2026-11-30T09:15:00Z");
    return u;
}

}  // namespace casemail::workorder
