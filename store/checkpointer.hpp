// Checkpoints beside the store's writer. SQLite's automatic checkpoint copies the WAL into the
// database inside the COMMIT that crossed its threshold, so every thousandth page the writer
// (and every IMAP batch and relay 250 waiting on its group) stalls for the copy and its fsync:
// 15% of the writer's time in bench_ingest at 1,000,000 cases. Here a thread of its own, on a
// connection of its own, runs a PASSIVE checkpoint (it waits for nobody) each time the
// writer's commits have added `background_frames` to the WAL.
//
// A WAL is reused from its start only once a checkpoint has copied all of it and no commit came
// after; a writer that never pauses would grow it without bound. So at `inline_frames` the
// writer checkpoints itself, after its commit: it then copies only what the background
// checkpoints have not, and its next transaction starts the WAL over.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "store/database.hpp"

namespace casemail::store {

struct CheckpointOptions {
    int background_frames = 1000;  // SQLite's own automatic threshold
    int inline_frames = 8000;      // 32 MB of 4 KB pages: the WAL's bound under steady writes
};

class Checkpointer {
public:
    // Checkpoints the store of `writer`, the write connection, whose commits now report to
    // this object instead of checkpointing themselves (it must outlive this object).
    Checkpointer(Database& writer, CheckpointOptions options = {});
    ~Checkpointer();  // stops the thread; the writer's connection checkpoints automatically again
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;

    // Checkpoints run so far, on the thread and by the writer (for tests and benchmarks).
    std::size_t background_runs() const;
    std::size_t inline_runs() const;

private:
    void committed(int wal_frames);  // on the writer's thread, after each commit
    void loop();
    void checkpoint_once(std::optional<Database>& connection);

    Database& writer_;
    CheckpointOptions options_;
    std::string path_;
    int requested_at_ = 0;  // WAL frames at the last background request (the writer's thread only)
    mutable std::mutex mu_;
    std::condition_variable wake_;
    bool wanted_ = false, stopping_ = false;
    std::size_t background_runs_ = 0, inline_runs_ = 0;
    std::thread thread_;
};

}  // namespace casemail::store
