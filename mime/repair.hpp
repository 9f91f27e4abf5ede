// What mimetic needs before it can read a message, and the real-world damage it cannot read
// past. Internal to casemail_mime (parse.cpp uses it). Each repair is noted as a defect, and the
// input is copied only when something is repaired.
//  - the header block of the top-level message may hold a stray mbox "From " line (left by some
//    archivers): mimetic would end the header there; it is removed;
//  - a Content-Type with an RFC 2231 boundary (boundary*="us-ascii''abc") is rewritten with a
//    plain boundary="abc", which is all mimetic reads;
//  - mimetic drops the last header field when the input ends inside the header, and needs a line
//    break after the last body line to see a closing boundary: both are added.
// The raw message itself is never changed: attachments are located in it, not in this copy.
#pragma once

#include <string>
#include <string_view>

#include "mime/decode.hpp"

namespace casemail::mime::detail {

// `raw`, or `owned` holding the repaired copy.
std::string_view mimetic_input(std::string_view raw, std::string& owned, Defects& defects);

}  // namespace casemail::mime::detail
