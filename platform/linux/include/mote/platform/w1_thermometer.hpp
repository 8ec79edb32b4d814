#pragma once
// W1Thermometer: a 1-Wire temperature sensor (DS18B20 and kin) that the Linux
// kernel's w1 bus master and w1_therm driver already handle, read through
// sysfs (/sys/bus/w1/devices/28-*/). A hal::TemperatureSensor.
//
// The kernel runs the conversion inside the read() of the sysfs file, which
// blocks for up to 750 ms, so the read happens on a worker thread; the task
// waits on an InterruptEvent and the executor keeps running meanwhile.
//
//   for (const std::string& device : W1Thermometer::discover()) ...
//   W1Thermometer sensor(executor, "/sys/bus/w1/devices/28-0316a2794cff");
//   Result<hal::MilliCelsius> t = co_await sensor.read_temperature();
//
// Errors: not_found (the device directory is gone: unplugged), data_loss (a
// CRC failure, or the all-zero scratchpad that a bus with nothing answering
// produces and that passes the CRC), unavailable (the kernel failed the read).
// A read cancelled while the worker is busy finishes in the background; the
// next read, or the destructor, waits for it.

#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "mote/async/interrupt_event.hpp"
#include "mote/async/task.hpp"
#include "mote/base/result.hpp"
#include "mote/hal/sensor.hpp"

namespace mote::platform {

class W1Thermometer {
 public:
  W1Thermometer(async::Executor& executor, std::string device_directory);
  W1Thermometer(const W1Thermometer&) = delete;
  W1Thermometer& operator=(const W1Thermometer&) = delete;
  ~W1Thermometer();

  [[nodiscard]] const std::string& device_directory() const { return device_; }

  async::Task<Result<hal::MilliCelsius>> read_temperature();

  // The directories under `root` of devices w1_therm handles (family codes
  // 10 DS18S20, 22 DS1822, 28 DS18B20, 3b DS1825, 42 DS28EA00), sorted.
  static std::vector<std::string> discover(const std::string& root = "/sys/bus/w1/devices");

  // The two sysfs formats: `temperature` holds millidegrees ("23125\n");
  // `w1_slave` holds the scratchpad, the kernel's CRC verdict and t=:
  //   "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"
  static Result<hal::MilliCelsius> parse_temperature_file(std::string_view text);
  static Result<hal::MilliCelsius> parse_w1_slave_file(std::string_view text);

 private:
  void read_in_worker();

  std::string device_;
  async::InterruptEvent done_;
  std::thread worker_;
  // Written by the worker before done_.raise(), read after the wait.
  Result<hal::MilliCelsius> result_ = Status::unknown();
};

}  // namespace mote::platform
