// Parse throughput of casemail::mime on two sample messages. Prints msgs/s and MB/s
// (median of 5 runs). With --write DIR, writes the two messages for the Python comparison
// (bench/compare_parse.sh runs both side by side).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_messages.hpp"
#include "mime/message.hpp"

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void run(const char* label, const std::string& msg, double seconds_per_run) {
    // Calibrate the iteration count to ~seconds_per_run.
    int iterations = 1;
    for (;;) {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < iterations; ++i) {
            auto r = casemail::mime::parse_message(msg);
            if (!r) { std::fprintf(stderr, "parse failed: %s\n", r.error().c_str()); std::exit(1); }
        }
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s > seconds_per_run / 4) {
            iterations = std::max(1, static_cast<int>(iterations * seconds_per_run / s));
            break;
        }
        iterations *= 4;
    }
    std::vector<double> rates;
    for (int run = 0; run < 5; ++run) {
        auto t0 = std::chrono::steady_clock::now();
        std::size_t checksum = 0;
        for (int i = 0; i < iterations; ++i) checksum += casemail::mime::parse_message(msg)->text.size();
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (checksum == 0) std::fprintf(stderr, "?");
        rates.push_back(iterations / s);
    }
    double msgs = median(rates);
    std::printf("%-28s %8zu bytes  %10.0f msgs/s  %8.1f MB/s\n", label, msg.size(), msgs,
                msgs * static_cast<double>(msg.size()) / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
    auto text = casemail::bench::text_message_4k();
    auto att = casemail::bench::attachment_message_100k();
    if (argc == 3 && std::string(argv[1]) == "--write") {
        std::ofstream(std::string(argv[2]) + "/text_4k.eml", std::ios::binary) << text;
        std::ofstream(std::string(argv[2]) + "/attachment_100k.eml", std::ios::binary) << att;
        return 0;
    }
    std::printf("casemail::mime::parse_message (median of 5 runs)\n");
    run("4 KB text message", text, 1.0);
    run("100 KB with base64 attachment", att, 1.0);
    return 0;
}
