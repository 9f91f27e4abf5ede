#include "daemon/protocol/throttle.hpp"

#include <algorithm>

namespace casemail::protocol {

ConnectionSlots::ConnectionSlots(std::size_t max_total, std::size_t max_per_client)
    : max_total_(std::max<std::size_t>(max_total, 1)), max_per_client_(std::max<std::size_t>(max_per_client, 1)) {}

ConnectionSlots::Admit ConnectionSlots::admit(const std::string& client) {
    if (full()) return Admit::full;
    auto& mine = per_client_[client];
    if (mine >= max_per_client_) return Admit::client_full;
    ++mine;
    ++total_;
    return Admit::ok;
}

void ConnectionSlots::release(const std::string& client) {
    auto it = per_client_.find(client);
    if (it == per_client_.end() || it->second == 0) return;
    --total_;
    if (--it->second == 0) per_client_.erase(it);
}

std::size_t ConnectionSlots::of(const std::string& client) const {
    auto it = per_client_.find(client);
    return it == per_client_.end() ? 0 : it->second;
}

std::optional<std::chrono::seconds> LoginBackoff::deferred_for(const std::string& client,
                                                               Clock::time_point now) const {
    auto it = clients_.find(client);
    if (it == clients_.end() || it->second.deferred_until <= now) return std::nullopt;
    return std::chrono::ceil<std::chrono::seconds>(it->second.deferred_until - now);
}

std::optional<std::chrono::seconds> LoginBackoff::failed(const std::string& client, Clock::time_point now) {
    forget_old(now);
    auto& e = clients_[client];
    e.last_failure = now;
    if (++e.failures < policy_.failures) return std::nullopt;
    e.failures = 0;
    auto length = policy_.first * (1LL << std::min(e.rounds, 20));
    length = std::min<std::chrono::seconds>(length, policy_.longest);
    ++e.rounds;
    e.deferred_until = now + length;
    return length;
}

// Bounded memory whatever the number of addresses: an entry lives while it is deferred or its
// last failure is recent.
void LoginBackoff::forget_old(Clock::time_point now) {
    std::erase_if(clients_, [&](const auto& item) {
        const Entry& e = item.second;
        return e.deferred_until <= now && now - e.last_failure > policy_.forget;
    });
}

}  // namespace casemail::protocol
