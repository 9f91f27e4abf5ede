// RAII over SQLite: Database (connection), Statement (prepared statement), Transaction and
// Savepoint guards. <sqlite3.h> stays out of this header.
//
// Errors: every SQLite failure throws store::Error carrying the SQLite code and message — these
// are environment failures (disk full, busy, corrupt), caught at the I/O edge. Constraint
// violations throw store::ConstraintError so callers can turn a UNIQUE hit into "duplicate".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace casemail::store {

class Error : public std::runtime_error {
public:
    Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

class ConstraintError : public Error {
public:
    using Error::Error;
};

// A string's bytes as a blob to bind.
inline std::span<const unsigned char> as_blob(std::string_view bytes) {
    return {reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()};
}

// Text SQLite reads in place instead of copying (a message's body text, which can run to
// megabytes): bind_all(..., BorrowedText{body}, ...); the same lifetime rule as bind_borrowed.
struct BorrowedText {
    std::string_view text;
};

class Statement {
public:
    Statement(sqlite3* db, std::string_view sql);

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, bool value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, std::span<const unsigned char> blob);
    // A blob SQLite reads in place instead of copying (a raw message of tens of MB): the bytes
    // must outlive the statement's next reset(), which also clears the binding.
    Statement& bind_borrowed(int index, std::span<const unsigned char> blob);
    Statement& bind(int index, BorrowedText text);
    Statement& bind(int index, std::nullopt_t);
    template <class T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind(index, std::nullopt);
    }

    // Binds arguments to ?1, ?2, ... in order.
    template <class... Args>
    Statement& bind_all(const Args&... args) {
        int i = 0;
        (bind(++i, args), ...);
        return *this;
    }

    // Advances; true when a row is available. Throws on error.
    bool step();
    // Runs to completion (for statements without rows).
    void run();
    void reset();

    bool is_null(int column) const;
    std::int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;
    std::optional<std::string> opt_text(int column) const;
    std::optional<std::int64_t> opt_int64(int column) const;
    std::string blob(int column) const;  // the bytes, as they are (raw messages, attachments)

private:
    struct Finalizer {
        void operator()(sqlite3_stmt* s) const noexcept;
    };
    sqlite3* db_;
    std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

// A cached statement in use; resets it when it goes out of scope, so no statement is left
// active after its last row. (An active statement keeps the connection's read transaction
// open across COMMIT, which pins the WAL: checkpoints cannot finish and every read slows.)
class CachedStatement {
public:
    explicit CachedStatement(Statement& s) : s_(&s) {}
    CachedStatement(CachedStatement&& other) noexcept : s_(other.s_) { other.s_ = nullptr; }
    CachedStatement(const CachedStatement&) = delete;
    CachedStatement& operator=(const CachedStatement&) = delete;
    CachedStatement& operator=(CachedStatement&&) = delete;
    ~CachedStatement() {
        if (s_) s_->reset();
    }
    Statement* operator->() const { return s_; }
    Statement& operator*() const { return *s_; }

private:
    Statement* s_;
};

enum class Durability {
    full,    // synchronous=FULL: an acknowledgement (IMAP move, SMTP 250) may depend on the commit
    normal,  // synchronous=NORMAL: read-mostly tools
};

struct OpenOptions {
    bool create = true;
    Durability durability = Durability::full;
    int busy_timeout_ms = 5000;
    // Page cache. SQLite's 2 MB default makes large transactions thrash once the working set
    // (contacts, cases, their indexes) outgrows it: 40,000 case inserts went from 0.6 s to
    // 17 s in bench_ingest. 64 MB keeps a 1,000,000-case store's hot pages resident.
    int cache_kib = 64 * 1024;
    // Page size of a new store. 16 KB paid off while decoded attachments were stored beside the
    // raw message; with attachments by reference the writer's cost is index updates, and each
    // dirty page is written whole to the WAL: 4 KB pages ingest 15-35% faster (bench_ingest,
    // writer 331-380 us/msg against 391-511), the relay and the footprint are unchanged.
    int new_page_size = 4096;
    // Reads through mmap instead of pread (SQLite's mmap_size), bytes.
    std::int64_t mmap_bytes = std::int64_t{256} << 20;
};

