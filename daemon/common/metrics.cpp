#include "daemon/common/metrics.hpp"

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <stdexcept>

namespace casemail::common {
namespace {

enum class Kind { counter, gauge, histogram };

struct Family {
    std::string_view name;
    Kind kind;
    std::string_view help;
};

// Latency buckets, seconds: from a quarter of a millisecond (a commit in a group) to a minute
// (a slow IMAP server).
const std::vector<double> latency_buckets = {0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,    0.1,    0.25,  0.5,    1,     2.5,  5, 10, 30, 60};

const std::vector<Family>& families() {
    static const std::vector<Family> all = {
        {"casemail_messages_total", Kind::counter, "Inbound messages stored, by mailbox and action."},
        {"casemail_fetch_seconds", Kind::histogram, "IMAP fetch time per message."},
        {"casemail_parse_seconds", Kind::histogram, "MIME parse time per message."},
        {"casemail_commit_seconds", Kind::histogram, "Time from handing a batch to the store's writer to its commit."},
        {"casemail_relay_messages_total", Kind::counter, "Agents' replies at the relay, by action and SMTP code."},
        {"casemail_relay_seconds", Kind::histogram, "Relay: time from a reply's last byte to its answer."},
        {"casemail_outbox_deliveries_total", Kind::counter, "Outbox delivery attempts, by kind and outcome."},
        {"casemail_outbox_delivery_seconds", Kind::histogram, "Outbox: time from queued to delivered."},
        {"casemail_outbox_entries", Kind::gauge, "Outbox entries by state."},
        {"casemail_quarantined", Kind::gauge, "Messages in quarantine, not released."},
        {"casemail_review_items", Kind::gauge, "Review items waiting (unresolved parties and emails)."},
        {"casemail_store_bytes", Kind::gauge, "Size of the store and its WAL."},
        {"casemail_disk_free_bytes", Kind::gauge, "Free space under the store."},
        {"casemail_mailbox_failing", Kind::gauge, "1 while a mailbox's polls fail."},
        {"casemail_alarm", Kind::gauge, "Alarms standing: 1 warning, 2 critical."},
    };
    return all;
}

const Family& family(std::string_view name, Kind kind) {
    for (const auto& f : families())
        if (f.name == name) {
            if (f.kind != kind) throw std::logic_error(fmt::format("metric {} used as another type", name));
            return f;
        }
    throw std::logic_error(fmt::format("metric {} is not declared", name));
}

std::string label_text(const Labels& labels, const std::string& extra = {}) {
    std::string out;
    for (const auto& [k, v] : labels) out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", k, escape_label_value(v));
    if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
    return out.empty() ? "" : "{" + out + "}";
}

std::string number(double v) { return fmt::format("{}", v); }

struct Histogram {
    std::vector<std::uint64_t> counts = std::vector<std::uint64_t>(latency_buckets.size(), 0);
    std::uint64_t count = 0;
    double sum = 0;
};

}  // namespace

struct Metrics::State {
    mutable std::mutex mutex;
    std::map<std::string_view, std::map<Labels, double>> values;      // counters and gauges
    std::map<std::string_view, std::map<Labels, Histogram>> histograms;
};

Metrics::Metrics() : state_(std::make_unique<State>()) {}
Metrics::~Metrics() = default;

void Metrics::add(std::string_view name, const Labels& labels, double amount) {
    const auto& f = family(name, Kind::counter);
    std::lock_guard lock(state_->mutex);
    state_->values[f.name][labels] += amount;
}

void Metrics::set(std::string_view name, const Labels& labels, double value) {
    const auto& f = family(name, Kind::gauge);
    std::lock_guard lock(state_->mutex);
    state_->values[f.name][labels] = value;
}

void Metrics::observe(std::string_view name, const Labels& labels, double seconds) {
    const auto& f = family(name, Kind::histogram);
    std::lock_guard lock(state_->mutex);
    auto& h = state_->histograms[f.name][labels];
    for (std::size_t i = 0; i < latency_buckets.size(); ++i)
        if (seconds <= latency_buckets[i]) ++h.counts[i];
    ++h.count;
    h.sum += seconds;
}

void Metrics::clear(std::string_view name) {
    const auto& f = family(name, Kind::gauge);
    std::lock_guard lock(state_->mutex);
    state_->values.erase(f.name);
}

std::string Metrics::exposition() const {
    std::lock_guard lock(state_->mutex);
    std::string out;
    for (const auto& f : families()) {
        auto type = f.kind == Kind::counter ? "counter" : f.kind == Kind::gauge ? "gauge" : "histogram";
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, type);
        if (f.kind != Kind::histogram) {
            if (auto it = state_->values.find(f.name); it != state_->values.end())
                for (const auto& [labels, v] : it->second) out += fmt::format("{}{} {}\n", f.name, label_text(labels), number(v));
            continue;
        }
        auto it = state_->histograms.find(f.name);
        if (it == state_->histograms.end()) continue;
        for (const auto& [labels, h] : it->second) {
            for (std::size_t i = 0; i < latency_buckets.size(); ++i)
                out += fmt::format("{}_bucket{} {}\n", f.name, label_text(labels, fmt::format("le=\"{}\"", latency_buckets[i])),
                                   h.counts[i]);
            out += fmt::format("{}_bucket{} {}\n", f.name, label_text(labels, "le=\"+Inf\""), h.count);
            out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", f.name, label_text(labels), number(h.sum), f.name,
                               label_text(labels), h.count);
        }
    }
    return out;
}

Metrics& metrics() {
    static Metrics registry;
    return registry;
}

std::string escape_label_value(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

}  // namespace casemail::common
