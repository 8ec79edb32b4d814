#include "mote/platform/serial_port.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "mote/async/sleep.hpp"
#include "mote/hal/uart.hpp"

namespace mote::platform {
namespace {

static_assert(hal::Uart<SerialPort>);

Status status_from_errno(int error) {
  switch (error) {
    case ENOENT:
    case ENODEV:
    case ENXIO: return Status::not_found();
    case EACCES:
    case EPERM: return Status::permission_denied();
    case ENOTTY:
    case EINVAL: return Status::invalid_argument();
    case EIO:
    case EBADF: return Status::unavailable();
    default: return Status::internal();
  }
}

bool baud_constant(unsigned baud, speed_t& out) {
  struct Rate {
    unsigned baud;
    speed_t constant;
  };
  static constexpr Rate kRates[] = {
      {1200, B1200},       {2400, B2400},       {4800, B4800},       {9600, B9600},
      {19200, B19200},     {38400, B38400},     {57600, B57600},     {115200, B115200},
      {230400, B230400},   {460800, B460800},   {921600, B921600},   {1000000, B1000000},
      {1500000, B1500000}, {2000000, B2000000}, {3000000, B3000000}, {4000000, B4000000},
  };
  for (const Rate& rate : kRates) {
    if (rate.baud == baud) {
      out = rate.constant;
      return true;
    }
  }
  return false;
}

}  // namespace

Status SerialPort::open(EpollDriver& driver, const char* path, Config config) {
  MOTE_ASSERT(!is_open());
  speed_t speed = 0;
  if (!baud_constant(config.baud, speed)) return Status::invalid_argument();
  const int fd = ::open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return status_from_errno(errno);
  termios tty{};
  if (::tcgetattr(fd, &tty) != 0) {
    const Status status = status_from_errno(errno);
    ::close(fd);
    return status;
  }
  ::cfmakeraw(&tty);
  tty.c_cflag |= CLOCAL | CREAD;
  tty.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | PARENB | CRTSCTS);
  // VMIN 1 with O_NONBLOCK: a read with nothing there fails with EAGAIN
  // (VMIN 0 would return 0, which could not be told from a hang-up).
  tty.c_cc[VMIN] = 1;
  tty.c_cc[VTIME] = 0;
  if (::cfsetispeed(&tty, speed) != 0 || ::cfsetospeed(&tty, speed) != 0 ||
      ::tcsetattr(fd, TCSANOW, &tty) != 0) {
    const Status status = status_from_errno(errno);
    ::close(fd);
    return status;
  }
  MOTE_TRY(watch_or_close(watch_, driver, fd));
  fd_ = fd;
  return ok_status();
}

void SerialPort::close() {
  if (!is_open()) return;
  watch_.close();
  ::close(fd_);
  fd_ = -1;
}

async::Task<Result<std::size_t>> SerialPort::read(ByteSpan buffer) {
  if (buffer.empty()) co_return std::size_t{0};
  for (;;) {
    if (!is_open()) co_return Status::unavailable();
    const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
    if (n > 0) co_return static_cast<std::size_t>(n);
    // A non-blocking tty read returns 0 only once the line has hung up.
    if (n == 0) co_return Status::unavailable();
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return status_from_errno(errno);
    watch_.clear_readable();
    if (!(co_await watch_.readable()).ok()) co_return Status::unavailable();
  }
}

async::Task<Status> SerialPort::write(ConstByteSpan data) {
  while (!data.empty()) {
    if (!is_open()) co_return Status::unavailable();
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n > 0) {
      data = data.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) co_return status_from_errno(errno);
    watch_.clear_writable();
    if (!(co_await watch_.writable()).ok()) co_return Status::unavailable();
  }
  co_return ok_status();
}

async::Task<Status> SerialPort::flush() {
  // tcdrain() would block the executor's thread: poll the output queue.
  for (;;) {
    if (!is_open()) co_return Status::unavailable();
    int queued = 0;
    if (::ioctl(fd_, TIOCOUTQ, &queued) != 0) co_return status_from_errno(errno);
    if (queued == 0) co_return ok_status();
    co_await async::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace mote::platform
