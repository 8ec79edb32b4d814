#pragma once
// SIGINT and SIGTERM for the mote commands that run until stopped (demo,
// broker): blocked for the process and delivered through a signalfd that an
// FdWatch puts into the executor's epoll set, so a task can co_await them.

#include <csignal>

#include "mote/async/task.hpp"
#include "mote/base/status.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote::cli {

class SignalWatch {
 public:
  SignalWatch() = default;
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;
  ~SignalWatch();

  Status open(platform::EpollDriver& driver);
  platform::FdWatch& watch() { return watch_; }

 private:
  sigset_t previous_{};
  bool blocked_ = false;
  int fd_ = -1;
  platform::FdWatch watch_;
};

// The next signal number from the signalfd; -errno if reading it failed.
async::Task<int> next_signal(platform::FdWatch& watch);

}  // namespace mote::cli
