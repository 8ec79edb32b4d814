#include "mote/platform/epoll_driver.hpp"

#include <cerrno>
#include <ctime>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <utility>

#define MOTE_LOG_MODULE "epoll"
#include "mote/base/log.hpp"

namespace mote::platform {
namespace {

// epoll_event.data.ptr of the driver's own fds; FdWatch pointers otherwise.
char g_timer_tag;
char g_event_tag;

// What an FdWatch registers for: both directions, hang-ups, edge-triggered.
constexpr std::uint32_t kWatchedEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET;

Status status_from_errno(int error) {
  switch (error) {
    case EBADF:
    case EINVAL:
    case EPERM:
    case ENOENT: return Status::invalid_argument();
    case EEXIST: return Status::already_exists();
    case ENOMEM:
    case ENOSPC:
    case EMFILE:
    case ENFILE: return Status::resource_exhausted();
    default: return Status::internal();
  }
}

timespec to_timespec(async::Instant instant) {
  const auto us = instant.time_since_epoch().count();
  return timespec{static_cast<time_t>(us / 1'000'000), static_cast<long>(us % 1'000'000) * 1000};
}

}  // namespace

EpollDriver::EpollDriver() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || timer_fd_ < 0 || event_fd_ < 0) {
    status_ = status_from_errno(errno);
    MOTE_LOG_ERROR("cannot create epoll/timerfd/eventfd: errno %d", errno);
    return;
  }
  epoll_event timer_event{};
  timer_event.events = EPOLLIN;
  timer_event.data.ptr = &g_timer_tag;
  epoll_event wake_event{};
  wake_event.events = EPOLLIN;
  wake_event.data.ptr = &g_event_tag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &timer_event) != 0 ||
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &wake_event) != 0) {
    status_ = status_from_errno(errno);
    MOTE_LOG_ERROR("cannot register timerfd/eventfd: errno %d", errno);
  }
}

EpollDriver::~EpollDriver() {
  for (int fd : {epoll_fd_, timer_fd_, event_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

async::Instant EpollDriver::now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return async::Instant(
      async::Duration(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000));
}

bool EpollDriver::wait_until(async::Instant deadline) {
  if (!status_.ok()) return false;
  epoll_event events[64];
  int count = 0;
  const async::Instant current = now();
  if (deadline == async::Instant::min() || deadline <= current) {
    count = ::epoll_wait(epoll_fd_, events, 64, 0);
  } else if (deadline == async::kNever) {
    count = ::epoll_wait(epoll_fd_, events, 64, -1);
  } else if (have_epoll_pwait2_) {
    // One system call, nanosecond resolution; the kernel's timer slack (50 µs
    // by default) lets it merge nearby wake-ups.
    const auto us = (deadline - current).count();
    const timespec timeout{static_cast<time_t>(us / 1'000'000),
                           static_cast<long>(us % 1'000'000) * 1000};
    count = ::epoll_pwait2(epoll_fd_, events, 64, &timeout, nullptr);
    // ENOSYS: a kernel before 5.11. EPERM: a seccomp filter that does not
    // know the call (systemd's SystemCallFilter answers EPERM, see
    // packaging/mote-gateway.service.in). Either way: the timerfd below.
    if (count < 0 && (errno == ENOSYS || errno == EPERM)) {
      have_epoll_pwait2_ = false;
      return true;
    }
  } else {
    if (deadline != armed_) {
      itimerspec spec{};
      spec.it_value = to_timespec(deadline);
      if (::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) == 0) {
        armed_ = deadline;
      }
    }
    // If arming failed, poll again in a millisecond rather than sleep through it.
    count = ::epoll_wait(epoll_fd_, events, 64, armed_ == deadline ? -1 : 1);
  }
  for (int i = 0; i < count; ++i) dispatch(events[i].events, events[i].data.ptr);
  return true;
}

void EpollDriver::dispatch(std::uint32_t events, void* tag) {
  if (tag == &g_timer_tag) {
    std::uint64_t expirations = 0;
    if (::read(timer_fd_, &expirations, sizeof expirations) < 0) {
      // EAGAIN: already consumed; nothing else can fail on a timerfd we own.
    }
    armed_ = async::kNever;
    return;
  }
  if (tag == &g_event_tag) {
    std::uint64_t count = 0;
    if (::read(event_fd_, &count, sizeof count) < 0) {
      // EAGAIN: another wait already drained it.
    }
    return;
  }
  auto* watch = static_cast<FdWatch*>(tag);
  const bool failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
  if (failed || (events & (EPOLLRDHUP | EPOLLPRI)) != 0) watch->end_or_urgent_ = true;
  if (failed || (events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) != 0) {
    watch->readable_ = true;
    watch->read_waker_.wake();
    // The listener may close the watch; the object itself outlives this call.
    if (io::ReadinessListener* listener = std::exchange(watch->read_listener_, nullptr)) {
      listener->on_readable();
    }
  }
  if (failed || (events & EPOLLOUT) != 0) {
    watch->writable_ = true;
    watch->write_waker_.wake();
  }
}

void EpollDriver::notify() {
  const std::uint64_t one = 1;
  if (::write(event_fd_, &one, sizeof one) < 0) {
    // EAGAIN: the counter is saturated, so a wake-up is pending anyway.
  }
}

Status FdWatch::open(EpollDriver& driver, int fd) {
  MOTE_ASSERT(!is_open());
  if (!driver.status().ok()) return driver.status();
  epoll_event event{};
  event.events = kWatchedEvents;
  event.data.ptr = this;
  if (::epoll_ctl(driver.epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    return status_from_errno(errno);
  }
  driver_ = &driver;
  fd_ = fd;
  readable_ = false;
  writable_ = false;
  end_or_urgent_ = false;
  return ok_status();
}

void FdWatch::take(FdWatch& other) noexcept {
  MOTE_ASSERT(!other.read_waker_ && !other.write_waker_ && "moved while a task waits on it");
  driver_ = std::exchange(other.driver_, nullptr);
  fd_ = std::exchange(other.fd_, -1);
  readable_ = other.readable_;
  writable_ = other.writable_;
  end_or_urgent_ = other.end_or_urgent_;
  read_listener_ = std::exchange(other.read_listener_, nullptr);
  if (fd_ < 0) return;
  epoll_event event{};
  event.events = kWatchedEvents;
  event.data.ptr = this;
  // MOD cannot fail for an fd registered with this epoll; if it did, the
  // readiness flags kept above still let the next operation try the fd.
  ::epoll_ctl(driver_->epoll_fd_, EPOLL_CTL_MOD, fd_, &event);
}

void FdWatch::close() {
  if (!is_open()) return;
  ::epoll_ctl(driver_->epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
  fd_ = -1;
  driver_ = nullptr;
  read_listener_ = nullptr;
  read_waker_.wake();
  write_waker_.wake();
}

Status watch_or_close(FdWatch& watch, EpollDriver& driver, int fd) {
  if (Status status = watch.open(driver, fd); !status.ok()) {
    ::close(fd);
    return status;
  }
  return ok_status();
}

void close_watched(FdWatch& watch) {
  if (!watch.is_open()) return;
  const int fd = watch.fd();
  watch.close();
  ::close(fd);
}

}  // namespace mote::platform
