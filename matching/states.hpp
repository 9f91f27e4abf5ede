// The states of cases, emails and outbox entries, as enums. Code passes these between modules;
// their names are strings only at the edges: SQL columns (store/) and JSON or text output
// (daemon/cli/), through name() and parse_state().
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace casemail::matching {

enum class CaseStatus { active, resolved, cancelled };
enum class Direction { in, out };
// An inbound email's outcome (created ... quarantined), or an outbound email's delivery state.
enum class EmailStatus { received, created, linked, ignored, duplicate, quarantined, queued, sent, failed };
enum class OutboxKind { ack, reply, pass_through, alert };  // alert: to staff (SLA), never a case's mail
enum class OutboxStatus { pending, delivered, failed, held };
// The relay's decision about an agent's reply (matching::decide_reply), named as logged.
enum class ReplyDecision { queue, hold, pass_through, reject };

namespace detail {
template <class E>
struct Names;
template <>
struct Names<CaseStatus> {
    static constexpr std::array<std::string_view, 3> all{"active", "resolved", "cancelled"};
};
template <>
struct Names<Direction> {
    static constexpr std::array<std::string_view, 2> all{"in", "out"};
};
template <>
struct Names<EmailStatus> {
    static constexpr std::array<std::string_view, 9> all{"received", "created",     "linked", "ignored", "duplicate",
                                                         "quarantined", "queued", "sent",   "failed"};
};
template <>
struct Names<OutboxKind> {
    static constexpr std::array<std::string_view, 4> all{"ack", "reply", "pass_through", "alert"};
};
template <>
struct Names<OutboxStatus> {
    static constexpr std::array<std::string_view, 4> all{"pending", "delivered", "failed", "held"};
};
template <>
struct Names<ReplyDecision> {
    static constexpr std::array<std::string_view, 4> all{"queued", "held", "passed", "rejected"};
};
}  // namespace detail

// The state's name, as stored and printed.
template <class E>
constexpr std::string_view name(E state) {
    return detail::Names<E>::all[static_cast<std::size_t>(state)];
}

// The state with this name; nothing for an unknown one.
template <class E>
constexpr std::optional<E> parse_state(std::string_view text) {
    const auto& all = detail::Names<E>::all;
    for (std::size_t i = 0; i < all.size(); ++i)
        if (all[i] == text) return static_cast<E>(i);
    return std::nullopt;
}

}  // namespace casemail::matching
