// The metrics endpoint: a deliberately small HTTP/1.x server that answers GET /metrics and
// nothing else. A request head over 8 KB, or not complete within the read deadline, is answered
// (431, 408) and the connection closed; at most 16 connections at once (the rest are closed at
// once). Each answer closes its connection.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/common/log.hpp"

namespace casemail::metrics {

struct Answer {
    int status = 200;
    std::string reason = "OK";
};
// What a request head (request line and header fields, up to the empty line) gets: 200 for
// GET /metrics (HEAD too), 405 for another method on it, 404 for another path, 400 otherwise.
Answer answer_for(std::string_view head);

struct ServerSettings {
    std::string address = "127.0.0.1";
    unsigned short port = 9311;
    std::chrono::milliseconds read_deadline{5000};
    std::size_t max_head_bytes = 8192;
    std::size_t max_connections = 16;
};

class MetricsServer {
public:
    // `body` makes the exposition text at each scrape (on the loop: it must be quick).
    MetricsServer(boost::asio::io_context& ctx, ServerSettings settings, std::function<std::string()> body,
                  common::LogLine log);
    ~MetricsServer();
    void start();  // throws std::system_error when the address cannot be bound
    void stop();
    unsigned short port() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace casemail::metrics
