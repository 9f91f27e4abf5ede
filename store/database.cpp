#include "store/database.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <filesystem>
#include <stdexcept>
#include <fmt/format.h>
#include <sqlite3.h>

namespace casemail::store {
namespace {

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view context) {
    std::string msg = fmt::format("{}: {}", context, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    if ((rc & 0xff) == SQLITE_CONSTRAINT) throw ConstraintError(rc, msg);
    throw Error(rc, msg);
}

}  // namespace

void Statement::Finalizer::operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    stmt_.reset(raw);
    if (rc != SQLITE_OK) throw_sqlite(db, rc, fmt::format("prepare '{}'", sql.substr(0, 60)));
}

Statement& Statement::bind(int index, std::int64_t value) {
    int rc = sqlite3_bind_int64(stmt_.get(), index, value);
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    int rc = sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, std::span<const unsigned char> blob) {
    int rc = sqlite3_bind_blob64(stmt_.get(), index, blob.data(), blob.size(), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
    return *this;
}

Statement& Statement::bind_borrowed(int index, std::span<const unsigned char> blob) {
    int rc = sqlite3_bind_blob64(stmt_.get(), index, blob.data(), blob.size(), SQLITE_STATIC);
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, BorrowedText text) {
    int rc = sqlite3_bind_text64(stmt_.get(), index, text.text.data(), text.text.size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
    int rc = sqlite3_bind_null(stmt_.get(), index);
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // sqlite3_step's rc is generic for some errors; the extended code is on the connection.
    throw_sqlite(db_, sqlite3_extended_errcode(db_), "step");
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

double Statement::real(int column) const { return sqlite3_column_double(stmt_.get(), column); }

std::string Statement::text(int column) const {
    auto p = sqlite3_column_text(stmt_.get(), column);
    int n = sqlite3_column_bytes(stmt_.get(), column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::optional<std::string> Statement::opt_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
}

std::optional<std::int64_t> Statement::opt_int64(int column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
}

std::string Statement::blob(int column) const {
    auto p = static_cast<const char*>(sqlite3_column_blob(stmt_.get(), column));
    auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column));
    return p ? std::string(p, n) : std::string();
}

void Database::Closer::operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }

namespace {

// Process-wide SQLite settings, made once before its first connection. Memory statistics
// off: with them on, every allocation inside SQLite takes one global mutex (6% of the store
// writer's time in an IMAP drain). Nothing here reads them.
void configure_sqlite() {
    static const int initialised = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);  // refused (harmless) if SQLite already started
        return sqlite3_initialize();
    }();
    if (initialised != SQLITE_OK) throw Error(initialised, "cannot initialise SQLite");
}

}  // namespace

