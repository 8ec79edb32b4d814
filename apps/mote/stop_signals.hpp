#pragma once
// SIGINT and SIGTERM as events of the executor: blocked for the process and
// delivered through a signalfd that an FdWatch puts into the epoll set. Every
// long-running subcommand stops cleanly this way (Ctrl-C, `kill`).

#include <csignal>

#include "mote/async/task.hpp"
#include "mote/base/status.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote::cli {

class StopSignals {
 public:
  StopSignals() = default;
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals();

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

// For a command that runs until stopped: checks that `driver` started and
// opens `signals` on it; logs what failed and returns false otherwise.
bool prepare_to_run(platform::EpollDriver& driver, StopSignals& signals);

// "SIGINT", "SIGTERM" or "a signal".
const char* signal_name(int signal);

}  // namespace mote::cli
