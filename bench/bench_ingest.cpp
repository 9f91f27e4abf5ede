// End-to-end ingest throughput: a generated mix (70% 4 KB text, 20% with a ~75 KB attachment,
// 10% HTML-only; 30% replies to existing cases, half by token and half by In-Reply-To) into a
// store pre-filled with 100,000 contacts and 100,000 cases, then grown to 1,000,000 cases.
// Durability as in the daemon: WAL, synchronous=FULL; 200 messages per transaction (the
// daemon commits an IMAP batch of up to 50: --batch 50).
//
// --storage-floor measures instead what storing only the raw messages and the decoded
// attachments of the same mix costs (see storage_floor).
//
// Usage: bench_ingest [MESSAGES] [--big-cases N] [--batch N] [--normal] [--storage-floor]
//        (defaults 5000, 1000000, 200)
#include <algorithm>
#include <chrono>
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

using namespace casemail;

namespace {

const std::string mailbox = "311PublicWorks@city.example";

// CPU seconds of this thread, user and system: on a shared virtual machine the wall time
// varies by 20% between identical runs, and the split shows what fsync waits cost.
struct CpuTime {
    double user = 0, system = 0;
};

CpuTime thread_cpu() {
    rusage u{};
    ::getrusage(RUSAGE_THREAD, &u);
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

void run(store::Store& s, int messages, int existing_cases, int run_no, int per_transaction) {
    auto batch = generate(messages, existing_cases, run_no);
    std::size_t bytes = 0;
    for (const auto& m : batch) bytes += m.size();
    inbound::Ingestor ingestor(s, inbound::IngestOptions{});
    bool profile = std::getenv("CASEMAIL_BENCH_PROFILE") != nullptr;
    s.db().profile_statements(profile);
    int created = 0, linked = 0, other = 0;
    auto t0 = std::chrono::steady_clock::now();
    auto cpu0 = thread_cpu();
    for (std::size_t i = 0; i < batch.size();) {
        store::Transaction tx(s.db());
        for (int k = 0; k < per_transaction && i < batch.size(); ++k, ++i) {
            auto r = ingestor.ingest(batch[i], mailbox);
            (r.action == matching::EmailStatus::created ? created : r.action == matching::EmailStatus::linked ? linked : other)++;
        }
        tx.commit();
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto cpu1 = thread_cpu();
    double user = cpu1.user - cpu0.user, sys = cpu1.system - cpu0.system, cpu = user + sys;
    if (profile) {
        int shown = 0;
        for (const auto& [sql, t] : s.db().statement_profile())
            if (shown++ < 12) std::printf("    %7.3f s  %.90s\n", t, sql.c_str());
        s.db().profile_statements(false);
    }
    std::printf("%9d cases  %6d msgs  %6.2f s  %6.0f msgs/s  %5.1f MB/s  cpu %.2f s (user %.2f, sys %.2f) "
                "= %5.0f msgs per cpu-s  (%d created, %d linked, %d other)\n",
                existing_cases, messages, secs, messages / secs, bytes / secs / 1e6, cpu, user, sys, messages / cpu,
                created, linked, other);
}

// The floor under any ingest pipeline with this data model: the same messages, only the two
// things the issue says must be stored whatever else happens (the raw message and each
// decoded attachment), into bare tables of a store opened with the daemon's settings. No
// parsing (done before the clock starts), no case, party or event rows. With
// `inline_checkpoint` false, nothing checkpoints during the run: the bound for moving
// checkpoints to another thread.
void storage_floor(const std::filesystem::path& path, int messages, int per_transaction, bool inline_checkpoint) {
    auto batch = generate(messages, 100000, 3);
    std::vector<mime::ParsedMessage> parsed;
    for (const auto& m : batch) parsed.push_back(*mime::parse_message(m));
    auto db = store::Database::open(path.string(), store::OpenOptions{});
    db.exec("CREATE TABLE raw_message(id INTEGER PRIMARY KEY, raw BLOB NOT NULL, raw_sha256 TEXT NOT NULL UNIQUE)");
    db.exec("CREATE TABLE blob(sha256 TEXT PRIMARY KEY, content BLOB NOT NULL) WITHOUT ROWID");
    if (!inline_checkpoint) db.exec("PRAGMA wal_autocheckpoint = 0");
    auto add_raw = db.prepare("INSERT INTO raw_message(raw, raw_sha256) VALUES (?1, ?2)");
    auto add_blob = db.prepare("INSERT OR IGNORE INTO blob(sha256, content) VALUES (?1, ?2)");
    auto bytes = [](const std::string& s) {
        return std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(s.data()), s.size());
    };
    auto t0 = std::chrono::steady_clock::now();
    auto cpu0 = thread_cpu();
    for (std::size_t i = 0; i < batch.size();) {
        store::Transaction tx(db);
        for (int k = 0; k < per_transaction && i < batch.size(); ++k, ++i) {
            add_raw.bind_all(bytes(batch[i]), mime::sha256_hex(batch[i]));
            add_raw.run();
            add_raw.reset();
            for (const auto& a : parsed[i].attachments) {
                add_blob.bind_all(a.sha256, bytes(a.data));
                add_blob.run();
                add_blob.reset();
            }
        }
        tx.commit();
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto cpu1 = thread_cpu();
    std::printf("storage floor, checkpoints %-9s %6d msgs  %6.2f s  %6.0f msgs/s  cpu %.2f s (user %.2f, sys %.2f)\n",
                inline_checkpoint ? "inline:" : "deferred:", messages, secs, messages / secs,
                cpu1.user - cpu0.user + cpu1.system - cpu0.system, cpu1.user - cpu0.user, cpu1.system - cpu0.system);
}

}  // namespace

int main(int argc, char** argv) {
    int messages = argc > 1 ? std::atoi(argv[1]) : 5000;
    int big = 1000000;
    bool normal = false;  // --normal: synchronous=NORMAL, to show what durability costs
    int per_transaction = 200;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == "--big-cases") big = std::atoi(argv[i + 1]);
        if (std::string(argv[i]) == "--batch") per_transaction = std::max(1, std::atoi(argv[i + 1]));
    }
    bool floor_only = false;  // --storage-floor: only the floor runs
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--normal") normal = true;
        if (std::string(argv[i]) == "--storage-floor") floor_only = true;
    }
    auto dir = std::filesystem::temp_directory_path() / fmt::format("casemail-bench-{}", ::getpid());
    std::filesystem::create_directories(dir);
    if (floor_only) {
        std::printf("storage floor: raw message + decoded attachments only, same mix, WAL + synchronous=FULL, "
                    "%d msgs per transaction\n", per_transaction);
        storage_floor(dir / "floor-inline.db", messages, per_transaction, true);
        storage_floor(dir / "floor-deferred.db", messages, per_transaction, false);
    } else {
        store::StoreOptions options;  // WAL, synchronous=FULL: the daemon's settings
        if (normal) options.open.durability = store::Durability::normal;
        auto s = store::Store::open((dir / "bench.db").string(), options);
        s.add_queue("Public Works", mailbox);
        std::printf("ingest: mix 70%% 4 KB text / 20%% ~100 KB attachment / 10%% HTML-only, 30%% replies; "
                    "WAL + synchronous=%s, %d msgs per transaction, one core\n", normal ? "NORMAL" : "FULL",
                    per_transaction);
        auto t0 = std::chrono::steady_clock::now();
        prefill(s, 100000, 100000);
        std::printf("  (prefill 100,000 contacts + 100,000 cases: %.1f s)\n",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        run(s, messages, 100000, 1, per_transaction);
        t0 = std::chrono::steady_clock::now();
        prefill(s, 100000, big);
        std::printf("  (grow to %d cases: %.1f s)\n", big,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        run(s, messages, big, 2, per_transaction);
    }
    std::filesystem::remove_all(dir);
    return 0;
}
