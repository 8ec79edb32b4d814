#include "mote/platform/epoll_driver.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <unistd.h>

#include "mote/async/sleep.hpp"

namespace mote::platform {
namespace {

using namespace std::chrono_literals;
using async::Executor;
using async::Task;
using async::TaskStorage;

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0); }
  ~Pipe() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  int fds[2] = {-1, -1};
};

TEST(EpollDriverTest, ClockIsMonotonic) {
  EpollDriver driver;
  ASSERT_TRUE(driver.status().ok());
  const async::Instant a = driver.now();
  const async::Instant b = driver.now();
  EXPECT_LE(a, b);
  EXPECT_GT(a.time_since_epoch().count(), 0);
}

Task<void> nap(async::Duration d) { co_await async::sleep_for(d); }

TEST(EpollDriverTest, SleepNeverEndsEarly) {
  EpollDriver driver;
  Executor executor(driver);
  TaskStorage<256> storage;
  ASSERT_TRUE(executor.spawn(storage, nap, 5ms).ok());
  const async::Instant start = driver.now();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_GE(driver.now() - start, 5ms);
}

TEST(EpollDriverTest, SleepNeverEndsEarlyOnTheTimerfdPath) {
  EpollDriver driver;
  driver.use_timerfd();
  Executor executor(driver);
  TaskStorage<256> a, b;
  ASSERT_TRUE(executor.spawn(a, nap, 3ms).ok());
  ASSERT_TRUE(executor.spawn(b, nap, 6ms).ok());
  const async::Instant start = driver.now();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_GE(driver.now() - start, 6ms);
}

Task<void> read_line(FdWatch& watch, std::string& out) {
  char buffer[64];
  for (;;) {
    const ssize_t n = ::read(watch.fd(), buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
      if (out.back() == '\n') co_return;
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      watch.clear_readable();
      if (!(co_await watch.readable()).ok()) co_return;
      continue;
    }
    co_return;  // EOF or error
  }
}

Task<void> write_later(int fd, const char* text) {
  co_await async::sleep_for(2ms);
  EXPECT_GT(::write(fd, text, 3), 0);
  co_await async::sleep_for(2ms);
  EXPECT_GT(::write(fd, text + 3, std::char_traits<char>::length(text) - 3), 0);
}

TEST(EpollDriverTest, ReadinessWakesTheWaitingTask) {
  EpollDriver driver;
  Executor executor(driver);
  Pipe pipe;
  FdWatch watch;
  ASSERT_TRUE(watch.open(driver, pipe.fds[0]).ok());
  std::string got;
  TaskStorage<512> reader, writer;
  ASSERT_TRUE(executor.spawn(reader, read_line, std::ref(watch), std::ref(got)).ok());
  ASSERT_TRUE(executor.spawn(writer, write_later, pipe.fds[1], "hello\n").ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(got, "hello\n");
}

Task<void> await_readable(FdWatch& watch, Status& result) { result = co_await watch.readable(); }

TEST(EpollDriverTest, ClosingTheWatchWakesTheWaiterWithAnError) {
  EpollDriver driver;
  Executor executor(driver);
  Pipe pipe;
  FdWatch watch;
  ASSERT_TRUE(watch.open(driver, pipe.fds[0]).ok());
  Status result = Status::unknown();
  TaskStorage<256> task;
  ASSERT_TRUE(executor.spawn(task, await_readable, std::ref(watch), std::ref(result)).ok());
  executor.run_until_stalled();
  EXPECT_EQ(result, Status::unknown());
  watch.close();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(result, Status::failed_precondition());
}

TEST(EpollDriverTest, CancelledWaiterLeavesNoWaker) {
  EpollDriver driver;
  Executor executor(driver);
  Pipe pipe;
  FdWatch watch;
  ASSERT_TRUE(watch.open(driver, pipe.fds[0]).ok());
  Status result = Status::unknown();
  TaskStorage<256> task;
  ASSERT_TRUE(executor.spawn(task, await_readable, std::ref(watch), std::ref(result)).ok());
  executor.run_until_stalled();
  task.cancel();
  // Readiness after the cancel must not touch the destroyed awaiter.
  ASSERT_EQ(::write(pipe.fds[1], "x", 1), 1);
  executor.run_until_stalled();
  EXPECT_EQ(result, Status::unknown());
  EXPECT_TRUE(watch.is_readable());
}

TEST(EpollDriverTest, OpenRejectsABadDescriptor) {
  EpollDriver driver;
  FdWatch watch;
  EXPECT_EQ(watch.open(driver, 12345), Status::invalid_argument());
  EXPECT_FALSE(watch.is_open());
}

TEST(EpollDriverTest, NotifyFromAnotherThreadEndsAWait) {
  EpollDriver driver;
  std::thread notifier([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    driver.notify();
  });
  // Without the notify this would wait for an hour.
  EXPECT_TRUE(driver.wait_until(driver.now() + std::chrono::hours(1)));
  notifier.join();
}

}  // namespace
}  // namespace mote::platform
