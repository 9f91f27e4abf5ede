// casemaild's metrics: counters, gauges and histograms by name and labels, kept in memory and
// written in the Prometheus text format (version 0.0.4) for GET /metrics. Every family is
// declared once in metrics.cpp (name, type, help, buckets), so the exposition is stable and a
// typo in a name is a programmer error, not a silent new series. Thread-safe: the IMAP
// workers, the writer, the relay and the outbox all count.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace casemail::common {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
public:
    void add(std::string_view family, const Labels& labels, double amount = 1);    // counter
    void set(std::string_view family, const Labels& labels, double value);         // gauge
    void observe(std::string_view family, const Labels& labels, double seconds);   // histogram
    // Drops a gauge family's series (for sets that change, like the alarms standing).
    void clear(std::string_view family);
    std::string exposition() const;

    Metrics();
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

private:
    struct State;
    std::unique_ptr<State> state_;  // the families and their series, behind one mutex
};

// The daemon's registry.
Metrics& metrics();

// A label value as the text format wants it: backslash, double quote and line feed escaped.
std::string escape_label_value(std::string_view value);

}  // namespace casemail::common
