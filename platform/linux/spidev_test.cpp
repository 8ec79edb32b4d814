#include "mote/platform/spidev.hpp"

#include <array>
#include <atomic>
#include <cstring>
#include <future>
#include <gtest/gtest.h>
#include <linux/spi/spi.h>
#include <linux/spi/spidev.h>
#include <vector>

#include "fake_device_io.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote::platform {
namespace {

using async::Executor;
using async::Task;
using async::TaskState;
using async::TaskStorage;
using testing::fail;
using testing::FakeDeviceIo;

// A spidev node: keeps the settings written to it (a controller that rounds
// the speed down stores what it can do), and answers each transfer by
// sending back the bytes it received, plus one (a shift register that adds).
class FakeSpidev {
 public:
  explicit FakeSpidev(std::uint32_t max_speed_hz = 50'000'000) : max_speed_hz_(max_speed_hz) {
    io.set_handler([this](const std::string&, unsigned long request, void* arg) -> int {
      return handle(request, arg);
    });
  }

  int handle(unsigned long request, void* arg) {
    if (request == SPI_IOC_WR_MODE) {
      if (mode_error != 0) return fail(mode_error);
      mode = *static_cast<std::uint8_t*>(arg);
      return 0;
    }
    if (request == SPI_IOC_RD_MODE) return *static_cast<std::uint8_t*>(arg) = mode, 0;
    if (request == SPI_IOC_WR_BITS_PER_WORD) return bits = *static_cast<std::uint8_t*>(arg), 0;
    if (request == SPI_IOC_RD_BITS_PER_WORD) return *static_cast<std::uint8_t*>(arg) = bits, 0;
    if (request == SPI_IOC_WR_MAX_SPEED_HZ) {
      speed = std::min(*static_cast<std::uint32_t*>(arg), max_speed_hz_);
      return 0;
    }
    if (request == SPI_IOC_RD_MAX_SPEED_HZ) return *static_cast<std::uint32_t*>(arg) = speed, 0;
    if (request == SPI_IOC_MESSAGE(1)) {
      auto& t = *static_cast<spi_ioc_transfer*>(arg);
      const auto* tx = reinterpret_cast<const std::byte*>(static_cast<std::uintptr_t>(t.tx_buf));
      auto* rx = reinterpret_cast<std::byte*>(static_cast<std::uintptr_t>(t.rx_buf));
      sent.emplace_back(tx, tx + t.len);
      lengths.push_back(t.len);
      if (on_transfer) {
        const int result = on_transfer(t);
        if (result < 0) return result;
      }
      for (std::uint32_t i = 0; i < t.len; ++i)
        rx[i] = static_cast<std::byte>(std::to_integer<int>(tx[i]) + 1);
      return transfer_result >= 0 ? transfer_result : static_cast<int>(t.len);
    }
    return fail(ENOTTY);
  }

  FakeDeviceIo io;
  std::uint8_t mode = 0, bits = 0;
  std::uint32_t speed = 0;
  int mode_error = 0;
  int transfer_result = -1;  // -1: the full length
  std::function<int(spi_ioc_transfer&)> on_transfer;
  std::vector<std::vector<std::byte>> sent;
  std::vector<std::uint32_t> lengths;