Database Database::open(const std::string& path, const OpenOptions& options) {
    configure_sqlite();
    if (path != ":memory:" && !path.starts_with("file:")) {
        auto dir = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
            throw Error(SQLITE_CANTOPEN,
                        fmt::format("cannot open store '{}': directory '{}' does not exist", path,
                                    dir.string()));
        if (!options.create && !std::filesystem::exists(path, ec))
            throw Error(SQLITE_CANTOPEN,
                        fmt::format("store '{}' does not exist (run 'casemail init')", path));
    }
    Database d;
    d.path_ = path;
    sqlite3* raw = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    d.db_.reset(raw);
    if (rc != SQLITE_OK)
        throw Error(rc, fmt::format("cannot open store '{}': {}", path,
                                    raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, options.busy_timeout_ms);
    d.exec("PRAGMA foreign_keys = ON");
    // page_size only takes effect before the first table exists (a new, empty store).
    d.exec(fmt::format("PRAGMA page_size = {}", options.new_page_size));
    d.exec(fmt::format("PRAGMA mmap_size = {}", options.mmap_bytes));
    if (path != ":memory:") {
        Statement wal(raw, "PRAGMA journal_mode = WAL");
        if (!wal.step() || wal.text(0) != "wal")
            throw Error(SQLITE_ERROR, fmt::format("store '{}': cannot enable WAL mode", path));
    }
    d.exec(fmt::format("PRAGMA cache_size = -{}", options.cache_kib));
    d.exec("PRAGMA temp_store = MEMORY");
    d.exec(options.durability == Durability::full ? "PRAGMA synchronous = FULL"
                                                  : "PRAGMA synchronous = NORMAL");
    return d;
}

std::int64_t Database::backup_into(const std::string& path) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<sqlite3, Closer> dest(raw);
    if (rc != SQLITE_OK)
        throw Error(rc, fmt::format("cannot create '{}': {}", path, raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    sqlite3_backup* backup = sqlite3_backup_init(dest.get(), "main", db_.get(), "main");
    if (!backup) throw Error(sqlite3_errcode(dest.get()), fmt::format("backup to '{}': {}", path, sqlite3_errmsg(dest.get())));
    // -1: every page in one step, so the copy is one snapshot however busy the writers are
    // (WAL readers never block them).
    do {
        rc = sqlite3_backup_step(backup, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(50);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    std::int64_t pages = sqlite3_backup_pagecount(backup);
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) throw Error(rc, fmt::format("backup to '{}' failed: {}", path, sqlite3_errstr(rc)));
    return pages;
}

void Database::exec(std::string_view sql) {
    std::string s(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        int ext = sqlite3_extended_errcode(db_.get());
        if ((ext & 0xff) == SQLITE_CONSTRAINT) throw ConstraintError(ext, msg);
        throw Error(ext, msg);
    }
}

Statement Database::prepare(std::string_view sql) { return Statement(db_.get(), sql); }

CachedStatement Database::cached(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end())
        it = cache_.emplace(sql, std::make_unique<Statement>(db_.get(), sql)).first;
    return CachedStatement(*it->second);
}

void Database::profile_statements(bool on) {
    if (!on) {
        sqlite3_trace_v2(db_.get(), 0, nullptr, nullptr);
        return;
    }
    if (!profile_) profile_ = std::make_unique<std::unordered_map<std::string, double>>();
    sqlite3_trace_v2(
        db_.get(), SQLITE_TRACE_PROFILE,
        [](unsigned, void* ctx, void* p, void* x) -> int {
            auto* totals = static_cast<std::unordered_map<std::string, double>*>(ctx);
            const char* sql = sqlite3_sql(static_cast<sqlite3_stmt*>(p));
            (*totals)[sql ? sql : "?"] += static_cast<double>(*static_cast<sqlite3_int64*>(x)) / 1e9;
            return 0;
        },
        profile_.get());
}

std::vector<std::pair<std::string, double>> Database::statement_profile() const {
    std::vector<std::pair<std::string, double>> out;
    if (profile_) out.assign(profile_->begin(), profile_->end());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    return out;
}

namespace {

using BlobHandle = std::unique_ptr<sqlite3_blob, decltype(&sqlite3_blob_close)>;

// Incremental blob I/O on one value; `rc` is sqlite3_blob_open's answer.
BlobHandle open_blob(sqlite3* db, const char* table, const char* column, std::int64_t rowid, bool writable,
                     int& rc) {
    sqlite3_blob* raw = nullptr;
    rc = sqlite3_blob_open(db, "main", table, column, rowid, writable ? 1 : 0, &raw);
    return BlobHandle(raw, &sqlite3_blob_close);
}

// [offset, offset + length) inside a value of `size` bytes (and addressable by blob I/O's ints).
bool range_fits(std::size_t size, std::size_t offset, std::size_t length) {
    return offset <= size && length <= size - offset && length <= static_cast<std::size_t>(INT_MAX);
}

}  // namespace

std::optional<std::string> Database::read_blob_range(const char* table, const char* column, std::int64_t rowid,
                                                     std::size_t offset, std::size_t length) {
    int rc = SQLITE_OK;
    auto blob = open_blob(db_.get(), table, column, rowid, false, rc);
    if (rc == SQLITE_ERROR) return std::nullopt;  // no such row (or a NULL value)
    if (rc != SQLITE_OK) throw_sqlite(db_.get(), rc, "open blob");
    if (!range_fits(static_cast<std::size_t>(sqlite3_blob_bytes(blob.get())), offset, length)) return std::nullopt;
    std::string out(length, '\0');
    rc = sqlite3_blob_read(blob.get(), out.data(), static_cast<int>(length), static_cast<int>(offset));
    if (rc != SQLITE_OK) throw_sqlite(db_.get(), rc, "read blob");
    return out;
}

void Database::write_blob(const char* table, const char* column, std::int64_t rowid, std::string_view bytes,
                          std::size_t offset) {
    int rc = SQLITE_OK;
    auto blob = open_blob(db_.get(), table, column, rowid, true, rc);
    if (rc != SQLITE_OK)
        throw_sqlite(db_.get(), rc, fmt::format("open blob {}.{} row {} for writing", table, column, rowid));
    auto size = static_cast<std::size_t>(sqlite3_blob_bytes(blob.get()));
    if (!range_fits(size, offset, bytes.size()))
        throw std::logic_error(fmt::format("write_blob: {} bytes at {} past the end of a {}-byte value",
                                           bytes.size(), offset, size));
    rc = sqlite3_blob_write(blob.get(), bytes.data(), static_cast<int>(bytes.size()), static_cast<int>(offset));
    if (rc != SQLITE_OK) throw_sqlite(db_.get(), rc, "write blob");
}

void Database::on_wal_commit(std::function<void(int)> hook) {
    if (!hook) {
        sqlite3_wal_autocheckpoint(db_.get(), 1000);  // SQLite's default
        wal_hook_.reset();
        return;
    }
    wal_hook_ = std::make_unique<std::function<void(int)>>(std::move(hook));
    sqlite3_wal_hook(
        db_.get(),
        [](void* ctx, sqlite3*, const char*, int frames) -> int {
            (*static_cast<std::function<void(int)>*>(ctx))(frames);
            return SQLITE_OK;
        },
        wal_hook_.get());
}

bool Database::checkpoint_passive() {
    int rc = sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc == SQLITE_BUSY) return false;
    if (rc != SQLITE_OK) throw_sqlite(db_.get(), rc, "checkpoint");
    return true;
}

std::string Database::wal_path() const {
    const char* wal = sqlite3_filename_wal(sqlite3_db_filename(db_.get(), "main"));
    return wal ? wal : "";
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }
int Database::changes() const { return sqlite3_changes(db_.get()); }
bool Database::in_transaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

namespace {

std::function<void(const std::string&)>& failure_log() {
    static std::function<void(const std::string&)> log = [](const std::string& what) {
        std::fprintf(stderr, "casemail: store: %s\n", what.c_str());
    };
    return log;
}

// A destructor cannot throw: what went wrong is logged. SQLite rolls back what is left open
// when the connection closes.
void rollback_failed(const Database& db, const std::string& what, const char* detail) noexcept {
    try {
        failure_log()(fmt::format("{} failed on '{}': {}", what, db.path(), detail));
    } catch (...) {  // the log itself failed: nothing more can be done here
    }
}

}  // namespace

void log_failure(const std::string& what) { failure_log()(what); }

void fsync_path(const std::string& path, bool directory) {
    int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) throw Error(0, fmt::format("cannot open '{}' to sync it: {}", path, std::strerror(errno)));
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) throw Error(0, fmt::format("cannot sync '{}': {}", path, std::strerror(err)));
}

