// The JSON documents exchanged with a work-order system (the README's "Work orders" section,
// and a JSON Schema of each in examples/workorder/). Pure: a case in, its document out; an
// update's text in, the update or why it is refused out.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mime/result.hpp"
#include "store/store.hpp"
#include "store/workorder.hpp"

namespace casemail::workorder {

// The case as the work-order system gets it: what the crew needs (the request, the place),
// never who asked: the customer stays in the case store, where the case is the record.
std::string case_document(const store::CaseRecord& c, const std::optional<store::Account>& property,
                          const std::string& system, const std::string& submitted_at, const std::string& submitted_by);

inline constexpr std::size_t max_update_bytes = 1 << 20;

// {"case": TOKEN, "status": ..., "external_id", "url", "note", "resolved_at"}: "case" and
// "status" required, nothing else allowed; status "resolved" resolves the case.
Result<store::WorkOrderUpdate> parse_update(std::string_view text);

}  // namespace casemail::workorder
