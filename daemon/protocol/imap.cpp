#include "daemon/protocol/imap.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <fmt/format.h>

#include "mime/printable.hpp"

namespace casemail::protocol::imap {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Splits a response into lines without their CR/LF.
std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) out.push_back(line);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(s[i])) != std::toupper(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

// Parses a whole decimal number in [0, 2^32 - 1].
std::optional<std::uint32_t> number(std::string_view s) {
    std::uint32_t v = 0;
    if (s.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

// A folder name for a command. Names are checked when the config is loaded
// (valid_folder_name); one that cannot be quoted here is a programmer error.
std::string must_quote(std::string_view folder) {
    auto q = quoted(folder);
    if (!q) throw std::invalid_argument("IMAP folder name not checked before use: " + q.error());
    return *q;
}

}  // namespace

bool valid_folder_name(std::string_view folder) {
    if (folder.empty() || folder.size() > 200) return false;
    return std::all_of(folder.begin(), folder.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

Result<std::string> quoted(std::string_view folder) {
    if (!valid_folder_name(folder))
        return fail(fmt::format("folder name '{}' must be 1-200 printable ASCII characters",
                                mime::printable(folder, 100)));
    std::string out = "\"";
    for (char c : folder) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string url_path(std::string_view folder) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : folder) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string sequence_set(std::vector<Uid> uids) {
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    std::string out;
    for (std::size_t i = 0; i < uids.size();) {
        std::size_t j = i;
        while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(uids[i]);
        if (j > i) out += ':' + std::to_string(uids[j]);
        i = j + 1;
    }
    return out;
}

std::string command_name(std::string_view command) {
    auto end = command.find(' ', starts_with_ci(command, "UID ") ? 4 : 0);
    return std::string(command.substr(0, end));
}

std::string search_from_command(Uid first) { return fmt::format("UID SEARCH UID {}:*", std::max<Uid>(first, 1)); }

std::string status_command(std::string_view folder) {
    return fmt::format("STATUS {} (UIDVALIDITY UIDNEXT MESSAGES)", must_quote(folder));
}

std::string create_command(std::string_view folder) { return "CREATE " + must_quote(folder); }

std::string move_command(const std::vector<Uid>& uids, std::string_view destination) {
    return fmt::format("UID MOVE {} {}", sequence_set(uids), must_quote(destination));
}

std::string store_flags_command(const std::vector<Uid>& uids, std::string_view flags) {
    return fmt::format("UID STORE {} +FLAGS.SILENT ({})", sequence_set(uids), flags);
}

std::string uid_expunge_command(const std::vector<Uid>& uids) {
    return "UID EXPUNGE " + sequence_set(uids);
}

std::string copy_command(const std::vector<Uid>& uids, std::string_view destination) {
    return fmt::format("UID COPY {} {}", sequence_set(uids), must_quote(destination));
}

std::string list_command(std::string_view folder) { return "LIST \"\" " + must_quote(folder); }

std::string search_range_command(Uid first, Uid last) {
    return fmt::format("UID SEARCH UID {}:{}", std::max<Uid>(first, 1), std::max<Uid>(last, 1));
}

Result<std::vector<Uid>> parse_search(std::string_view response, Uid first, Uid last) {
    std::vector<Uid> out;
    for (auto line : lines_of(response)) {
        if (!starts_with_ci(line, "* SEARCH")) continue;
        line.remove_prefix(8);
        while (!line.empty()) {
            while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
            if (line.empty()) break;
            auto end = std::find_if(line.begin(), line.end(), is_space) - line.begin();
            auto word = line.substr(0, end);
            line.remove_prefix(end);
            // RFC 7162 CONDSTORE appends "(MODSEQ n)"; nothing else may follow the numbers.
            if (!word.empty() && word.front() == '(') break;
            auto uid = number(word);
            if (!uid || *uid == 0)
                return fail(fmt::format("malformed SEARCH response: '{}'", mime::printable(word, 40)));
            if (*uid >= first && *uid <= last) out.push_back(*uid);
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Result<FolderStatus> parse_status(std::string_view response) {
    for (auto line : lines_of(response)) {
        if (!starts_with_ci(line, "* STATUS ")) continue;
        auto open = line.rfind('(');
        auto close = line.rfind(')');
        if (open == std::string_view::npos || close == std::string_view::npos || close < open)
            return fail(fmt::format("malformed STATUS response: '{}'", mime::printable(line, 120)));
        auto items = line.substr(open + 1, close - open - 1);
        FolderStatus st;
        bool have_validity = false;
        std::vector<std::string_view> words;
        while (!items.empty()) {
            while (!items.empty() && is_space(items.front())) items.remove_prefix(1);
            auto end = std::find_if(items.begin(), items.end(), is_space) - items.begin();
            if (end > 0) words.push_back(items.substr(0, end));
            items.remove_prefix(end);
        }
        if (words.size() % 2 != 0)
            return fail(fmt::format("malformed STATUS response: '{}'", mime::printable(line, 120)));
        for (std::size_t i = 0; i < words.size(); i += 2) {
            auto value = number(words[i + 1]);
            if (!value)
                return fail(fmt::format("malformed STATUS value for {}: '{}'", mime::printable(words[i], 20),
                                        mime::printable(words[i + 1], 20)));
            if (starts_with_ci(words[i], "UIDVALIDITY") && words[i].size() == 11) {
                st.uidvalidity = *value;
                have_validity = true;
            } else if (starts_with_ci(words[i], "UIDNEXT") && words[i].size() == 7) {
                st.uidnext = *value;
            } else if (starts_with_ci(words[i], "MESSAGES") && words[i].size() == 8) {
                st.messages = *value;
            }
        }
        if (!have_validity || st.uidvalidity == 0)
            return fail("STATUS response has no UIDVALIDITY");
        return st;
    }
    return fail("no STATUS response");
}

bool has_capability(std::string_view response, std::string_view capability) {
    for (auto line : lines_of(response)) {
        if (!starts_with_ci(line, "* CAPABILITY ")) continue;
        line.remove_prefix(13);
        while (!line.empty()) {
            while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
            auto end = std::find_if(line.begin(), line.end(), is_space) - line.begin();
            auto word = line.substr(0, end);
            if (word.size() == capability.size() && starts_with_ci(word, capability)) return true;
            line.remove_prefix(end);
        }
    }
    return false;
}

}  // namespace casemail::protocol::imap