void set_failure_log(std::function<void(const std::string&)> log) {
    failure_log() = log ? std::move(log) : [](const std::string&) {};
}

// After some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM) SQLite has already rolled the
// transaction back by itself (sqlite.org/lang_transaction.html, "Response To Errors Within A
// Transaction"): a ROLLBACK then fails and is not worth a log line. The full-store test saw it.
Transaction::~Transaction() {
    if (done_ || !db_.in_transaction()) return;
    try {
        db_.exec("ROLLBACK");
    } catch (const std::exception& e) {
        rollback_failed(db_, "ROLLBACK", e.what());
    }
}

void Transaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

// Savepoints run as cached statements: the writer opens two per message, and sqlite3_exec
// parses its SQL every time.
Savepoint::Savepoint(Database& db, std::string name) : db_(db), name_(std::move(name)) {
    db_.cached("SAVEPOINT " + name_)->run();
}

Savepoint::~Savepoint() {
    if (done_ || !db_.in_transaction()) return;  // (the whole transaction is gone, as above)
    try {
        db_.cached("ROLLBACK TO " + name_)->run();
        db_.cached("RELEASE " + name_)->run();
    } catch (const std::exception& e) {
        rollback_failed(db_, "ROLLBACK TO " + name_, e.what());
    }
}

void Savepoint::release() {
    db_.cached("RELEASE " + name_)->run();
    done_ = true;
}

}  // namespace casemail::store
