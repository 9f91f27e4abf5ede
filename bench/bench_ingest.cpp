// End-to-end ingest throughput: a generated mix (70% 4 KB text, 20% with a ~75 KB attachment,
// 10% HTML-only; 30% replies to existing cases, half by token and half by In-Reply-To) into a
// store pre-filled with 100,000 contacts and 100,000 cases, then grown to 1,000,000 cases.
// The daemon's pipeline: parsed on three threads (one per 311 mailbox), applied by the store's
// writer in groups, each group one commit whose WAL is synced beside the writer. The same run
// first prints the storage floor (see storage_floor) and ends with the ratio to it.
//
// Usage: bench_ingest [MESSAGES] [--big-cases N] [--batch N] [--parse-threads N] [--normal]
//        [--sync-in-commit] [--storage-floor]   (defaults 5000, 1000000, 50, 3)
// --normal: synchronous=NORMAL, nothing synced per group (what durability costs);
// --sync-in-commit: SQLite syncs inside each COMMIT, as before WalSync; --storage-floor: only
// the floor.
// CASEMAIL_BENCH_PROFILE=1: the writer's slowest statements; CASEMAIL_BENCH_PAGE_SIZE=N: the
// page size of the store (the default is OpenOptions::new_page_size).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <thread>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "bench/bench_messages.hpp"
#include "mime/digest.hpp"
#include "mime/message.hpp"
#include "daemon/inbound/ingestor.hpp"
#include "store/checkpointer.hpp"
#include "store/writer.hpp"

using namespace casemail;

