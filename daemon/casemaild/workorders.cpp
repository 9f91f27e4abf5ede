// casemaild: the work-order systems' status updates ([[workorder]] inbox_dir), read every
// daemon.workorder_sync_interval on a pool thread; each update is one item of the store's writer
// (see daemon/workorder/spool.hpp), so the loop never waits on the store or the disk.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "daemon/casemaild/loop.hpp"
#include "daemon/common/log.hpp"
#include "daemon/workorder/spool.hpp"
#include "store/workorder.hpp"

namespace casemail::casemaild {

void Daemon::schedule_workorder_sync(std::chrono::seconds delay) {
    workorder_timer_.expires_after(delay);
    workorder_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        auto job_config = config_;
        if (job_config->workorders.empty()) {  // a reload may add one
            schedule_workorder_sync(job_config->workorder_sync_interval);
            return;
        }
        asio::post(pool_, [this, job_config, guard = asio::make_work_guard(ctx_)] {
            for (const auto& w : job_config->workorders) {
                if (stop_) break;
                sync_workorder(w, *job_config);
            }
            asio::post(ctx_, [this] {
                if (!stopping_) schedule_workorder_sync(config_->workorder_sync_interval);
            });
        });
    });
}

// On a pool thread: one line per update file (event=workorder-update), one per directory problem.
void Daemon::sync_workorder(const config::WorkorderConfig& w, const Config& cfg) {
    auto resolution = workorder::resolution_for(w, cfg);
    auto apply = [&](const store::WorkOrderUpdate& u) {
        return writer_->run([&](store::Store& s) { return store::apply_work_order_update(s, w.name, u, resolution, "casemaild"); });
    };
    auto log = [&](const std::string& file, const std::string& action, const std::string& detail) {
        common::log_line(common::log_fields(
            {{"workorder", w.name}, {"event", "workorder-update"}, {"file", file}, {"action", action}, {"detail", detail}}));
    };
    try {
        auto report = workorder::read_updates(w.inbox_dir, apply, log);
        for (const auto& p : report.problems)
            common::log_line(common::log_fields({{"workorder", w.name}, {"event", "failing"}, {"reason", p}}));
    } catch (const std::exception& e) {  // the store (full, read-only): the files stay for the next sync
        common::log_line(common::log_fields({{"workorder", w.name}, {"event", "failing"}, {"reason", e.what()}}));
    }
}

}  // namespace casemail::casemaild
