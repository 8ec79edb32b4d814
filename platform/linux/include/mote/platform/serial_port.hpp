#pragma once
// SerialPort: a Linux serial device (a USB adapter, a UART, a pty) as a
// hal::Uart, through termios and the epoll driver's fd readiness.
//
//   SerialPort port;
//   MOTE_TRY(port.open(driver, "/dev/ttyUSB0", {.baud = 115200}));
//   Result<std::size_t> n = co_await port.read(buffer);
//
// The port is put in raw mode (no echo, no line editing, no translation),
// 8 data bits, no parity, one stop bit, no flow control, non-blocking.
// read/write/flush follow hal/uart.hpp: read completes with at least one
// byte; write completes when the kernel has taken every byte; flush when the
// last byte has left the transmitter. Errors: not_found (no such device),
// permission_denied, invalid_argument (not a terminal, unsupported baud
// rate), unavailable (the device went away or hung up), data_loss.

#include <cstddef>

#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote::platform {

class SerialPort {
 public:
  struct Config {
    unsigned baud = 115200;  // one of the standard termios rates, up to 4000000
  };

  SerialPort() = default;
  SerialPort(const SerialPort&) = delete;
  SerialPort& operator=(const SerialPort&) = delete;
  ~SerialPort() { close(); }

  Status open(EpollDriver& driver, const char* path, Config config);
  void close();
  [[nodiscard]] bool is_open() const { return fd_ >= 0; }

  // Each is a coroutine: its frame comes from the calling task's storage.
  async::Task<Result<std::size_t>> read(ByteSpan buffer);
  async::Task<Status> write(ConstByteSpan data);
  async::Task<Status> flush();

 private:
  int fd_ = -1;
  FdWatch watch_;
};

}  // namespace mote::platform
