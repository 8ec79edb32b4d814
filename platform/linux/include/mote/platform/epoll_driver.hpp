#pragma once
// EpollDriver: the Linux platform driver. Time is CLOCK_MONOTONIC; the
// executor sleeps in epoll_pwait2 with the time to the next deadline (on
// kernels before 5.11, in epoll_wait on a timerfd armed for it), woken early
// by an eventfd for notify() and by the file descriptors that FdWatch objects
// register, which is how sockets, serial ports and GPIO line events reach
// their awaiting tasks.

#include <cstdint>

#include "mote/async/driver.hpp"
#include "mote/async/executor.hpp"
#include "mote/base/status.hpp"
#include "mote/io/concepts.hpp"

namespace mote::platform {

class FdWatch;

class EpollDriver final : public async::Driver {
 public:
  EpollDriver();
  ~EpollDriver();
  EpollDriver(const EpollDriver&) = delete;
  EpollDriver& operator=(const EpollDriver&) = delete;

  // Not ok when the kernel refused the epoll, timerfd or eventfd (e.g. EMFILE);
  // such a driver never blocks and watches nothing.
  [[nodiscard]] Status status() const { return status_; }

  // Waits on the timerfd even where epoll_pwait2 exists (what kernels before
  // 5.11 get); for tests of that path.
  void use_timerfd() { have_epoll_pwait2_ = false; }

  async::Instant now() override;
  bool wait_until(async::Instant deadline) override;
  void notify() override;  // thread-safe and async-signal-safe

 private:
  friend class FdWatch;
  void dispatch(std::uint32_t events, void* tag);

  Status status_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int event_fd_ = -1;
  async::Instant armed_ = async::kNever;  // the timerfd's deadline
  bool have_epoll_pwait2_ = true;
};

// Readiness of one non-blocking file descriptor, edge-triggered: a flag per
// direction is set when the kernel reports the fd ready and cleared by the
// owner when an operation hits EAGAIN, after which awaiting waits for the
// next edge. The fd itself stays owned by the caller.
//
//   for (;;) {
//     ssize_t n = ::read(fd, buf, len);
//     if (n >= 0 || errno != EAGAIN) break;
//     watch.clear_readable();
//     co_await watch.readable();
//   }
//
// Wakes: readiness (errors and hang-ups count as both readable and writable,
// so the next operation reports them). Cancels: destroying the awaiter.
// One reader and one writer may wait at a time. Instead of a waiting reader,
// a plain object may be told of the next read readiness
// (notify_readable(): io::ReadinessListener).
class FdWatch {
 public:
  FdWatch() = default;
  FdWatch(const FdWatch&) = delete;
  FdWatch& operator=(const FdWatch&) = delete;
  // Moving re-registers the fd under the new object; nobody may be waiting.
  FdWatch(FdWatch&& other) noexcept { take(other); }
  FdWatch& operator=(FdWatch&& other) noexcept {
    if (this != &other) {
      close();
      take(other);
    }
    return *this;
  }
  ~FdWatch() { close(); }

  // Registers `fd` with the driver. Errors: the errno of epoll_ctl as a
  // Status (invalid_argument for a bad fd, resource_exhausted for ENOMEM/ENOSPC).
  Status open(EpollDriver& driver, int fd);
  // Deregisters; does not close the fd. Pending waiters are woken.
  void close();

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] EpollDriver* driver() const { return driver_; }
  [[nodiscard]] bool is_open() const { return fd_ >= 0; }
  [[nodiscard]] bool is_readable() const { return readable_; }
  [[nodiscard]] bool is_writable() const { return writable_; }
  void clear_readable() { readable_ = false; }
  // The kernel reported the peer's end of the stream, an error, a hang-up
  // or urgent data (EPOLLRDHUP, EPOLLERR, EPOLLHUP, EPOLLPRI) at some point.
  // After that a short read no longer means nothing more is to be read:
  // the end, or the data after an urgent byte, raises no further edge.
  [[nodiscard]] bool saw_end_or_urgent() const { return end_or_urgent_; }
  void clear_writable() { writable_ = false; }
  // Calls listener.on_readable() (once) at the next read readiness the
  // kernel reports; close() forgets it.
  void notify_readable(io::ReadinessListener& listener) { read_listener_ = &listener; }
  void stop_notify() { read_listener_ = nullptr; }

  class [[nodiscard]] ReadinessAwaiter {
   public:
    ReadinessAwaiter(FdWatch& watch, bool write) : watch_(watch), write_(write) {}
    ReadinessAwaiter(const ReadinessAwaiter&) = delete;
    ReadinessAwaiter& operator=(const ReadinessAwaiter&) = delete;
    ~ReadinessAwaiter() {
      if (suspended_) slot() = async::Waker();
    }
    bool await_ready() const {
      return !watch_.is_open() || (write_ ? watch_.writable_ : watch_.readable_);
    }
    void await_suspend(std::coroutine_handle<> suspended) {
      MOTE_ASSERT(!slot() && "one waiter per direction");
      slot() = async::Waker(async::park(suspended));
      suspended_ = true;
    }
    // not ok when the watch was closed while waiting (failed_precondition).
    Status await_resume() {
      if (suspended_) slot() = async::Waker();
      suspended_ = false;
      return watch_.is_open() ? ok_status() : Status::failed_precondition();
    }

   private:
    async::Waker& slot() { return write_ ? watch_.write_waker_ : watch_.read_waker_; }
    FdWatch& watch_;
    bool write_;
    bool suspended_ = false;
  };
  ReadinessAwaiter readable() { return ReadinessAwaiter(*this, false); }
  ReadinessAwaiter writable() { return ReadinessAwaiter(*this, true); }

 private:
  friend class EpollDriver;
  void take(FdWatch& other) noexcept;

  EpollDriver* driver_ = nullptr;
  int fd_ = -1;
  bool readable_ = false;
  bool writable_ = false;
  bool end_or_urgent_ = false;
  async::Waker read_waker_;
  async::Waker write_waker_;
  io::ReadinessListener* read_listener_ = nullptr;
};

// For an owner whose fd is the one its FdWatch is on (sockets, TAP, QEMU
// links): registers a fresh `fd`, or closes it when that fails, so no path
// leaks it.
Status watch_or_close(FdWatch& watch, EpollDriver& driver, int fd);
// Deregisters and closes the fd `watch` is on; nothing when it is not open.
void close_watched(FdWatch& watch);

}  // namespace mote::platform
