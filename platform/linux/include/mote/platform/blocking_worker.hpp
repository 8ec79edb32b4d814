#pragma once
// BlockingWorker: a thread that runs blocking calls (an I2C_RDWR or
// SPI_IOC_MESSAGE ioctl, which sleep in the kernel until the transfer is on
// the wire and back) so the executor's thread keeps running other tasks.
//
//   Status status = co_await worker.run([this] { result_ = do_the_ioctl(); });
//
// run() hands the job to the thread (started on first use) and completes when
// the job has returned; the executor is woken through an InterruptEvent.
//   Cancels: destroying the awaiting task stops the wait, not the job (the
//   kernel cannot abort a transfer in flight). The next run() waits for it
//   first, and the destructor joins it. So a job must touch only memory that
//   outlives the worker (its owner's buffers), never the caller's frame.
// One run() at a time: owners serialise their callers (an async::Mutex).

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "mote/async/executor.hpp"
#include "mote/async/interrupt_event.hpp"
#include "mote/async/task.hpp"

namespace mote::platform {

class BlockingWorker {
 public:
  explicit BlockingWorker(async::Executor& executor) : done_(executor) {}
  BlockingWorker(const BlockingWorker&) = delete;
  BlockingWorker& operator=(const BlockingWorker&) = delete;
  ~BlockingWorker();

  async::Task<void> run(std::function<void()> job);

  // Completes when no job runs (one whose caller was cancelled may).
  async::Task<void> idle();

  // True while a job runs (e.g. one whose caller was cancelled).
  [[nodiscard]] bool busy() const;

 private:
  void loop();

  async::InterruptEvent done_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::function<void()> job_;  // guarded by mutex_; empty when idle
  bool running_ = false;       // guarded by mutex_: a job was handed over and has not returned
  bool stop_ = false;          // guarded by mutex_
  std::thread thread_;
};

}  // namespace mote::platform