namespace {

const std::string mailbox = "311PublicWorks@city.example";

// CPU seconds of this thread, user and system: on a shared virtual machine the wall time
// varies by 20% between identical runs, and the split shows what fsync waits cost.
struct CpuTime {
    double user = 0, system = 0;
};

CpuTime thread_cpu(int who = RUSAGE_THREAD) {
    rusage u{};
    ::getrusage(who, &u);
    return {static_cast<double>(u.ru_utime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec) / 1e6,
            static_cast<double>(u.ru_stime.tv_sec) + static_cast<double>(u.ru_stime.tv_usec) / 1e6};
}

void prefill(store::Store& s, int contacts_target, int cases_target) {
    auto& db = s.db();
    auto count = [&](const char* sql) {
        auto st = db.prepare(sql);
        st.step();
        return static_cast<int>(st.int64(0));
    };
    store::Transaction tx(db);
    auto now = s.now_text();
    int have_contacts = count("SELECT count(*) FROM contact");
    auto add_contact = db.prepare(
        "INSERT INTO contact(full_name, email, email_norm, is_guest, is_registered, created_at) VALUES (?1, ?2, ?2, ?3, ?4, ?5)");
    for (int i = have_contacts; i < contacts_target; ++i) {
        auto email = fmt::format("citizen{}@example.org", i);
        add_contact.bind_all(fmt::format("Citizen {}", i), email, i % 3 == 0, i % 3 != 0, now);
        add_contact.run();
        add_contact.reset();
    }
    int have_cases = count(R"(SELECT count(*) FROM "case")");
    auto add_case = db.prepare(
        R"(INSERT INTO "case"(token, token_sequence, title, customer_contact_id, origin, queue_id, created_at, updated_at)
           VALUES (?1, ?2, 'prefilled case', ?3, 'email', 1, ?4, ?4))");
    auto add_email = db.prepare(
        "INSERT INTO email(case_id, direction, message_id, subject, raw_sha256, received_at, status) "
        "VALUES (?1, 'in', ?2, 'prefilled', ?2, ?3, 'created')");
    auto add_raw = db.prepare("INSERT INTO email_raw(email_id, raw) VALUES (?1, X'00')");
    for (int i = have_cases; i < cases_target; ++i) {
        auto seq = i + 1;
        add_case.bind_all(fmt::format("311-{:06}-PF{:02}", seq, i % 100), seq, 1 + i % contacts_target, now);
        add_case.run();
        add_case.reset();
        add_email.bind_all(db.last_insert_rowid(), fmt::format("prefill-{}@example.org", seq), now);
        add_email.run();
        add_email.reset();
        add_raw.bind(1, db.last_insert_rowid());
        add_raw.run();
        add_raw.reset();
    }
    auto seq = db.prepare("UPDATE sequence SET value = max(value, ?1) WHERE name = 'case_token'");
    seq.bind(1, cases_target);
    seq.run();
    tx.commit();
    // Start the timed run from an empty WAL, as a daemon in steady state would: otherwise the
    // first commit's checkpoint copies the whole prefill (hundreds of MB at 1,000,000 cases).
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

std::string html_only(int n) {
    return "From: Citizen <citizen" + std::to_string(n % 100000) + "@example.org>\r\nTo: " + mailbox +
           "\r\nSubject: Graffiti report " + std::to_string(n) + "\r\nMessage-ID: <html-" + std::to_string(n) +
           "-" + std::to_string(::getpid()) + "@example.org>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>There is graffiti on the wall at "
           "<b>Main &amp; 5th</b>.</p><p>Thanks</p></body></html>\r\n";
}

std::vector<std::string> generate(int count, int existing_cases, int run) {
    std::mt19937 rng(static_cast<unsigned>(count + run));
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i) {
        int n = run * 1000000 + i;
        int kind = static_cast<int>(rng() % 100);
        std::string msg = kind < 70 ? bench::text_message_4k(n) : kind < 90 ? bench::attachment_message_100k(n) : html_only(n);
        // Senders spread over the prefilled contacts (2/3 registered, 1/3 guests), as in a city's
        // real mix. One address sending every message would make each new guest link to all
        // earlier guests of that address: quadratic history, see the README's note on guests.
        auto from = msg.find("<ann.lee@example.org>");
        if (from != std::string::npos)
            msg.replace(from, 21, fmt::format("<citizen{}@example.org>", rng() % 100000));
        // Unique Message-IDs and attachment bytes per message so nothing deduplicates.
        auto pos = msg.find("Message-ID: <");
        msg.insert(pos + 13, fmt::format("r{}-", run));
        if (kind >= 70 && kind < 90) {
            auto b64 = msg.find("base64\r\n\r\n") + 10;
            auto stamp = fmt::format("{:08}", n);
            for (std::size_t k = 0; k < 8; ++k) msg[b64 + k] = "ABCDEFGHIJ"[stamp[k] - '0'];
        }
        if (rng() % 100 < 30) {  // a reply to an existing case
            int target = 1 + static_cast<int>(rng() % static_cast<unsigned>(existing_cases));
            if (rng() % 2) {
                auto subj = msg.find("Subject: ") + 9;
                msg.insert(subj, fmt::format("RE: [311-{:06}-PF{:02}] ", target, (target - 1) % 100));
            } else {
                auto hdr = msg.find("MIME-Version:");
                msg.insert(hdr, fmt::format("In-Reply-To: <prefill-{}@example.org>\r\n", target));
            }
        }
        out.push_back(std::move(msg));
    }
    return out;
}

// Parses `batch` on `threads` threads, each message's PreparedMessage ready in `out[i]` when
// `ready[i]` is set: the daemon parses on the pollers' threads, beside the writer's commits.
class ParsePool {
public:
    ParsePool(std::vector<std::string>& batch, int threads)
        : batch_(batch), out_(batch.size()), ready_(batch.size()) {
        for (int t = 0; t < threads; ++t)
            threads_.emplace_back([this] {
                for (std::size_t i; (i = next_.fetch_add(1)) < batch_.size();) {
                    out_[i] = inbound::prepare_message(std::move(batch_[i]), mime::Limits{});
                    ready_[i].store(true, std::memory_order_release);
                    ready_[i].notify_one();
                }
            });
    }
    ~ParsePool() {
        for (auto& t : threads_) t.join();
    }
    inbound::PreparedMessage& get(std::size_t i) {
        ready_[i].wait(false, std::memory_order_acquire);
        return out_[i];
    }

private:
    std::vector<std::string>& batch_;
    std::vector<inbound::PreparedMessage> out_;
    std::vector<std::atomic<bool>> ready_;
    std::atomic<std::size_t> next_{0};
    std::vector<std::thread> threads_;
};

// The daemon's pipeline: messages parsed on `parse_threads` threads and handed, `per_batch` at
// a time (an IMAP batch), to the store's writer, which applies them in groups and commits each
// group once. At most `in_flight` batches wait for their commit, as in the poller's pipeline.
struct Args {
    int messages = 5000;
    int big = 1000000;
    int per_batch = 50;      // an IMAP batch
    int parse_threads = 3;   // the three 311 mailboxes' pollers
    bool normal = false;     // synchronous=NORMAL, to show what durability costs
    bool sync_in_commit = false;  // FULL inside COMMIT instead of the writer's WalSync
    bool floor_only = false;
};

double run(const std::filesystem::path& db, int existing_cases, int run_no, const Args& args) {
    const int messages = args.messages, per_batch = args.per_batch, parse_threads = args.parse_threads;
    auto batch = generate(messages, existing_cases, run_no);
    std::size_t bytes = 0;
    for (const auto& m : batch) bytes += m.size();
    std::atomic<int> created = 0, linked = 0, other = 0;
    double writer_cpu = 0;
    std::size_t groups = 0;
    auto t0 = std::chrono::steady_clock::now();
    auto cpu0 = thread_cpu(RUSAGE_SELF);
    {
        store::WriterOptions writer_options;
        writer_options.sync_beside = !args.sync_in_commit;
        store::Writer writer(
            [&] {
                store::StoreOptions options;  // WAL, synchronous=FULL: the daemon's settings
                if (args.normal) options.open.durability = store::Durability::normal;
                auto s = store::Store::open(db.string(), options);
                s.db().profile_statements(std::getenv("CASEMAIL_BENCH_PROFILE") != nullptr);
                return s;
            },
            writer_options);
        ParsePool pool(batch, parse_threads);
        inbound::IngestOptions ingest;
        std::deque<std::future<std::vector<std::exception_ptr>>> pending;
        for (int i = 0; i < messages;) {
            std::vector<store::Writer::Work> items;
            for (int k = 0; k < per_batch && i < messages; ++k, ++i)
                items.push_back([&, m = &pool.get(static_cast<std::size_t>(i))](store::Store& s) {
                    auto r = inbound::Ingestor(s, ingest).apply(*m, mailbox);
                    (r.action == matching::EmailStatus::created ? created
                     : r.action == matching::EmailStatus::linked ? linked : other)++;
                });
            pending.push_back(writer.submit_each(std::move(items)));
            while (pending.size() > 2) {
                pending.front().get();
                pending.pop_front();
            }
        }
        for (auto& f : pending) f.get();
        writer_cpu = writer.run([](store::Store&) { auto c = thread_cpu(); return c.user + c.system; });
        writer.run([&](store::Store& s) {  // CASEMAIL_BENCH_PROFILE=1: the writer's slowest statements
            int shown = 0;
            for (const auto& [sql, t] : s.db().statement_profile())
                if (shown++ < 16) std::printf("    %6.0f us/msg  %.100s\n", t / messages * 1e6, sql.c_str());
        });
        groups = writer.groups();
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto cpu1 = thread_cpu(RUSAGE_SELF);
    // All threads: parsing, the writer, and the checkpoints beside it.
    double all_cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system);
    std::printf("%9d cases  %6d msgs  %6.2f s  %6.0f msgs/s  %5.1f MB/s  writer cpu %.2f s = %4.0f us/msg  "
                "all threads %4.0f us/msg  %zu groups  (%d created, %d linked, %d other)\n",
                existing_cases, messages, secs, messages / secs, bytes / secs / 1e6, writer_cpu,
                writer_cpu / messages * 1e6, all_cpu / messages * 1e6, groups, created.load(), linked.load(),
                other.load());
    return messages / secs;
}

// The floor under any ingest pipeline with this data model: the same messages, only what must
// be stored whatever else happens (the raw message, once; attachments are references into
// it), into a bare table of a store opened with the daemon's settings (checkpoints beside
// the writer included), `per_group` messages
// per commit. No parsing, no case, party or event rows. `with_blobs`: the model before
// attachments by reference, which also stored each decoded attachment.
double storage_floor(const std::filesystem::path& path, int messages, int per_group, bool with_blobs) {
    auto batch = generate(messages, 100000, 3);
    std::vector<mime::ParsedMessage> parsed;
    if (with_blobs)
        for (const auto& m : batch) parsed.push_back(*mime::parse_message(m));
    auto db = store::Database::open(path.string(), store::OpenOptions{});
    store::Checkpointer checkpoints(db);  // as the store's writer does
    db.exec("CREATE TABLE raw_message(id INTEGER PRIMARY KEY, raw BLOB NOT NULL, raw_sha256 TEXT NOT NULL UNIQUE)");
    db.exec("CREATE TABLE blob(sha256 TEXT PRIMARY KEY, content BLOB NOT NULL) WITHOUT ROWID");
    auto add_raw = db.prepare("INSERT INTO raw_message(raw, raw_sha256) VALUES (?1, ?2)");
    auto add_blob = db.prepare("INSERT OR IGNORE INTO blob(sha256, content) VALUES (?1, ?2)");
    auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < batch.size();) {
        store::Transaction tx(db);
        for (int k = 0; k < per_group && i < batch.size(); ++k, ++i) {
            add_raw.bind_all(store::as_blob(batch[i]), mime::sha256_hex(batch[i]));
            add_raw.run();
            add_raw.reset();
            if (!with_blobs) continue;
            for (const auto& a : parsed[i].attachments) {
                add_blob.bind_all(a.sha256, store::as_blob(a.data));
                add_blob.run();
                add_blob.reset();
            }
        }
        tx.commit();
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("storage floor, %-38s %6d msgs  %6.2f s  %6.0f msgs/s\n",
                with_blobs ? "raw + decoded attachments (before):" : "raw message only (by reference):", messages,
                secs, messages / secs);
    return messages / secs;
}

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
        if (arg == "--big-cases") a.big = value();
        else if (arg == "--batch") a.per_batch = std::max(1, value());
        else if (arg == "--parse-threads") a.parse_threads = std::max(1, value());
        else if (arg == "--normal") a.normal = true;
        else if (arg == "--sync-in-commit") a.sync_in_commit = true;
        else if (arg == "--storage-floor") a.floor_only = true;
        else if (arg[0] != '-') a.messages = std::max(1, std::atoi(arg.c_str()));
        else {
            std::fprintf(stderr, "usage: bench_ingest [MESSAGES] [--big-cases N] [--batch N] [--parse-threads N] "
                                 "[--normal] [--sync-in-commit] [--storage-floor]\n");
            std::exit(2);
        }
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    auto args = parse_args(argc, argv);
    auto dir = std::filesystem::temp_directory_path() / fmt::format("casemail-bench-{}", ::getpid());
    std::filesystem::create_directories(dir);
    std::printf("storage floor: the same mix, WAL + synchronous=FULL, 256 msgs per commit (the writer's group)\n");
    double floor = storage_floor(dir / "floor.db", args.messages, 256, false);
    storage_floor(dir / "floor-blobs.db", args.messages, 256, true);
    if (!args.floor_only) {
        auto path = dir / "bench.db";
        {
            store::StoreOptions options;
            if (const char* page = std::getenv("CASEMAIL_BENCH_PAGE_SIZE")) options.open.new_page_size = std::atoi(page);
            auto s = store::Store::open(path.string(), options);
            s.add_queue("Public Works", mailbox);
            std::printf("ingest: mix 70%% 4 KB text / 20%% ~100 KB attachment / 10%% HTML-only, 30%% replies; "
                        "WAL + %s; parsed on %d threads, %d msgs per batch to the store's writer\n",
                        args.normal ? "synchronous=NORMAL (not durable)"
                        : args.sync_in_commit ? "synchronous=FULL (synced in each COMMIT)"
                                              : "each group synced beside the writer (WalSync)",
                        args.parse_threads, args.per_batch);
            auto t0 = std::chrono::steady_clock::now();
            prefill(s, 100000, 100000);
            std::printf("  (prefill 100,000 contacts + 100,000 cases: %.1f s)\n",
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        run(path, 100000, 1, args);
        {
            auto s = store::Store::open(path.string());
            auto t0 = std::chrono::steady_clock::now();
            prefill(s, 100000, args.big);
            std::printf("  (grow to %d cases: %.1f s)\n", args.big,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        double rate = run(path, args.big, 2, args);
        std::printf("at %d cases: %.0f msgs/s = %.0f%% of the storage floor (%.0f msgs/s)\n", args.big, rate,
                    100 * rate / floor, floor);
    }
    std::filesystem::remove_all(dir);
    return 0;
}
