// IMAP command building and response parsing for the libcurl IMAP client (RFC 3501, RFC 6851
// MOVE, RFC 4315 UIDPLUS). Pure: strings in, values out; no network.
//
// libcurl runs custom IMAP commands (UID SEARCH, STATUS, UID MOVE...) and hands back the raw
// untagged lines ("* SEARCH 4 7 9"); every command casemail sends is built here and every
// untagged answer it reads is parsed here, so both are unit-tested without a server. (The
// message itself comes from libcurl's own URL FETCH, not from a command built here.) Servers are untrusted: a malformed
// response is a failure with a reason, never an exception or a guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/result.hpp"

namespace casemail::protocol::imap {

using Uid = std::uint32_t;

// What marks a message processed on the server, after its commit.
enum class AfterProcessing {
    flag,    // +FLAGS (\Seen $CasemailProcessed); the message stays in the folder
    move,    // UID MOVE to the processed folder (created when missing)
    remove,  // \Deleted + UID EXPUNGE ("delete" in the config)
};

// A folder name as an IMAP quoted string ("Processed", "Archive/311"). Only printable ASCII
// is accepted: names with other characters need modified UTF-7 (RFC 3501 5.1.3), which
// casemail does not write; config validation refuses them with this reason.
Result<std::string> quoted(std::string_view folder);
bool valid_folder_name(std::string_view folder);

// The folder as the path part of an imap:// URL (RFC 5092): percent-encoded.
std::string url_path(std::string_view folder);

// A compact UID set: {1,2,3,7,9,10} -> "1:3,7,9:10". Input in any order, duplicates ignored.
std::string sequence_set(std::vector<Uid> uids);

// Commands, as libcurl's CURLOPT_CUSTOMREQUEST takes them (no tag, no CRLF).
std::string search_from_command(Uid first);  // UID SEARCH UID first:*
std::string search_range_command(Uid first, Uid last);  // UID SEARCH UID first:last

// UIDs per windowed search: at most 11 bytes each, so one "* SEARCH" line stays far below the
// line length libcurl passes whole (half its 512 KB maximum buffer).
inline constexpr Uid search_window = 10000;
std::string status_command(std::string_view folder);
std::string create_command(std::string_view folder);
std::string move_command(const std::vector<Uid>& uids, std::string_view destination);
std::string store_flags_command(const std::vector<Uid>& uids, std::string_view flags);
std::string uid_expunge_command(const std::vector<Uid>& uids);
std::string copy_command(const std::vector<Uid>& uids, std::string_view destination);
std::string list_command(std::string_view folder);  // LIST "" "folder": does it exist?
inline constexpr const char* capability_command = "CAPABILITY";
inline constexpr const char* expunge_command = "EXPUNGE";  // removes every \Deleted message: only without UIDPLUS

// The command's name for messages: "UID MOVE 1:3 \"Processed\"" -> "UID MOVE", "STATUS ..." -> "STATUS".
std::string command_name(std::string_view command);

// "* SEARCH 4 7 9" lines (several, or none, are possible) -> {4, 7, 9}, sorted. Only UIDs
// >= first are kept: "UID n:*" always matches the highest UID even when it is below n
// (RFC 3501 6.4.8), so an empty folder tail still answers one old UID.
// A UID outside [first, last] is ignored the same way.
Result<std::vector<Uid>> parse_search(std::string_view response, Uid first = 1, Uid last = 0xffffffffu);

struct FolderStatus {
    std::uint32_t uidvalidity = 0;
    Uid uidnext = 0;
    std::uint32_t messages = 0;
};
// "* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 1795431422)"; UIDVALIDITY is required.
Result<FolderStatus> parse_status(std::string_view response);

// "* CAPABILITY IMAP4rev1 MOVE UIDPLUS ..." -> true when `capability` is listed.
bool has_capability(std::string_view response, std::string_view capability);

}  // namespace casemail::protocol::imap
