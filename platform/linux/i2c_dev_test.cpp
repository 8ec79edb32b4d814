#include "mote/platform/i2c_dev.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <gtest/gtest.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <thread>
#include <vector>

#include "fake_device_io.hpp"
#include "mote/async/sleep.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote::platform {
namespace {

using async::Executor;
using async::Task;
using async::TaskState;
using async::TaskStorage;
using testing::fail;
using testing::FakeDeviceIo;

// One message of an I2C_RDWR call, copied out of the kernel's view.
struct Message {
  std::uint16_t addr;
  std::uint16_t flags;
  std::vector<std::byte> written;  // for writes
  std::size_t length;
};

// An adapter: answers I2C_FUNCS with `functionality`, and I2C_RDWR through
// `transfer`, which sees the messages and fills read buffers.
class FakeAdapter {
 public:
  using Transfer = std::function<int(i2c_rdwr_ioctl_data& data)>;

  explicit FakeAdapter(unsigned long functionality = I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL)
      : functionality_(functionality) {
    io.set_handler([this](const std::string&, unsigned long request, void* arg) -> int {
      if (request == I2C_FUNCS) {
        *static_cast<unsigned long*>(arg) = functionality_;
        return 0;
      }
      if (request != I2C_RDWR) return fail(ENOTTY);
      auto& data = *static_cast<i2c_rdwr_ioctl_data*>(arg);
      std::vector<Message> messages;
      for (std::uint32_t i = 0; i < data.nmsgs; ++i) {
        const i2c_msg& m = data.msgs[i];
        Message copy{m.addr, m.flags, {}, m.len};
        if ((m.flags & I2C_M_RD) == 0) {
          const auto* bytes = reinterpret_cast<const std::byte*>(m.buf);
          copy.written.assign(bytes, bytes + m.len);
        }
        messages.push_back(std::move(copy));
      }
      {
        const std::lock_guard lock(mutex_);
        calls_.push_back(std::move(messages));
        threads_.push_back(std::this_thread::get_id());
      }
      return transfer ? transfer(data) : static_cast<int>(data.nmsgs);
    });
  }

  [[nodiscard]] std::vector<std::vector<Message>> calls() const {
    const std::lock_guard lock(mutex_);
    return calls_;
  }
  [[nodiscard]] std::vector<std::thread::id> threads() const {
    const std::lock_guard lock(mutex_);
    return threads_;
  }

  FakeDeviceIo io;
  Transfer transfer;