class Database {
public:
    // Opens (creating when allowed) in WAL mode with foreign keys on. Throws Error with a
    // message that names the path, and the missing directory when that is the cause.
    static Database open(const std::string& path, const OpenOptions& options = {});

    Database(Database&&) noexcept = default;
    Database& operator=(Database&&) noexcept = default;
    ~Database() = default;

    void exec(std::string_view sql);
    Statement prepare(std::string_view sql);
    // A prepared statement kept for the life of the connection, unbound and reset again when
    // the returned guard goes away. Do not use the same SQL twice at once.
    CachedStatement cached(const std::string& sql);

    // Diagnostics: accumulate the time SQLite spends in each statement (by SQL text) until
    // the returned report is read. For benchmarks and slow-query hunting, not for production.
    void profile_statements(bool on);
    std::vector<std::pair<std::string, double>> statement_profile() const;  // (sql, seconds), slowest first

    // Bytes [offset, offset + length) of a blob in the row `rowid` of `table`, read in place
    // (incremental blob I/O) rather than loading the whole value: one part of a 40 MB message.
    // nullopt when the row is missing or the range lies outside the value.
    std::optional<std::string> read_blob_range(const char* table, const char* column, std::int64_t rowid,
                                               std::size_t offset, std::size_t length);

    // Writes `bytes` at `offset` into the blob in the row `rowid` of `table`, in place: with a
    // row inserted as zeroblob(N), SQLite never builds a record holding a copy of the value (a
    // 27 MB message would otherwise be in memory twice more). Throws when the row is missing or
    // the range lies outside the value.
    void write_blob(const char* table, const char* column, std::int64_t rowid, std::string_view bytes,
                    std::size_t offset = 0);

    // SQLite's online backup of this database into a new file at `path` (which must not exist),
    // from one read snapshot; returns the pages copied. The copy is not fsynced: the caller is.
    std::int64_t backup_into(const std::string& path);

    // After each commit of this connection, `hook(wal_frames)` runs (the frames now in the WAL)
    // instead of SQLite's automatic checkpoint, which copies the WAL into the database inside
    // that COMMIT. See Checkpointer. nullptr: automatic checkpoints again.
    void on_wal_commit(std::function<void(int)> hook);
    // One PASSIVE checkpoint: copies what it can of the WAL into the database, waiting for no
    // reader or writer. False when another connection's checkpoint was running.
    bool checkpoint_passive();
    // The file this connection's commits append to in WAL mode (SQLite's name for it).
    std::string wal_path() const;

    std::int64_t last_insert_rowid() const;
    int changes() const;
    bool in_transaction() const;
    const std::string& path() const { return path_; }

private:
    struct Closer {
        void operator()(sqlite3* db) const noexcept;
    };
    Database() = default;
    std::unique_ptr<std::function<void(int)>> wal_hook_;  // a stable address for SQLite; outlives db_
    std::unique_ptr<sqlite3, Closer> db_;  // declared first: destroyed after the statements
    std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
    std::string path_;
    std::unique_ptr<std::unordered_map<std::string, double>> profile_;
};

// Where a destructor reports what it could not throw (a failed ROLLBACK): stderr by default;
// casemaild points it at its log. Not thread-safe: set it once, before any store is used.
void set_failure_log(std::function<void(const std::string&)> log);
// Reports through that log what a thread of the store could not throw to anyone.
void log_failure(const std::string& what);
// fsync of a file or a directory (what makes a new name in it durable); Error with the reason.
void fsync_path(const std::string& path, bool directory);

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless commit() ran (a failed
// rollback is logged, see set_failure_log).
class Transaction {
public:
    explicit Transaction(Database& db);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    void commit();

private:
    Database& db_;
    bool done_ = false;
};

// SAVEPOINT usable inside or outside a transaction; rolled back unless release() ran.
class Savepoint {
public:
    Savepoint(Database& db, std::string name);
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    ~Savepoint();
    void release();

private:
    Database& db_;
    std::string name_;
    bool done_ = false;
};

}  // namespace casemail::store