 private:
  std::uint32_t max_speed_hz_;
};

Task<Status> transfer(SpidevDevice& device, ConstByteSpan data, ByteSpan buffer) {
  co_return co_await device.transfer(data, buffer);
}
Task<Status> write_only(SpidevDevice& device, ConstByteSpan data) {
  co_return co_await device.write(data);
}
Task<Status> read_only(SpidevDevice& device, ByteSpan buffer) {
  co_return co_await device.read(buffer);
}

template <typename Fn, typename... Args>
Status run_one(Executor& executor, Fn operation, SpidevDevice& device, Args... args) {
  TaskStorage<1024> task;
  if (!executor.spawn(task, operation, std::ref(device), args...).ok()) return Status::internal();
  if (!executor.run().ok()) return Status::internal();
  return task.exit_status();
}

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

TEST(SpidevTest, OpenWritesAndChecksTheSettings) {
  EpollDriver driver;
  Executor executor(driver);
  FakeSpidev node;
  SpidevDevice device(executor, node.io);
  ASSERT_TRUE(
      device
          .open("/dev/spidev0.1",
                {.mode = 3, .lsb_first = true, .cs_active_high = true, .speed_hz = 8'000'000})
          .ok());
  EXPECT_EQ(node.mode, SPI_MODE_3 | SPI_LSB_FIRST | SPI_CS_HIGH);
  EXPECT_EQ(node.bits, 8);
  EXPECT_EQ(node.speed, 8'000'000u);
  EXPECT_EQ(device.open("/dev/spidev0.1", {}), Status::failed_precondition());
}

TEST(SpidevTest, SettingsTheControllerCannotDoAreRefused) {
  EpollDriver driver;
  Executor executor(driver);
  FakeSpidev slow(1'000'000);  // rounds 8 MHz down to 1 MHz
  SpidevDevice device(executor, slow.io);
  EXPECT_EQ(device.open("/dev/spidev0.0", {.speed_hz = 8'000'000}), Status::invalid_argument());
  EXPECT_FALSE(device.is_open());
  FakeSpidev picky;
  picky.mode_error = EINVAL;
  SpidevDevice refused(executor, picky.io);
  EXPECT_EQ(refused.open("/dev/spidev0.0", {.mode = 2}), Status::invalid_argument());
  FakeSpidev unused;
  SpidevDevice local(executor, unused.io);
  EXPECT_EQ(local.open("/dev/spidev0.0", {.mode = 4}), Status::invalid_argument());
  EXPECT_EQ(local.open("/dev/spidev0.0", {.bits_per_word = 9}), Status::invalid_argument());
  EXPECT_TRUE(unused.io.opened().empty()) << "checked before opening anything";
  unused.io.fail_open("/dev/spidev9.0", ENOENT);
  unused.io.fail_open("/dev/spidev0.0", EACCES);
  EXPECT_EQ(local.open("/dev/spidev9.0", {}), Status::not_found());
  EXPECT_EQ(local.open("/dev/spidev0.0", {}), Status::permission_denied());
}

TEST(SpidevTest, TransferClocksTheLongerSideAndPadsWithOnes) {
  EpollDriver driver;
  Executor executor(driver);
  FakeSpidev node;
  SpidevDevice device(executor, node.io);
  ASSERT_TRUE(device.open("/dev/spidev0.0", {}).ok());
  const std::vector<std::byte> command = bytes({0x9F});
  std::array<std::byte, 3> id{};
  EXPECT_TRUE(run_one(executor, transfer, device, ConstByteSpan(command), ByteSpan(id)).ok());
  ASSERT_EQ(node.sent.size(), 1u);
  EXPECT_EQ(node.sent[0], bytes({0x9F, 0xFF, 0xFF}));
  // The echo plus one: 0xA0, then 0xFF + 1 wrapped to 0x00.
  EXPECT_EQ(id[0], std::byte{0xA0});
  EXPECT_EQ(id[1], std::byte{0x00});
  // More to send than to keep: the rest of what came back is dropped.
  const std::vector<std::byte> long_command = bytes({1, 2, 3, 4});
  std::array<std::byte, 2> kept{};
  EXPECT_TRUE(
      run_one(executor, transfer, device, ConstByteSpan(long_command), ByteSpan(kept)).ok());
  EXPECT_EQ(node.lengths.back(), 4u);
  EXPECT_EQ(kept[1], std::byte{3});
  EXPECT_TRUE(run_one(executor, write_only, device, ConstByteSpan(long_command)).ok());
  EXPECT_EQ(node.sent.back(), long_command);
  std::array<std::byte, 2> read{};
  EXPECT_TRUE(run_one(executor, read_only, device, ByteSpan(read)).ok());
  EXPECT_EQ(node.sent.back(), bytes({0xFF, 0xFF}));
  // Nothing to clock: no transfer at all.
  EXPECT_TRUE(run_one(executor, write_only, device, ConstByteSpan()).ok());
  EXPECT_EQ(node.sent.size(), 4u);
}

TEST(SpidevTest, FailuresLeaveTheBufferAlone) {
  EpollDriver driver;
  Executor executor(driver);
  FakeSpidev node;
  SpidevDevice closed(executor, node.io);
  std::array<std::byte, 2> buffer{std::byte{0x55}, std::byte{0x55}};
  EXPECT_EQ(run_one(executor, read_only, closed, ByteSpan(buffer)), Status::failed_precondition());
  SpidevDevice device(executor, node.io);
  ASSERT_TRUE(device.open("/dev/spidev0.0", {.max_transfer = 16}).ok());
  node.on_transfer = [](spi_ioc_transfer&) { return fail(ESHUTDOWN); };  // controller removed
  EXPECT_EQ(run_one(executor, read_only, device, ByteSpan(buffer)), Status::unavailable());
  node.on_transfer = [](spi_ioc_transfer&) { return fail(EIO); };
  EXPECT_EQ(run_one(executor, read_only, device, ByteSpan(buffer)), Status::unavailable());
  node.on_transfer = nullptr;
  node.transfer_result = 1;  // stopped after one byte
  EXPECT_EQ(run_one(executor, read_only, device, ByteSpan(buffer)), Status::unavailable());
  EXPECT_EQ(buffer[0], std::byte{0x55});
  std::array<std::byte, 17> too_long{};
  const std::size_t transfers = node.sent.size();
  EXPECT_EQ(run_one(executor, read_only, device, ByteSpan(too_long)), Status::invalid_argument());
  EXPECT_EQ(node.sent.size(), transfers);
}

TEST(SpidevTest, ACancelledTransferFinishesIntoTheDevicesOwnBuffers) {
  EpollDriver driver;
  Executor executor(driver);
  FakeSpidev node;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  node.on_transfer = [&](spi_ioc_transfer&) {
    if (calls.fetch_add(1) == 0 &&
        released.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return fail(EIO);
    }
    return 0;
  };
  SpidevDevice device(executor, node.io);
  ASSERT_TRUE(device.open("/dev/spidev0.0", {}).ok());
  const std::vector<std::byte> first_data = bytes({0x10, 0x11}), second_data = bytes({0x20});
  std::array<std::byte, 2> first{}, second{};
  TaskStorage<1024> t1, t2;
  ASSERT_TRUE(
      executor.spawn(t1, transfer, std::ref(device), ConstByteSpan(first_data), ByteSpan(first))
          .ok());
  executor.run_until_stalled();
  for (int i = 0; i < 10000 && calls.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(calls.load(), 1);
  t1.cancel();
  ASSERT_TRUE(
      executor.spawn(t2, transfer, std::ref(device), ConstByteSpan(second_data), ByteSpan(second))
          .ok());
  executor.run_until_stalled();
  EXPECT_EQ(t2.state(), TaskState::running);
  release.set_value();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(t2.exit_status().ok());
  EXPECT_EQ(second[0], std::byte{0x21});
  EXPECT_EQ(first[0], std::byte{0}) << "the cancelled caller's buffer was never written";
  ASSERT_EQ(node.sent.size(), 2u);
  EXPECT_EQ(node.sent[0], first_data);
  EXPECT_EQ(node.sent[1], bytes({0x20, 0xFF}));
}

}  // namespace
}  // namespace mote::platform
