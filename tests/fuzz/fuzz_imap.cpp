// Fuzz target for the IMAP response parsers: what a server (or anything in its place) may
// answer. The first byte picks SEARCH/STATUS/CAPABILITY, the batched FETCH reader or the IDLE
// reader.
// Invariants: SEARCH results are sorted, unique and inside the requested window; the FETCH
// reader keeps no body over its limit and marks exactly the cut ones truncated.
#include <cstdint>
#include <string_view>

#include "daemon/protocol/imap.hpp"
#include "daemon/protocol/imap_fetch.hpp"
#include "daemon/protocol/imap_idle.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {
using casemail::fuzz::require;
using casemail::fuzz::split_by_first_byte;

void imap(std::string_view input) {
    using namespace casemail::protocol::imap;
    auto search = parse_search(input, 5, 100);
    if (search) {
        for (std::size_t i = 0; i < search->size(); ++i) {
            require((*search)[i] >= 5 && (*search)[i] <= 100, "UID outside the window");
            require(i == 0 || (*search)[i - 1] < (*search)[i], "UIDs not sorted and unique");
        }
    }
    auto status = parse_status(input);
    if (status) require(status->uidvalidity != 0, "STATUS without UIDVALIDITY accepted");
    (void)has_capability(input, "MOVE");
}

// The batched FETCH reader, fed in two pieces: kept bytes stay within their limits.
void imap_fetch(std::string_view input) {
    using namespace casemail::protocol::imap;
    FetchLimits limits;
    limits.max_body = 64;
    limits.max_line = 256;
    FetchReader reader("A1", limits);
    auto [first, second] = split_by_first_byte(input);
    if (reader.feed(first)) reader.feed(second);
    for (const auto& item : reader.items()) {
        require(item.uid != 0, "an item without a UID");
        require(item.body.size() <= limits.max_body + 1, "a body over its limit");
        require(item.truncated == (item.body_bytes > limits.max_body), "truncated does not match the literal");
    }
    if (reader.completed_ok()) require(reader.error().empty(), "completed OK with an error");
}

// The IDLE reader, fed in two pieces: a failure has a reason and stays; completion is final.
void imap_idle(std::string_view input) {
    using namespace casemail::protocol::imap;
    IdleReader reader("C1", 128);
    auto [first, second] = split_by_first_byte(input);
    if (reader.feed(first)) reader.feed(second);
    if (reader.failed()) {
        require(!reader.error().empty(), "failed without a reason");
        require(!reader.feed("* 1 EXISTS\r\n"), "fed after failing");
    }
    if (reader.completed_ok()) require(!reader.feed("x"), "data accepted after the completion");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 3 == 0) imap(input);
    else if (data[0] % 3 == 1) imap_fetch(input);
    else imap_idle(input);
    return 0;
}
