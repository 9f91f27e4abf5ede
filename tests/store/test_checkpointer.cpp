// Checkpoints beside the writer: the background thread copies the WAL, the writer bounds it.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "store/checkpointer.hpp"
#include "store/writer.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail::store;

namespace {

constexpr std::uintmax_t frame_bytes = 4096 + 24;  // a 4 KB page and its frame header

// A 4 KB row: a few WAL frames once committed.
void insert_blob(Database& db, int n) {
    auto st = db.cached("INSERT INTO blob(n, content) VALUES (?1, zeroblob(4000))");
    st->bind(1, n);
    st->run();
}

void commit_blob(Database& db, int n) {
    Transaction tx(db);
    insert_blob(db, n);
    tx.commit();
}

Database blob_store(const std::string& path) {
    auto db = Database::open(path);
    db.exec("CREATE TABLE IF NOT EXISTS blob(n INTEGER PRIMARY KEY, content BLOB NOT NULL)");
    return db;
}

std::int64_t rows(const std::string& path) {
    auto reader = Database::open(path);
    auto st = reader.prepare("SELECT count(*) FROM blob");
    st.step();
    return st.int64(0);
}

// Waits (at most 10 s) for the background thread to have run `n` checkpoints.
bool background_ran(const Checkpointer& c, std::size_t n) {
    for (int i = 0; i < 1000 && c.background_runs() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return c.background_runs() >= n;
}

}  // namespace

TEST_CASE("checkpointer: from background_frames the thread checkpoints; the writer never does below inline_frames") {
    casemail::test::TempDir tmp;
    auto path = tmp.file("store.db");
    auto db = blob_store(path);
    Checkpointer c(db, {.background_frames = 200, .inline_frames = 1000000});
    for (int i = 0; i < 19; ++i) commit_blob(db, i);  // 1-3 frames each: under 200, nothing wanted yet
    CHECK(c.background_runs() == 0);
    for (int i = 19; i < 300; ++i) commit_blob(db, i);
    CHECK(background_ran(c, 1));
    CHECK(c.inline_runs() == 0);
    CHECK(rows(path) == 300);
}

TEST_CASE("checkpointer: at inline_frames the writer checkpoints itself, and the WAL stays under that bound") {
    casemail::test::TempDir tmp;
    auto path = tmp.file("store.db");
    auto db = blob_store(path);
    Checkpointer c(db, {.background_frames = 1000000, .inline_frames = 40});
    std::uintmax_t largest = 0;
    for (int i = 0; i < 500; ++i) {
        commit_blob(db, i);
        largest = std::max(largest, std::filesystem::file_size(path + "-wal"));
    }
    CHECK(c.inline_runs() >= 10);  // ~1,500 frames in 40-frame laps
    CHECK(c.background_runs() == 0);
    CHECK(largest <= (40 + 8) * frame_bytes + 32);  // the bound plus one commit's frames
    CHECK(rows(path) == 500);
}

TEST_CASE("checkpointer: without one the connection checkpoints automatically again") {
    casemail::test::TempDir tmp;
    auto path = tmp.file("store.db");
    auto db = blob_store(path);
    { Checkpointer c(db, {.background_frames = 1000000, .inline_frames = 1000000}); }
    std::uintmax_t largest = 0;
    for (int i = 0; i < 1500; ++i) {  // ~4,500 frames: SQLite's 1,000-frame threshold restarts the WAL
        commit_blob(db, i);
        largest = std::max(largest, std::filesystem::file_size(path + "-wal"));
    }
    CHECK(largest <= (1000 + 8) * frame_bytes + 32);
}

TEST_CASE("writer: its WAL is checkpointed beside it and stays bounded; every item is stored") {
    casemail::test::TempDir tmp;
    auto path = tmp.file("store.db");
    Store::open(path).db().exec("CREATE TABLE blob(n INTEGER PRIMARY KEY, content BLOB NOT NULL)");
    WriterOptions options;
    options.checkpoint = {.background_frames = 30, .inline_frames = 60};
    std::uintmax_t largest = 0;
    {
        Writer w([&] { return Store::open(path); }, options);
        for (int i = 0; i < 400; ++i) {
            w.run([i](Store& s) { insert_blob(s.db(), i); });
            largest = std::max(largest, std::filesystem::file_size(path + "-wal"));
        }
    }
    CHECK(largest <= (60 + 8) * frame_bytes + 32);
    CHECK(rows(path) == 400);
}

TEST_CASE("checkpointer: a writer killed while checkpoints run keeps every item it completed; the store is intact") {
    casemail::test::TempDir tmp;
    auto path = tmp.file("store.db");
    Store::open(path).db().exec("CREATE TABLE blob(n INTEGER PRIMARY KEY, content BLOB NOT NULL)");
    int report[2];
    REQUIRE(::pipe(report) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {  // writes until killed; reports each item once its commit returned
        ::close(report[0]);
        WriterOptions options;
        options.checkpoint = {.background_frames = 30, .inline_frames = 120};
        Writer w([&] { return Store::open(path); }, options);
        for (int i = 0;; ++i) {
            w.run([i](Store& s) { insert_blob(s.db(), i); });
            if (::write(report[1], &i, sizeof i) != sizeof i) ::_exit(1);
        }
    }
    ::close(report[1]);
    int done = -1, n = 0;
    while (done < 800 && ::read(report[0], &n, sizeof n) == sizeof n) done = n;  // ~2,000 frames: many laps
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    while (::read(report[0], &n, sizeof n) == sizeof n) done = n;  // what it reported before it died
    ::close(report[0]);
    CHECK(WIFSIGNALED(status));
    REQUIRE(done >= 800);
    auto db = Database::open(path);
    auto check = db.prepare("PRAGMA integrity_check");
    REQUIRE(check.step());
    CHECK(check.text(0) == "ok");
    auto kept = db.prepare("SELECT count(*), coalesce(max(n), -1) FROM blob");
    kept.step();
    CHECK(kept.int64(0) == kept.int64(1) + 1);  // no gap
    CHECK(kept.int64(1) >= done);               // every completed item, perhaps one committed unreported
}
