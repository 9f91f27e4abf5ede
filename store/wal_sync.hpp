// Durability beside the writer. With synchronous=FULL SQLite fsyncs the WAL inside every COMMIT
// and the writer waits for the disk: a quarter of its time in bench_ingest at 1,000,000 cases,
// time in which it could have applied the next group. Here the writer's connection commits
// with synchronous=NORMAL (the group's frames are written to the WAL file, not yet synced) and
// hands the group's completions to a thread of their own, which fdatasyncs the WAL file and
// only then completes them. Every frame written before an fdatasync starts is on disk when it
// returns, so one call covers every group committed so far, and groups complete in commit order.
//
// What stays: no acknowledgement (IMAP move, SMTP 250, an outbox send) goes out before its
// group is on disk. What changes: another connection may read a group some milliseconds before
// it is durable; the daemon acts on the store only through the writer's items, whose own
// completions wait for a later sync. Checkpoints stay safe: with NORMAL, SQLite syncs the WAL
// before a checkpoint copies it and the database after.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "store/database.hpp"

namespace casemail::store {

struct WalSyncOptions {
    // Makes a file's data durable: fdatasync when empty. Tests put a gate or a failure here.
    std::function<int(int fd)> sync;
};

class WalSync {
public:
    // Called once the commits handed over before it are on disk (nullptr) or could not be
    // made so (the sync's error). On the sync thread: keep it short.
    using Completion = std::function<void(std::exception_ptr)>;

    // `writer`, the write connection (in WAL mode, with a commit behind it so the WAL file
    // exists), commits with synchronous=NORMAL while this object lives; it must outlive it.
    explicit WalSync(Database& writer, WalSyncOptions options = {});
    ~WalSync();  // syncs and completes what was handed over; the connection is FULL again
    WalSync(const WalSync&) = delete;
    WalSync& operator=(const WalSync&) = delete;

    // On the writer's thread, after each COMMIT: `done` runs after the next sync.
    void committed(Completion done);

private:
    class WalFile;
    void loop();
    std::exception_ptr sync_once(WalFile& wal);

    Database& writer_;
    WalSyncOptions options_;
    std::string wal_path_;
    std::mutex mu_;
    std::condition_variable wake_;
    std::deque<Completion> pending_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace casemail::store
