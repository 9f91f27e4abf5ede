// The Open311 GeoReport v2 view of a case (https://wiki.open311.org/GeoReport_v2): what the city
// publishes about a service request, and what it never publishes. Pure. No citizen identity
// leaves: no name, address or email text of the customer (the description is made from the
// service, not from the citizen's words; status notes name the resolution type, not the
// agent's text), and confidential cases are left out altogether.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace casemail::matching {

// [[open311_service]]: a case category published as a GeoReport service.
struct Open311Service {
    int line = 0;
    std::string category, code, name;
};

// A case as the export reads it from the store.
struct Open311Case {
    std::string token, status, origin, created_at, updated_at;
    std::optional<std::string> category, resolution_type, queue, place_address;
    std::optional<std::string> expected_at;  // the resolution clock's due time, when an SLA sets one
    std::string priority;                    // (to find that SLA; never published)
    std::optional<std::string> request_type;
    bool confidential = false, anonymous = false;
};

// One GeoReport v2 service request; every field is text as the spec's XML and JSON carry it.
struct ServiceRequest {
    std::string service_request_id, status, status_notes, service_name, service_code, description,
        agency_responsible, requested_datetime, updated_datetime;
    std::optional<std::string> expected_datetime, address;
};

// nullopt for a case that is not published (confidential). Categories without a service are
// published as service_code "other", service_name "Other".
std::optional<ServiceRequest> service_request(const Open311Case& c, const std::vector<Open311Service>& services);

}  // namespace casemail::matching
