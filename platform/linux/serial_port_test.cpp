#include "mote/platform/serial_port.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <string>
#include <unistd.h>

#include "mote/async/timeout.hpp"

namespace mote::platform {
namespace {

using namespace std::chrono_literals;
using async::Executor;
using async::Task;
using async::TaskStorage;

// The test's end of a pseudo-terminal; SerialPort opens the other end as a
// serial device, as it would /dev/ttyUSB0.
struct Pty {
  Pty() {
    master = ::posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    EXPECT_GE(master, 0);
    EXPECT_EQ(::grantpt(master), 0);
    EXPECT_EQ(::unlockpt(master), 0);
    path = ::ptsname(master);
  }
  ~Pty() { ::close(master); }
  int master = -1;
  std::string path;
};

Task<void> echo_once(SerialPort& port, std::string& got) {
  std::byte buffer[64];
  Result<std::size_t> n = co_await port.read(buffer);
  if (!n.ok()) co_return;
  got.assign(reinterpret_cast<const char*>(buffer), *n);
  // Answer with what arrived, upper-cased by the peer's expectation below.
  (void)co_await port.write(ConstByteSpan(buffer, *n));
  (void)co_await port.flush();
}

TEST(SerialPortTest, ReadsWhatThePeerSendsAndWritesBack) {
  EpollDriver driver;
  Executor executor(driver);
  Pty pty;
  SerialPort port;
  ASSERT_TRUE(port.open(driver, pty.path.c_str(), {.baud = 115200}).ok());
  std::string got;
  TaskStorage<1024> task;
  ASSERT_TRUE(executor.spawn(task, echo_once, std::ref(port), std::ref(got)).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(got.empty());  // waiting, not spinning
  ASSERT_EQ(::write(pty.master, "ping\n", 5), 5);
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(got, "ping\n");
  char back[16] = {};
  EXPECT_EQ(::read(pty.master, back, sizeof back), 5);
  EXPECT_EQ(std::string(back, 5), "ping\n");  // raw mode: no echo, no CR/LF translation
}

Task<void> write_big(SerialPort& port, std::size_t size, Status& result) {
  static std::byte data[256 * 1024];
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<std::byte>(i * 7);
  result = co_await port.write(ConstByteSpan(data, size));
}

TEST(SerialPortTest, WriteLargerThanTheKernelBufferWaitsForRoom) {
  EpollDriver driver;
  Executor executor(driver);
  Pty pty;
  SerialPort port;
  ASSERT_TRUE(port.open(driver, pty.path.c_str(), {}).ok());
  constexpr std::size_t kSize = 200 * 1024;  // far more than a pty buffers
  Status result = Status::unknown();
  TaskStorage<1024> task;
  ASSERT_TRUE(executor.spawn(task, write_big, std::ref(port), kSize, std::ref(result)).ok());
  std::size_t received = 0;
  bool in_order = true;
  char chunk[4096];
  for (int rounds = 0; rounds < 100000 && received < kSize; ++rounds) {
    executor.run_until_stalled();
    const ssize_t n = ::read(pty.master, chunk, sizeof chunk);
    for (ssize_t i = 0; i < n; ++i) {
      in_order &= static_cast<std::byte>(chunk[i]) == static_cast<std::byte>((received + i) * 7);
    }
    if (n > 0) received += static_cast<std::size_t>(n);
  }
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(received, kSize);
  EXPECT_TRUE(in_order);
  EXPECT_TRUE(result.ok());
}

TEST(SerialPortTest, OpenReportsMissingDevicesAndNonTerminals) {
  EpollDriver driver;
  SerialPort port;
  EXPECT_EQ(port.open(driver, "/dev/does-not-exist-mote", {}), Status::not_found());
  EXPECT_EQ(port.open(driver, "/dev/null", {}), Status::invalid_argument());
  Pty pty;
  EXPECT_EQ(port.open(driver, pty.path.c_str(), {.baud = 12345}), Status::invalid_argument());
  EXPECT_FALSE(port.is_open());
}

Task<void> read_one(SerialPort& port, Status& result) {
  std::byte buffer[8];
  result = (co_await port.read(buffer)).status();
}

TEST(SerialPortTest, PeerHangUpEndsAWaitingRead) {
  EpollDriver driver;
  Executor executor(driver);
  auto pty = std::make_unique<Pty>();
  SerialPort port;
  ASSERT_TRUE(port.open(driver, pty->path.c_str(), {}).ok());
  Status result = Status::unknown();
  TaskStorage<1024> task;
  ASSERT_TRUE(executor.spawn(task, read_one, std::ref(port), std::ref(result)).ok());
  executor.run_until_stalled();
  pty.reset();  // the other end goes away, as an unplugged adapter does
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(result, Status::unavailable());
}

}  // namespace
}  // namespace mote::platform
