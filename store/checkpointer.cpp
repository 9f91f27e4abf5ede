#include "store/checkpointer.hpp"

#include <pthread.h>

#include <optional>

#include <fmt/format.h>

namespace casemail::store {

Checkpointer::Checkpointer(Database& writer, CheckpointOptions options)
    : writer_(writer), options_(options), path_(writer.path()) {
    thread_ = std::thread([this] { loop(); });
    writer_.on_wal_commit([this](int frames) { committed(frames); });
}

Checkpointer::~Checkpointer() {
    writer_.on_wal_commit(nullptr);
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

std::size_t Checkpointer::background_runs() const {
    std::lock_guard lock(mu_);
    return background_runs_;
}

std::size_t Checkpointer::inline_runs() const {
    std::lock_guard lock(mu_);
    return inline_runs_;
}

// Runs inside SQLite's COMMIT (its WAL hook), once the group's frames are in the WAL (synced
// already with FULL; with WalSync a checkpoint syncs the WAL before copying it): nothing may throw.
void Checkpointer::committed(int wal_frames) {
    if (wal_frames >= options_.inline_frames) {
        try {
            // Busy: the background checkpoint is copying; the next commit tries again.
            if (writer_.checkpoint_passive()) {
                std::lock_guard lock(mu_);
                ++inline_runs_;
            }
        } catch (const std::exception& e) {
            log_failure(fmt::format("checkpoint of '{}' by the writer failed: {}", path_, e.what()));
        }
        return;
    }
    // One background checkpoint per background_frames new frames, as SQLite's own cadence:
    // the WAL only starts over after the writer's inline checkpoint, and asking after every
    // commit past the threshold cost an fsync of the database per commit.
    if (wal_frames < requested_at_) requested_at_ = 0;  // the WAL started over
    if (wal_frames - requested_at_ < options_.background_frames) return;
    requested_at_ = wal_frames;
    {
        std::lock_guard lock(mu_);
        wanted_ = true;
    }
    wake_.notify_one();
}

void Checkpointer::checkpoint_once(std::optional<Database>& connection) {
    try {
        if (!connection) {
            OpenOptions small;
            small.create = false;
            small.cache_kib = 1024;  // a checkpoint copies frames; it does not use the page cache
            connection.emplace(Database::open(path_, small));
        }
        if (connection->checkpoint_passive()) {
            std::lock_guard lock(mu_);
            ++background_runs_;
        }
    } catch (const std::exception& e) {  // the writer's inline checkpoints still bound the WAL
        log_failure(fmt::format("background checkpoint of '{}' failed: {}", path_, e.what()));
        connection.reset();
    }
}

void Checkpointer::loop() {
    ::pthread_setname_np(::pthread_self(), "store-checkpoint");
    std::optional<Database> connection;
    for (;;) {
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [&] { return stopping_ || wanted_; });
            if (stopping_) return;
            wanted_ = false;
        }
        checkpoint_once(connection);
    }
}

}  // namespace casemail::store
