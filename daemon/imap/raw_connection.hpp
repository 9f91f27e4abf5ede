// A second IMAP connection that casemail reads itself, for fetching many messages with one
// command. libcurl still does what it is good at: connecting, TLS or STARTTLS with the
// certificate verified, and the login (password or XOAUTH2), through CURLOPT_CONNECT_ONLY;
// then commands go out with curl_easy_send and answers come back with curl_easy_recv into
// protocol::imap::FetchReader (libcurl drops the literal of a custom UID FETCH).
//
// Every wait is bounded by the stall timeout and watches the stop flag. Any failure leaves the
// connection unusable: the caller drops it and opens a new one for the next attempt.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/common/curl.hpp"
#include "daemon/protocol/imap_fetch.hpp"
#include "mime/result.hpp"

namespace casemail::imap {

class RawConnection {
public:
    RawConnection(const common::ServerLogin& login, std::chrono::seconds stall_timeout,
                  const std::atomic<bool>* stop);

    // Connects and logs in.
    Result<bool> open();
    // Selects `folder` (once), checking that its UIDVALIDITY is still `uidvalidity`: UIDs from
    // another validity would name other messages.
    Result<bool> select(std::string_view folder, std::uint32_t uidvalidity);
    // A fresh tag, for the next command and the reader of its answer.
    std::string next_tag();
    // Sends "tag command" and reads its whole answer into `reader` (made for `tag`). Fails on
    // a NO/BAD, a malformed or cut answer, a stall, or shutdown.
    Result<bool> run(const std::string& tag, const std::string& command, protocol::imap::FetchReader& reader);

    // For IDLE: one line out ("tag IDLE", "DONE"), and the next bytes in: waiting for them
    // (`block`, bounded by the stall timeout) or only those already there (an empty view when
    // none). The view lives until the next call. The server closing the connection fails.
    Result<bool> send_line(std::string_view line);
    Result<std::string_view> receive(bool block);
    // Readable when the server has said something (TLS may hold bytes back: receive(false)
    // until it answers nothing, before waiting on the socket).
    curl_socket_t socket() const { return socket_; }

    // The UIDNEXT the folder had when this connection selected it, and whether the server has
    // announced new mail ("* n EXISTS") to it in an answer since: the IMAP client's cue that
    // a poll may have missed a message that arrived while it ran. Reading it clears it.
    std::optional<protocol::imap::Uid> selected_uidnext() const { return selected_uidnext_; }
    bool take_mail_announced() { return std::exchange(mail_announced_, false); }

private:
    Result<bool> send_all(std::string_view bytes);
    Result<bool> wait(bool for_reading);

    const common::ServerLogin& login_;
    std::chrono::seconds stall_timeout_;
    const std::atomic<bool>* stop_;
    common::CurlEasy curl_;
    curl_socket_t socket_ = CURL_SOCKET_BAD;
    unsigned tag_ = 0;
    std::string selected_;
    std::optional<protocol::imap::Uid> selected_uidnext_;
    bool mail_announced_ = false;
    std::vector<char> chunk_ = std::vector<char>(64 * 1024);
};

}  // namespace casemail::imap
