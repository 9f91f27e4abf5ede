#include "matching/open311.hpp"

#include <fmt/format.h>

namespace casemail::matching {

std::optional<ServiceRequest> service_request(const Open311Case& c, const std::vector<Open311Service>& services) {
    if (c.confidential) return std::nullopt;
    ServiceRequest r;
    r.service_request_id = c.token;
    r.status = c.status == "active" ? "open" : "closed";
    r.service_code = "other";
    r.service_name = "Other";
    for (const auto& s : services)
        if (c.category && *c.category == s.category) {
            r.service_code = s.code;
            r.service_name = s.name;
        }
    r.description = fmt::format("{} request received by {}", r.service_name, c.origin == "walk-in" ? "walk-in" : c.origin);
    if (c.status == "resolved") r.status_notes = "Resolved: " + c.resolution_type.value_or("resolved");
    else if (c.status == "cancelled") r.status_notes = "Cancelled";
    r.agency_responsible = c.queue.value_or("");
    r.requested_datetime = c.created_at;
    r.updated_datetime = c.updated_at;
    if (c.status == "active") r.expected_datetime = c.expected_at;
    r.address = c.place_address;
    return r;
}

}  // namespace casemail::matching
