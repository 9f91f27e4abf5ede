// Subject-line rules: finding case tokens and deriving a case title.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace casemail::matching {

// Every well-formed token "<prefix>-NNNNNN-XXXX" in `subject`, in order, upper-cased: inside
// brackets or not, anywhere in an RE:/AW:/FW: chain. A token must stand alone (not be part of
// a longer word), so "A311-000001-ABCDE" does not match. Only the configured prefix counts.
std::vector<std::string> find_subject_tokens(std::string_view subject, std::string_view prefix);

// The subject without reply/forward prefixes (Re:, RE[2]:, AW:, FW:, Fwd:, WG:, SV:, TR:, VS:,
// RV:, Antw:, Ref:) and without tokens of `prefix` (bracketed or not), white space collapsed;
// "(no subject)" when nothing is left.
std::string case_title(std::string_view subject, std::string_view prefix);

// True for addresses that must never get an automatic reply: noreply, no-reply, donotreply,
// do-not-reply, bounce(s), and their +tag variants; and the mail system's own addresses
// (mime::is_mail_system_address: mailer-daemon, postmaster).
bool is_no_reply_address(std::string_view address);

}  // namespace casemail::matching
