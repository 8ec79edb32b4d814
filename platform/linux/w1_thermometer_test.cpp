#include "mote/platform/w1_thermometer.hpp"

#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "mote/platform/epoll_driver.hpp"

namespace mote::platform {
namespace {

namespace fs = std::filesystem;
using async::Executor;
using async::Task;
using async::TaskStorage;

// A fake /sys/bus/w1/devices, laid out as the kernel's w1 subsystem does.
class FakeSysfs {
 public:
  FakeSysfs() : root_(fs::temp_directory_path() / ("mote-w1-" + std::to_string(::getpid()))) {
    fs::remove_all(root_);
    fs::create_directories(root_ / "w1_bus_master1");
  }
  ~FakeSysfs() { fs::remove_all(root_); }
  std::string add(const std::string& device, const std::string& file, const std::string& text) {
    fs::create_directories(root_ / device);
    std::ofstream(root_ / device / file) << text;
    return (root_ / device).string();
  }
  std::string root() const { return root_.string(); }

 private:
  fs::path root_;
};

constexpr const char* kGood =
    "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n";
constexpr const char* kBadCrc =
    "72 01 4b 46 7f ff 0e 10 57 : crc=11 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125\n";
constexpr const char* kNobody =
    "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n";
constexpr const char* kNegative =
    "5e ff 4b 46 7f ff 02 10 56 : crc=56 YES\n5e ff 4b 46 7f ff 02 10 56 t=-10125\n";

TEST(W1ThermometerTest, ParsesBothSysfsFormats) {
  EXPECT_EQ(W1Thermometer::parse_w1_slave_file(kGood).value(), hal::MilliCelsius{23125});
  EXPECT_EQ(W1Thermometer::parse_w1_slave_file(kNegative).value(), hal::MilliCelsius{-10125});
  EXPECT_EQ(W1Thermometer::parse_w1_slave_file(kBadCrc).status(), Status::data_loss());
  EXPECT_EQ(W1Thermometer::parse_w1_slave_file(kNobody).status(), Status::data_loss());
  EXPECT_EQ(W1Thermometer::parse_w1_slave_file("").status(), Status::data_loss());
  EXPECT_EQ(W1Thermometer::parse_w1_slave_file("garbage YES\nno t here\n").status(),
            Status::data_loss());
  EXPECT_EQ(W1Thermometer::parse_temperature_file("21500\n").value(), hal::MilliCelsius{21500});
  EXPECT_EQ(W1Thermometer::parse_temperature_file("-55000").value(), hal::MilliCelsius{-55000});
  EXPECT_EQ(W1Thermometer::parse_temperature_file("21.5\n").status(), Status::data_loss());
  EXPECT_EQ(W1Thermometer::parse_temperature_file("\n").status(), Status::data_loss());
}

TEST(W1ThermometerTest, DiscoversThermometersOnly) {
  FakeSysfs sysfs;
  sysfs.add("28-0316a2794cff", "w1_slave", kGood);
  sysfs.add("10-000802b4f1b2", "w1_slave", kGood);
  sysfs.add("3b-000000000001", "temperature", "1000\n");
  sysfs.add("01-000012345678", "id", "");  // a DS2401 serial number: not a thermometer
  const std::vector<std::string> found = W1Thermometer::discover(sysfs.root());
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0], sysfs.root() + "/10-000802b4f1b2");
  EXPECT_EQ(found[1], sysfs.root() + "/28-0316a2794cff");
  EXPECT_EQ(found[2], sysfs.root() + "/3b-000000000001");
  EXPECT_TRUE(W1Thermometer::discover(sysfs.root() + "/missing").empty());
}

Task<void> read_into(W1Thermometer& sensor, Result<hal::MilliCelsius>& out) {
  out = co_await sensor.read_temperature();
}

TEST(W1ThermometerTest, ReadsOnAWorkerWhileTheExecutorRuns) {
  FakeSysfs sysfs;
  const std::string slave = sysfs.add("28-0316a2794cff", "w1_slave", kGood);
  const std::string modern = sysfs.add("28-000000000002", "temperature", "-1250\n");
  const std::string broken = sysfs.add("28-000000000003", "w1_slave", kBadCrc);
  EpollDriver driver;
  Executor executor(driver);
  W1Thermometer a(executor, slave), b(executor, modern), c(executor, broken),
      gone(executor, sysfs.root() + "/28-00000000dead");
  Result<hal::MilliCelsius> ra = Status::unknown(), rb = Status::unknown(), rc = Status::unknown(),
                            rgone = Status::unknown();
  TaskStorage<1024> ta, tb, tc, tgone;
  ASSERT_TRUE(executor.spawn(ta, read_into, std::ref(a), std::ref(ra)).ok());
  ASSERT_TRUE(executor.spawn(tb, read_into, std::ref(b), std::ref(rb)).ok());
  ASSERT_TRUE(executor.spawn(tc, read_into, std::ref(c), std::ref(rc)).ok());
  ASSERT_TRUE(executor.spawn(tgone, read_into, std::ref(gone), std::ref(rgone)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(ra.value(), hal::MilliCelsius{23125});
  EXPECT_EQ(rb.value(), hal::MilliCelsius{-1250});
  EXPECT_EQ(rc.status(), Status::data_loss());
  EXPECT_EQ(rgone.status(), Status::not_found());
}

// The kernel's conversion blocks the read for up to 750 ms; a FIFO blocks
// the worker the same way until the test writes the value.
TEST(W1ThermometerTest, ACancelledReadDoesNotDisturbTheNext) {
  FakeSysfs sysfs;
  const std::string device = sysfs.add("28-0316a2794cff", "id", "");
  const std::string path = device + "/temperature";
  const std::string fifo = device + "/conversion";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ASSERT_EQ(::link(fifo.c_str(), path.c_str()), 0);  // `temperature` is the FIFO for now
  EpollDriver driver;
  Executor executor(driver);
  W1Thermometer sensor(executor, device);
  Result<hal::MilliCelsius> first = Status::unknown(), second = Status::unknown();
  TaskStorage<1024> t1, t2;
  ASSERT_TRUE(executor.spawn(t1, read_into, std::ref(sensor), std::ref(first)).ok());
  executor.run_until_stalled();
  // Wait (bounded) until the worker is blocked opening the FIFO: from then on
  // a non-blocking open for writing succeeds.
  int writer = -1;
  for (int tries = 0; tries < 5000 && writer < 0; ++tries) {
    writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (writer < 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GE(writer, 0) << "the worker never opened the sensor file";
  t1.cancel();
  ASSERT_TRUE(executor.spawn(t2, read_into, std::ref(sensor), std::ref(second)).ok());
  executor.run_until_stalled();  // t2 waits for the cancelled read's worker
  // The next conversion reads a plain file; the cancelled one gets its value
  // (and drops it) once the "kernel" writes.
  ASSERT_EQ(::unlink(path.c_str()), 0);
  std::ofstream(path) << "19500\n";
  ASSERT_EQ(::write(writer, "19000\n", 6), 6);
  ::close(writer);
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(first.status(), Status::unknown());
  EXPECT_EQ(second.value(), hal::MilliCelsius{19500});
}

}  // namespace
}  // namespace mote::platform
