#include "store/report.hpp"

#include <map>

namespace casemail::store {
namespace {

// The SQL expression of each dimension, over "case" c, queue q and the property account p.
const std::map<std::string, std::string>& dimensions() {
    static const std::map<std::string, std::string> all = {
        {"queue", "q.name"},         {"category", "c.category"}, {"request-type", "c.request_type"},
        {"ward", "p.ward"},          {"property", "p.name"},     {"origin", "c.origin"},
        {"status", "c.status"},      {"month", "substr(c.created_at, 1, 7)"},
    };
    return all;
}

}  // namespace

bool valid_report_dimension(const std::string& by) { return dimensions().count(by) != 0; }

std::vector<matching::ReportCase> report_cases(Store& store, const std::string& by, const std::optional<std::string>& from,
                                               const std::optional<std::string>& to) {
    auto dim = dimensions().find(by);
    if (dim == dimensions().end()) throw Refused("unknown report dimension '" + by + "'");
    // The dimension's SQL comes from the fixed table above, never from the user.
    auto st = store.db().cached(
        "SELECT coalesce(" + dim->second + R"(, ''), c.status,
                CAST(strftime('%s', c.first_response_at) - strftime('%s', c.created_at) AS INTEGER),
                CASE WHEN c.status = 'resolved'
                     THEN CAST(strftime('%s', c.resolved_at) - strftime('%s', c.created_at) AS INTEGER) END,
                EXISTS (SELECT 1 FROM sla_alert a WHERE a.case_id = c.id AND a.state = 'breached'),
                c.priority, c.request_type
           FROM "case" c LEFT JOIN queue q ON q.id = c.queue_id LEFT JOIN account p ON p.id = c.property_account_id
          WHERE (?1 IS NULL OR c.created_at >= ?1) AND (?2 IS NULL OR c.created_at < ?2))");
    st->bind_all(from, to);
    std::vector<matching::ReportCase> out;
    while (st->step())
        out.push_back({st->text(0), st->text(1), st->opt_int64(2), st->opt_int64(3), false, st->int64(4) != 0,
                       st->text(5), st->opt_text(6)});
    return out;
}

std::vector<matching::Open311Case> open311_cases(Store& store, const std::optional<std::string>& since) {
    auto st = store.db().cached(
        R"(SELECT c.token, c.status, c.origin, c.created_at, c.updated_at, c.category, c.resolution_type, q.name,
                  p.civic_address, c.confidential, c.anonymous, c.priority, c.request_type
             FROM "case" c LEFT JOIN queue q ON q.id = c.queue_id LEFT JOIN account p ON p.id = c.property_account_id
            WHERE ?1 IS NULL OR c.updated_at >= ?1 ORDER BY c.updated_at, c.id)");
    st->bind(1, since);
    std::vector<matching::Open311Case> out;
    while (st->step()) {
        matching::Open311Case c;
        c.token = st->text(0);
        c.status = st->text(1);
        c.origin = st->text(2);
        c.created_at = st->text(3);
        c.updated_at = st->text(4);
        c.category = st->opt_text(5);
        c.resolution_type = st->opt_text(6);
        c.queue = st->opt_text(7);
        c.place_address = st->opt_text(8);
        c.confidential = st->int64(9) != 0;
        c.anonymous = st->int64(10) != 0;
        c.priority = st->text(11);
        c.request_type = st->opt_text(12);
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace casemail::store
