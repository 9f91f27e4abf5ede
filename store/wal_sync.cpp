#include "store/wal_sync.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

namespace casemail::store {
namespace {

Error sync_error(const std::string& what, const std::string& path, int err) {
    return Error(0, fmt::format("cannot {} '{}' to make the commit durable: {}", what, path, std::strerror(err)));
}

}  // namespace

WalSync::WalSync(Database& writer, WalSyncOptions options)
    : writer_(writer), options_(std::move(options)), wal_path_(writer.wal_path()) {
    if (!options_.sync) options_.sync = [](int fd) { return ::fdatasync(fd); };
    if (wal_path_.empty()) throw Error(0, fmt::format("'{}' has no WAL file to sync", writer_.path()));
    writer_.exec("PRAGMA synchronous = NORMAL");
    thread_ = std::thread([this] { loop(); });
}

WalSync::~WalSync() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    try {
        writer_.exec("PRAGMA synchronous = FULL");
    } catch (const std::exception& e) {  // the connection is about to close anyway
        log_failure(fmt::format("cannot set '{}' back to synchronous=FULL: {}", writer_.path(), e.what()));
    }
}

void WalSync::committed(Completion done) {
    {
        std::lock_guard lock(mu_);
        pending_.push_back(std::move(done));
    }
    wake_.notify_one();
}

// The WAL file, opened once by the sync thread (SQLite deletes it only when the last connection
// closes, and the writer's stays open while this object lives) and closed when the thread ends.
class WalSync::WalFile {
public:
    ~WalFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    // Opening it also syncs its directory: a WAL created since the last checkpoint is not on
    // disk until its directory entry is.
    int fd(const std::string& path) {
        if (fd_ >= 0) return fd_;
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw sync_error("open", path, errno);
        fd_ = fd;
        fsync_path(std::filesystem::absolute(path).parent_path().string(), true);
        return fd_;
    }

private:
    int fd_ = -1;
};

std::exception_ptr WalSync::sync_once(WalFile& wal) {
    try {
        if (options_.sync(wal.fd(wal_path_)) != 0) throw sync_error("sync", wal_path_, errno);
        return nullptr;
    } catch (const std::exception& e) {
        log_failure(e.what());
        return std::current_exception();
    }
}

void WalSync::loop() {
    ::pthread_setname_np(::pthread_self(), "store-sync");
    WalFile wal;
    for (;;) {
        std::deque<Completion> batch;
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
            if (pending_.empty()) return;  // stopping, nothing left
            batch.swap(pending_);
        }
        // Everything in `batch` was committed before this call starts: one sync covers it.
        auto outcome = sync_once(wal);
        for (auto& done : batch) {
            try {
                done(outcome);
            } catch (...) {  // a completion must not take the sync thread down with it
            }
        }
    }
}

}  // namespace casemail::store
