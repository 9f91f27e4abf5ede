// How long one SLA watch pass takes: N active cases opened over the last D days, Mon-Fri
// 08:00-17:00 in America/Los_Angeles with holidays, two clocks each, one case in three on
// hold once; first response within 18h, resolution within 90h of business time. Prints the first
// pass (which raises most cases' alerts: events written) and a second one (steady state: nothing
// new), all pages as casemaild runs them, and the clock arithmetic alone.
// Usage: bench_sla [CASES] [DAYS]
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "daemon/sla/watch.hpp"
#include "store/sla.hpp"

using namespace casemail;
using namespace std::chrono_literals;
namespace clocks = matching::sla;

int main(int argc, char** argv) {
    int cases = argc > 1 ? std::atoi(argv[1]) : 10000;
    int days = argc > 2 ? std::atoi(argv[2]) : 60;
    auto path = std::filesystem::temp_directory_path() / fmt::format("bench-sla-{}.db", ::getpid());
    auto real_now = std::chrono::system_clock::now();
    auto now = real_now;
    store::StoreOptions options;
    options.clock = [&] { return now; };
    {
        auto s = store::Store::open(path.string(), options);
        auto queue = s.add_queue("Public Works", "311PublicWorks@city.example", std::nullopt);
        auto customer = s.add_contact({"Citizen", "c@example.org", std::nullopt, true, false});
        store::Transaction tx(s.db());
        for (int i = 0; i < cases; ++i) {
            now = real_now - std::chrono::minutes((static_cast<long>(i) * days * 24 * 60) / cases);
            store::NewCase nc;
            nc.title = fmt::format("Case {}", i);
            nc.customer_contact_id = customer;
            nc.queue_id = queue;
            auto c = s.create_case(nc, "bench");
            if (i % 3 == 0) {
                now += 2h;
                store::hold_case(s, c.token, "waiting", "bench");
                now += 20h;
                store::resume_case(s, c.token, "bench");
            }
        }
        tx.commit();
    }
    now = real_now;
    auto s = store::Store::open(path.string(), options);
    sla::WatchSettings w;
    w.hours.by_weekday = *clocks::parse_hours("Mon-Fri 08:00-12:00 13:00-17:00");
    w.hours.zone = date::locate_zone("America/Los_Angeles");
    for (const char* d : {"2026-11-26", "2026-11-27", "2026-12-25", "2027-01-01"}) w.hours.holidays.insert(*clocks::parse_date(d));
    clocks::SlaPolicy p;
    p.name = "all";
    p.first_response = 18h;
    p.resolve_within = 90h;
    w.policies = {p};
    auto at = std::chrono::floor<std::chrono::seconds>(now);
    auto pass = [&] {
        auto t0 = std::chrono::steady_clock::now();
        int pages = 0;
        std::size_t raised = 0;
        sla::WatchPage page;
        do {
            store::Transaction tx(s.db());
            page = sla::watch_page(s, w, at, page.last_id);
            tx.commit();
            raised += page.raised.size();
            ++pages;
        } while (page.more);
        auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        fmt::print("  pass: {} pages, {} alerts raised, {:.3f} s ({:.1f} us/case)\n", pages, raised, took, took * 1e6 / cases);
    };
    fmt::print("{} active cases opened over {} days\n", cases, days);
    pass();
    pass();
    auto loaded = store::active_sla_cases(s, 0, cases);
    auto t1 = std::chrono::steady_clock::now();
    std::size_t n = 0;
    for (const auto& c : loaded) n += clocks::case_clocks(w.hours, w.policies, c.times, at).size();
    auto pure = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    fmt::print("  clock arithmetic alone: {:.3f} s for {} clocks ({:.1f} us/clock)\n", pure, n,
               pure * 1e6 / static_cast<double>(n));
    std::filesystem::remove(path);
    std::filesystem::remove(path.string() + "-wal");
    std::filesystem::remove(path.string() + "-shm");
}
