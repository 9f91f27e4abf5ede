// Routing rules (the guide's automatic record creation): which queue, category, request type
// and priority a new case gets, or that a mail makes no case at all (spam, unsolicited mail).
// Rules are evaluated in order and the first whose conditions all hold wins; a reply that
// correlates to an existing case is never routed (plan_ingest only routes new cases).
//
// Conditions: mailbox; from (an address or "@domain"); subject and body words (any of them, as
// whole words, case-insensitive) or a regular expression; an attachment's type ("image/*",
// "application/pdf") or extension ("pdf"); a header present, or equal ("X-Spam-Flag: YES").
// Regular expressions are RE2 (linear time, no backtracking) over at most the first
// max_scan_bytes of the text, so a hostile mail cannot make a match slow.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "matching/route_rule.hpp"
#include "mime/message.hpp"

namespace casemail::matching {

struct RouteMatch {
    const RouteRule* rule = nullptr;
    std::vector<std::string> why;  // one line per condition that held
};

// The first rule that matches `msg` received at `mailbox`, with why.
std::optional<RouteMatch> route(const mime::ParsedMessage& msg, const std::string& mailbox,
                                const std::vector<RouteRule>& rules);

// Why each rule before the match did not hold, for `casemail route test` ("rule 'spam' (line
// 40): no header X-Spam-Flag").
std::vector<std::string> explain_misses(const mime::ParsedMessage& msg, const std::string& mailbox,
                                        const std::vector<RouteRule>& rules);

}  // namespace casemail::matching