 private:
  unsigned long functionality_;
  mutable std::mutex mutex_;
  std::vector<std::vector<Message>> calls_;
  std::vector<std::thread::id> threads_;
};

// Fills every read message with `value`.
int fill_reads(i2c_rdwr_ioctl_data& data, std::uint8_t value) {
  for (std::uint32_t i = 0; i < data.nmsgs; ++i) {
    if ((data.msgs[i].flags & I2C_M_RD) != 0)
      std::memset(data.msgs[i].buf, value, data.msgs[i].len);
  }
  return static_cast<int>(data.nmsgs);
}

Task<Status> write_read(I2cDevBus& bus, hal::I2cAddress address, ConstByteSpan data,
                        ByteSpan buffer) {
  co_return co_await bus.write_read(address, data, buffer);
}
Task<Status> write_only(I2cDevBus& bus, hal::I2cAddress address, ConstByteSpan data) {
  co_return co_await bus.write(address, data);
}
Task<Status> read_only(I2cDevBus& bus, hal::I2cAddress address, ByteSpan buffer) {
  co_return co_await bus.read(address, buffer);
}

// Runs one operation on its own and returns its Status.
template <typename... Args>
Status run_one(Executor& executor, Task<Status> (*operation)(I2cDevBus&, Args...), I2cDevBus& bus,
               Args... args) {
  TaskStorage<1024> task;
  if (!executor.spawn(task, operation, std::ref(bus), args...).ok()) return Status::internal();
  if (!executor.run().ok()) return Status::internal();
  return task.exit_status();
}

TEST(I2cDevTest, OpenChecksTheAdapterCanRunI2cMessages) {
  EpollDriver driver;
  Executor executor(driver);
  FakeAdapter adapter;
  I2cDevBus bus(executor, adapter.io);
  ASSERT_TRUE(bus.open("/dev/i2c-1").ok());
  EXPECT_TRUE(bus.is_open());
  EXPECT_EQ(bus.functionality() & I2C_FUNC_I2C, static_cast<unsigned long>(I2C_FUNC_I2C));
  EXPECT_EQ(bus.open("/dev/i2c-1"), Status::failed_precondition());

  FakeAdapter smbus_only(I2C_FUNC_SMBUS_BYTE_DATA | I2C_FUNC_SMBUS_WORD_DATA);
  I2cDevBus smbus(executor, smbus_only.io);
  EXPECT_EQ(smbus.open("/dev/i2c-0"), Status::unimplemented());
  EXPECT_FALSE(smbus.is_open());

  FakeAdapter missing;
  missing.io.fail_open("/dev/i2c-9", ENOENT);
  missing.io.fail_open("/dev/i2c-2", EACCES);
  I2cDevBus nothing(executor, missing.io);
  EXPECT_EQ(nothing.open("/dev/i2c-9"), Status::not_found());
  EXPECT_EQ(nothing.open("/dev/i2c-2"), Status::permission_denied());
  FakeDeviceIo not_i2c;  // refuses I2C_FUNCS with ENOTTY
  I2cDevBus tty(executor, not_i2c);
  EXPECT_EQ(tty.open("/dev/ttyS0"), Status::invalid_argument());
}

TEST(I2cDevTest, WriteReadIsOneCombinedTransactionOnTheWorker) {
  EpollDriver driver;
  Executor executor(driver);
  FakeAdapter adapter;
  adapter.transfer = [](i2c_rdwr_ioctl_data& data) { return fill_reads(data, 0x60); };
  I2cDevBus bus(executor, adapter.io);
  ASSERT_TRUE(bus.open("/dev/i2c-1").ok());
  const std::array<std::byte, 1> reg{std::byte{0xD0}};
  std::array<std::byte, 2> id{};
  EXPECT_TRUE(
      run_one(executor, write_read, bus, hal::I2cAddress{0x76}, ConstByteSpan(reg), ByteSpan(id))
          .ok());
  EXPECT_EQ(id[0], std::byte{0x60});
  EXPECT_EQ(id[1], std::byte{0x60});
  const auto calls = adapter.calls();
  ASSERT_EQ(calls.size(), 1u);
  ASSERT_EQ(calls[0].size(), 2u);  // one ioctl: write, repeated START, read, STOP
  EXPECT_EQ(calls[0][0].addr, 0x76);
  EXPECT_EQ(calls[0][0].flags, 0);
  EXPECT_EQ(calls[0][0].written, std::vector<std::byte>{std::byte{0xD0}});
  EXPECT_EQ(calls[0][1].addr, 0x76);
  EXPECT_EQ(calls[0][1].flags, I2C_M_RD);
  EXPECT_EQ(calls[0][1].length, 2u);
  EXPECT_NE(adapter.threads()[0], std::this_thread::get_id());
}

TEST(I2cDevTest, WriteAndReadAreOneMessageEach) {
  EpollDriver driver;
  Executor executor(driver);
  FakeAdapter adapter;
  adapter.transfer = [](i2c_rdwr_ioctl_data& data) { return fill_reads(data, 0xA5); };
  I2cDevBus bus(executor, adapter.io);
  ASSERT_TRUE(bus.open("/dev/i2c-1").ok());
  const std::array<std::byte, 2> command{std::byte{0xF4}, std::byte{0x25}};
  std::array<std::byte, 3> data{};
  EXPECT_TRUE(
      run_one(executor, write_only, bus, hal::I2cAddress{0x77}, ConstByteSpan(command)).ok());
  EXPECT_TRUE(run_one(executor, read_only, bus, hal::I2cAddress{0x44}, ByteSpan(data)).ok());
  EXPECT_EQ(data[2], std::byte{0xA5});
  // A write of nothing is a bare address probe: START, address, STOP.
  EXPECT_TRUE(run_one(executor, write_only, bus, hal::I2cAddress{0x50}, ConstByteSpan()).ok());
  const auto calls = adapter.calls();
  ASSERT_EQ(calls.size(), 3u);
  ASSERT_EQ(calls[0].size(), 1u);
  EXPECT_EQ(calls[0][0].addr, 0x77);
  EXPECT_EQ(calls[0][0].written.size(), 2u);
  ASSERT_EQ(calls[1].size(), 1u);
  EXPECT_EQ(calls[1][0].flags, I2C_M_RD);
  EXPECT_EQ(calls[1][0].length, 3u);
  ASSERT_EQ(calls[2].size(), 1u);
  EXPECT_EQ(calls[2][0].length, 0u);
  EXPECT_EQ(calls[2][0].flags, 0);
}

TEST(I2cDevTest, KernelErrorsMapToTheConceptsCodes) {
  EpollDriver driver;
  Executor executor(driver);
  FakeAdapter adapter;
  I2cDevBus bus(executor, adapter.io);
  ASSERT_TRUE(bus.open("/dev/i2c-1").ok());
  struct Case {
    int error;
    Status expected;
  };
  const Case cases[] = {
      {ENXIO, Status::not_found()},
      {EREMOTEIO, Status::not_found()},
      {ETIMEDOUT, Status::deadline_exceeded()},
      {EAGAIN, Status::unavailable()},
      {EIO, Status::unavailable()},
      {ENODEV, Status::unavailable()},
      {EPROTO, Status::unavailable()},
      {EOPNOTSUPP, Status::unimplemented()},
  };
  for (const Case& c : cases) {
    adapter.transfer = [&](i2c_rdwr_ioctl_data&) { return fail(c.error); };
    std::array<std::byte, 2> buffer{std::byte{0x11}, std::byte{0x22}};
    const std::array<std::byte, 1> reg{std::byte{0x00}};
    EXPECT_EQ(run_one(executor, write_read, bus, hal::I2cAddress{0x40}, ConstByteSpan(reg),
                      ByteSpan(buffer)),
              c.expected)
        << "errno " << c.error;
    EXPECT_EQ(buffer[0], std::byte{0x11}) << "a failed read leaves the buffer alone";
  }
  // The driver transferred only the first message.
  adapter.transfer = [](i2c_rdwr_ioctl_data&) { return 1; };
  std::array<std::byte, 1> buffer{};
  const std::array<std::byte, 1> reg{std::byte{0x00}};
  EXPECT_EQ(run_one(executor, write_read, bus, hal::I2cAddress{0x40}, ConstByteSpan(reg),
                    ByteSpan(buffer)),
            Status::unavailable());
}

TEST(I2cDevTest, BadArgumentsNeverReachTheKernel) {
  EpollDriver driver;
  Executor executor(driver);
  FakeAdapter adapter;
  I2cDevBus closed(executor, adapter.io);
  std::array<std::byte, 1> one{};
  EXPECT_EQ(run_one(executor, read_only, closed, hal::I2cAddress{0x40}, ByteSpan(one)),
            Status::failed_precondition());
  I2cDevBus bus(executor, adapter.io);
  ASSERT_TRUE(bus.open("/dev/i2c-1").ok());
  EXPECT_EQ(run_one(executor, read_only, bus, hal::I2cAddress{0x07}, ByteSpan(one)),
            Status::invalid_argument());
  EXPECT_EQ(run_one(executor, read_only, bus, hal::I2cAddress{0x78}, ByteSpan(one)),
            Status::invalid_argument());
  std::vector<std::byte> huge(I2cDevBus::kMaxMessage + 1);
  EXPECT_EQ(run_one(executor, read_only, bus, hal::I2cAddress{0x40}, ByteSpan(huge)),
            Status::invalid_argument());
  EXPECT_EQ(adapter.io.count(I2C_RDWR), 0u);
  huge.pop_back();  // exactly the limit is fine
  EXPECT_TRUE(run_one(executor, read_only, bus, hal::I2cAddress{0x40}, ByteSpan(huge)).ok());
}

Task<void> count_ticks(std::atomic<int>& ticks) {
  for (int i = 0; i < 3; ++i) {
    co_await async::sleep_for(std::chrono::milliseconds(1));
    ticks.fetch_add(1);
  }
}

TEST(I2cDevTest, TheExecutorRunsWhileATransactionIsOnTheBus) {
  EpollDriver driver;
  Executor executor(driver);
  FakeAdapter adapter;
  std::atomic<int> ticks{0};
  // The "bus" takes as long as the other task needs for three ticks (bounded).
  adapter.transfer = [&](i2c_rdwr_ioctl_data& data) {
    for (int i = 0; i < 10000 && ticks.load() < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return fill_reads(data, ticks.load() >= 3 ? 0x01 : 0x00);
  };
  I2cDevBus bus(executor, adapter.io);
  ASSERT_TRUE(bus.open("/dev/i2c-1").ok());
  std::array<std::byte, 1> result{};
  const std::array<std::byte, 1> reg{std::byte{0x00}};
  TaskStorage<1024> transaction, ticker;
  ASSERT_TRUE(executor
                  .spawn(transaction, write_read, std::ref(bus), hal::I2cAddress{0x40},
                         ConstByteSpan(reg), ByteSpan(result))
                  .ok());
  ASSERT_TRUE(executor.spawn(ticker, count_ticks, std::ref(ticks)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(transaction.exit_status().ok());
  EXPECT_EQ(result[0], std::byte{0x01}) << "the ticker ran while the ioctl blocked";
}

TEST(I2cDevTest, ACancelledTransactionFinishesWithoutTouchingTheCallersBuffer) {
  EpollDriver driver;
  Executor executor(driver);
  FakeAdapter adapter;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> call{0};
  adapter.transfer = [&](i2c_rdwr_ioctl_data& data) {
    if (call.fetch_add(1) == 0) {
      // The first transaction is on the wire until the test lets it finish.
      if (released.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
        return fail(EIO);
      return fill_reads(data, 0xAA);
    }
    return fill_reads(data, 0xBB);
  };
  I2cDevBus bus(executor, adapter.io);
  ASSERT_TRUE(bus.open("/dev/i2c-1").ok());
  const std::array<std::byte, 1> reg{std::byte{0x00}};
  std::array<std::byte, 4> first{}, second{};
  TaskStorage<1024> t1, t2;
  ASSERT_TRUE(executor
                  .spawn(t1, write_read, std::ref(bus), hal::I2cAddress{0x40}, ConstByteSpan(reg),
                         ByteSpan(first))
                  .ok());
  executor.run_until_stalled();
  // Bounded: until the worker is inside the ioctl.
  for (int i = 0; i < 10000 && call.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(call.load(), 1);
  t1.cancel();
  EXPECT_EQ(t1.exit_status(), Status::cancelled());
  ASSERT_TRUE(executor
                  .spawn(t2, write_read, std::ref(bus), hal::I2cAddress{0x41}, ConstByteSpan(reg),
                         ByteSpan(second))
                  .ok());
  executor.run_until_stalled();
  EXPECT_EQ(t2.state(), TaskState::running) << "waits for the cancelled transaction";
  EXPECT_EQ(call.load(), 1);
  release.set_value();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(t2.exit_status().ok());
  EXPECT_EQ(second[3], std::byte{0xBB});
  EXPECT_EQ(first[0], std::byte{0}) << "the cancelled caller's buffer was never written";
  const auto calls = adapter.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0][0].addr, 0x40);
  EXPECT_EQ(calls[1][0].addr, 0x41);
}

TEST(I2cDevTest, TasksSharingABusTakeTurns) {
  EpollDriver driver;
  Executor executor(driver);
  FakeAdapter adapter;
  std::atomic<int> in_flight{0};
  std::atomic<bool> overlapped{false};
  adapter.transfer = [&](i2c_rdwr_ioctl_data& data) {
    if (in_flight.fetch_add(1) != 0) overlapped = true;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    in_flight.fetch_sub(1);
    return fill_reads(data, static_cast<std::uint8_t>(data.msgs[0].addr));
  };
  I2cDevBus bus(executor, adapter.io);
  ASSERT_TRUE(bus.open("/dev/i2c-1").ok());
  std::array<std::array<std::byte, 1>, 4> results{};
  std::array<TaskStorage<1024>, 4> tasks;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    ASSERT_TRUE(executor
                    .spawn(tasks[i], read_only, std::ref(bus),
                           static_cast<hal::I2cAddress>(0x20 + i), ByteSpan(results[i]))
                    .ok());
  }
  EXPECT_TRUE(executor.run().ok());
  EXPECT_FALSE(overlapped.load());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    EXPECT_TRUE(tasks[i].exit_status().ok());
    EXPECT_EQ(results[i][0], static_cast<std::byte>(0x20 + i));
  }
}

}  // namespace
}  // namespace mote::platform
