#include "store/wal_sync.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
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

std::size_t WalSync::syncs() const {
    std::lock_guard lock(mu_);
    return syncs_;
}

// The WAL file lives as long as the writer's connection (SQLite deletes it only when the last
// connection closes), so it is opened once. Its directory is synced then too: a WAL created
// since the last checkpoint is not on disk until its directory entry is.
std::exception_ptr WalSync::sync_once() {
    try {
        if (fd_ < 0) {
            int fd = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) throw sync_error("open", wal_path_, errno);
            fd_ = fd;
            auto dir = std::filesystem::absolute(wal_path_).parent_path();
            int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dir_fd < 0) throw sync_error("open the directory", dir.string(), errno);
            int rc = ::fsync(dir_fd);
            int err = errno;
            ::close(dir_fd);
            if (rc != 0) throw sync_error("sync the directory", dir.string(), err);
        }
        if (options_.sync(fd_) != 0) throw sync_error("sync", wal_path_, errno);
        std::lock_guard lock(mu_);
        ++syncs_;
        return nullptr;
    } catch (...) {
        return std::current_exception();
    }
}

void WalSync::loop() {
    ::pthread_setname_np(::pthread_self(), "store-sync");
    for (;;) {
        std::deque<Completion> batch;
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
            if (pending_.empty()) break;  // stopping, nothing left
            batch.swap(pending_);
        }
        // Everything in `batch` was committed before this call starts: one sync covers it.
        auto outcome = sync_once();
        if (outcome) {
            try {
                std::rethrow_exception(outcome);
            } catch (const std::exception& e) {
                log_failure(e.what());
            }
        }
        for (auto& done : batch) {
            try {
                done(outcome);
            } catch (...) {  // a completion must not take the sync thread down with it
            }
        }
    }
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace casemail::store
