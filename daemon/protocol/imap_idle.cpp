#include "daemon/protocol/imap_idle.hpp"

#include <fmt/format.h>

#include <charconv>

#include "mime/printable.hpp"
#include "mime/strings.hpp"

namespace casemail::protocol::imap {
namespace {

// "n WORD" with n a number: the WORD; "" otherwise.
std::string_view numbered(std::string_view rest) {
    auto space = rest.find(' ');
    if (space == 0 || space == std::string_view::npos) return {};
    unsigned long long n = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + space, n);
    if (ec != std::errc() || end != rest.data() + space) return {};
    auto word = rest.substr(space + 1);
    return word.substr(0, word.find(' '));
}

}  // namespace

IdleReader::IdleReader(std::string tag, std::size_t max_line) : tag_(std::move(tag)), max_line_(max_line) {}

bool IdleReader::fail(std::string why) {
    failed_ = true;
    error_ = std::move(why);
    return false;
}

bool IdleReader::feed(std::string_view bytes) {
    if (failed_) return false;
    if (done_) return bytes.empty() || fail("data after the tagged completion");
    buffer_.append(bytes);
    std::size_t start = 0;
    for (;;) {
        auto end = buffer_.find("\r\n", start);
        if (end == std::string::npos) break;
        if (end - start > max_line_) return fail(fmt::format("a line longer than {} bytes", max_line_));
        line(std::string_view(buffer_).substr(start, end - start));
        start = end + 2;
        if (failed_) return false;
        if (done_ && start != buffer_.size()) return fail("data after the tagged completion");
    }
    buffer_.erase(0, start);
    if (buffer_.size() > max_line_) return fail(fmt::format("a line longer than {} bytes", max_line_));
    return true;
}

void IdleReader::line(std::string_view text) {
    if (!text.empty() && text.back() == '}') {
        fail("a literal where none belongs: " + mime::printable(text, 80));
    } else if (text == "+" || text.starts_with("+ ")) {
        idling_ = true;
    } else if (text.starts_with("* ")) {
        auto rest = text.substr(2);
        if (mime::iequals_ascii(numbered(rest), "EXISTS")) mail_ = true;
        else if (rest.size() >= 3 && mime::iequals_ascii(rest.substr(0, 3), "BYE")) closed_ = true;
    } else if (text.starts_with(tag_ + " ")) {
        auto status = text.substr(tag_.size() + 1);
        done_ = true;
        ok_ = status.size() >= 2 && mime::iequals_ascii(status.substr(0, 2), "OK");
        if (!ok_) error_ = mime::printable(status, 300);
    } else {
        fail("unexpected line: " + mime::printable(text, 80));
    }
}

}  // namespace casemail::protocol::imap
