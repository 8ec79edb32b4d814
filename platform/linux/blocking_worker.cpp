#include "mote/platform/blocking_worker.hpp"

#include <utility>

namespace mote::platform {

BlockingWorker::~BlockingWorker() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();  // after the job in flight, if any
}

bool BlockingWorker::busy() const {
  const std::lock_guard lock(mutex_);
  return running_;
}

async::Task<void> BlockingWorker::idle() {
  // Its raise, or a stale one, ends the wait; the loop looks again.
  while (busy()) co_await done_.wait();
}

async::Task<void> BlockingWorker::run(std::function<void()> job) {
  co_await idle();  // a cancelled caller's job may still run
  done_.try_take();
  {
    const std::lock_guard lock(mutex_);
    job_ = std::move(job);
    running_ = true;
  }
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { loop(); });
  } else {
    wake_.notify_one();
  }
  while (busy()) co_await done_.wait();
}

void BlockingWorker::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || job_; });
    if (!job_) return;  // stop_ with nothing to do
    std::function<void()> job = std::move(job_);
    job_ = nullptr;
    lock.unlock();
    job();
    lock.lock();
    running_ = false;
    done_.raise();
  }
}

}  // namespace mote::platform
