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

}  // namespace casemail::mime
