// The GPIO, i2c-dev and spidev backends against the kernel itself, where the
// machine has the interfaces. Each test skips, saying what is missing, when
// it does not: nothing here stands in for a device.
//
//   GPIO: gpio-sim (configfs /sys/kernel/config/gpio-sim; modprobe gpio-sim,
//         CONFIG_GPIO_SIM), which makes a real gpiochip whose input lines the
//         test pulls through sysfs.
//   I2C:  every /dev/i2c-* adapter is opened; i2c-stub (modprobe i2c-stub
//         chip_addr=0x50) is SMBus-only and must be refused as such.
//   SPI:  MOTE_SPIDEV_LOOPBACK=/dev/spidevB.C names a device whose MOSI is
//         wired to MISO (transfers then read back what they sent).

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "mote/platform/gpio_chip.hpp"
#include "mote/platform/i2c_dev.hpp"
#include "mote/platform/spidev.hpp"

namespace mote::platform {
namespace {

namespace fs = std::filesystem;
using async::Executor;
using async::Task;
using async::TaskState;
using async::TaskStorage;

constexpr const char* kGpioSim = "/sys/kernel/config/gpio-sim";

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

bool write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

// A gpio-sim chip of four lines, live for the test's duration.
class GpioSimChip {
 public:
  explicit GpioSimChip(const std::string& label)
      : device_(fs::path(kGpioSim) / ("mote-" + std::to_string(::getpid()))) {
    std::error_code error;
    if (!fs::create_directory(device_, error) || !fs::create_directory(device_ / "bank0", error) ||
        !write_text(device_ / "bank0" / "num_lines", "4") ||
        !write_text(device_ / "bank0" / "label", label) || !write_text(device_ / "live", "1")) {
      problem_ = "could not create a gpio-sim device under " + device_.string();
      return;
    }
    chip_name_ = read_text(device_ / "bank0" / "chip_name");
    dev_name_ = read_text(device_ / "dev_name");
  }
  ~GpioSimChip() {
    write_text(device_ / "live", "0");
    ::rmdir((device_ / "bank0").c_str());
    ::rmdir(device_.c_str());
  }
  [[nodiscard]] const std::string& problem() const { return problem_; }
  [[nodiscard]] std::string path() const { return "/dev/" + chip_name_; }
  // The simulated outside world: pull an input line up or down.
  bool pull(unsigned offset, bool up) const {
    return write_text(line(offset) / "pull", up ? "pull-up" : "pull-down");
  }
  // What the chip drives on an output line.
  [[nodiscard]] std::string value(unsigned offset) const {
    return read_text(line(offset) / "value");
  }

 private:
  [[nodiscard]] fs::path line(unsigned offset) const {
    return fs::path("/sys/devices/platform") / dev_name_ / chip_name_ /
           ("sim_gpio" + std::to_string(offset));
  }
  fs::path device_;
  std::string chip_name_, dev_name_, problem_;
};

Task<Status> wait_edge(GpioInput& input, hal::Edge edge) {
  co_return co_await input.wait_for_edge(edge);
}

TEST(LinuxDevicesTest, GpioSimLinesThroughTheCharacterDevice) {
  if (!fs::exists(kGpioSim)) {
    GTEST_SKIP() << "no gpio-sim: " << kGpioSim
                 << " is missing (needs configfs and the gpio-sim module; this kernel has "
                 << (fs::exists("/sys/bus/gpio") ? "a" : "no") << " GPIO subsystem)";
  }
  const std::string label = "mote-test-" + std::to_string(::getpid());
  GpioSimChip sim(label);
  if (!sim.problem().empty()) GTEST_SKIP() << sim.problem();
  Result<GpioChip> chip = GpioChip::open_by_label(label);
  ASSERT_TRUE(chip.ok()) << chip.status().str();
  EXPECT_EQ(chip->path(), sim.path());
  EXPECT_EQ(chip->info().lines, 4u);

  EpollDriver driver;
  Executor executor(driver);
  ASSERT_TRUE(sim.pull(0, false));
  Result<GpioInput> input = chip->request_input(driver, 0, {}, "mote-test");
  ASSERT_TRUE(input.ok()) << input.status().str();
  EXPECT_FALSE(input->read().value());
  EXPECT_EQ(chip->line_info(0)->consumer, "mote-test");
  TaskStorage<512> task;
  ASSERT_TRUE(executor.spawn(task, wait_edge, std::ref(*input), hal::Edge::rising).ok());
  executor.run_until_stalled();
  EXPECT_EQ(task.state(), TaskState::running);
  ASSERT_TRUE(sim.pull(0, true));
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(task.exit_status().ok());
  EXPECT_TRUE(input->read().value());

  Result<GpioOutput> output = chip->request_output(1, {.initial = true});
  ASSERT_TRUE(output.ok()) << output.status().str();
  EXPECT_EQ(sim.value(1), "1");
  EXPECT_TRUE(output->toggle().ok());
  EXPECT_EQ(sim.value(1), "0");
  // A second request for a held line: busy.
  EXPECT_EQ(chip->request_output(1).status(), Status::unavailable());
}

TEST(LinuxDevicesTest, I2cAdaptersOpenOrSaySmbusOnly) {
  std::vector<std::string> adapters;
  if (fs::exists("/dev")) {
    for (const fs::directory_entry& entry : fs::directory_iterator("/dev")) {
      if (entry.path().filename().string().starts_with("i2c-")) adapters.push_back(entry.path());
    }
  }
  if (adapters.empty()) {
    GTEST_SKIP() << "no /dev/i2c-* (needs the i2c-dev module and an adapter, e.g. "
                    "`modprobe i2c-dev i2c-stub chip_addr=0x50`)";
  }
  EpollDriver driver;
  Executor executor(driver);
  for (const std::string& path : adapters) {
    I2cDevBus bus(executor);
    const Status status = bus.open(path);
    EXPECT_TRUE(status.ok() || status == Status::unimplemented() ||
                status == Status::permission_denied())
        << path << ": " << status.str();
  }
}

Task<Status> spi_transfer(SpidevDevice& device, ConstByteSpan data, ByteSpan buffer) {
  co_return co_await device.transfer(data, buffer);
}

TEST(LinuxDevicesTest, SpidevLoopback) {
  const char* path = std::getenv("MOTE_SPIDEV_LOOPBACK");
  if (path == nullptr) {
    GTEST_SKIP() << "MOTE_SPIDEV_LOOPBACK is not set (a /dev/spidevB.C with MOSI wired to "
                    "MISO; this machine has "
                 << (fs::exists("/dev/spidev0.0") ? "spidev0.0" : "no /dev/spidev*") << ")";
  }
  EpollDriver driver;
  Executor executor(driver);
  SpidevDevice device(executor);
  ASSERT_TRUE(device.open(path, {.mode = 0, .speed_hz = 500'000}).ok());
  const std::array<std::byte, 4> sent{std::byte{0x12}, std::byte{0x34}, std::byte{0xA5},
                                      std::byte{0x00}};
  std::array<std::byte, 4> received{};
  TaskStorage<1024> task;
  ASSERT_TRUE(
      executor.spawn(task, spi_transfer, std::ref(device), ConstByteSpan(sent), ByteSpan(received))
          .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(task.exit_status().ok());
  EXPECT_EQ(received, sent);
}

}  // namespace
}  // namespace mote::platform
