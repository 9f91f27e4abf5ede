// Address primitives shared by every module: normalisation for lookup and addr-spec validation.
//
// Normalisation lower-cases the whole address (RFC 5321 §2.4 lets the local part be case
// sensitive, but no mail system a city uses treats it so, and citizens type both) and trims
// surrounding white space and angle brackets. Validation accepts what RFC 5322 §3.4.1 calls an
// addr-spec in its common form: dot-atom or quoted local part, '@', a domain of dot-separated
// labels (UTF-8 labels allowed for IDN domains) or an address literal.
#pragma once

#include <string>
#include <string_view>

namespace casemail::mime {

// Lower-cased, trimmed form used for every contact lookup.
std::string normalize_address(std::string_view address);

// True when `address` is a plausible addr-spec (see header comment). Length-limited to 254.
bool valid_addr_spec(std::string_view address);

// The mail system's own role addresses, which bounces come from: MAILER-DAEMON and postmaster
// (RFC 5321 4.5.1, RFC 2142), in any case, with a +tag or with '-', '_', '.' anywhere. The one
// list of them: the parser's bounce flag and matching's no-reply rule both ask here.
bool is_mail_system_address(std::string_view address);

}  // namespace casemail::mime

#include <vector>

namespace casemail::mime {

struct Address {
    std::string name;     // display name, decoded to UTF-8 ("" when none)
    std::string address;  // addr-spec as written (route removed), "" never
    bool operator==(const Address&) const = default;
};

// Limits for one address header; past them the rest is ignored with a defect.
inline constexpr std::size_t max_addresses_per_header = 1000;

// Parses an RFC 5322 address-list (From/To/Cc/Bcc/Reply-To/Sender value, unfolded).
// Handles display names with quoted commas, comments (also "addr (Name)" as a name), group
// syntax ("Undisclosed recipients:;"), obsolete routes ("<@a,@b:user@host>"), RFC 2047 words
// in names, and UTF-8 addresses. Anything that is not an address is reported in `defects`
// ("unparseable address: ...") and skipped; the function never fails.
std::vector<Address> parse_address_list(std::string_view value, std::vector<std::string>& defects,
                                        std::string_view fallback_charset = "windows-1252");

}  // namespace casemail::mime
