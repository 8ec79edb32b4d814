#define MOTE_LOG_MODULE "mote"

#include "stop_signals.hpp"

#include <cerrno>
#include <sys/signalfd.h>
#include <unistd.h>

#include "mote/base/log.hpp"

namespace mote::cli {

StopSignals::~StopSignals() {
  watch_.close();
  if (fd_ >= 0) {
    // A second Ctrl-C during the shutdown must not kill the process (with
    // the report half printed) once the mask is restored: swallow it.
    signalfd_siginfo info{};
    while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    }
    ::close(fd_);
  }
  if (blocked_) ::sigprocmask(SIG_SETMASK, &previous_, nullptr);
}

Status StopSignals::open(platform::EpollDriver& driver) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  if (::sigprocmask(SIG_BLOCK, &mask, &previous_) != 0) return Status::internal();
  blocked_ = true;
  fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) return Status::resource_exhausted();
  return watch_.open(driver, fd_);
}

async::Task<int> next_signal(platform::FdWatch& watch) {
  for (;;) {
    signalfd_siginfo info{};
    const ssize_t n = ::read(watch.fd(), &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) co_return static_cast<int>(info.ssi_signo);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      watch.clear_readable();
      if ((co_await watch.readable()).ok()) continue;
      co_return -EBADF;  // the watch was closed
    }
    co_return n < 0 ? -errno : -EIO;
  }
}

const char* signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

bool prepare_to_run(platform::EpollDriver& driver, StopSignals& signals) {
  if (!driver.status().ok()) {
    MOTE_LOG_ERROR("cannot start the Linux driver: %s", driver.status().str());
    return false;
  }
  if (const Status opened = signals.open(driver); !opened.ok()) {
    MOTE_LOG_ERROR("cannot watch SIGINT/SIGTERM: %s", opened.str());
    return false;
  }
  return true;
}

}  // namespace mote::cli
