#include "mote/platform/w1_thermometer.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <utility>

#include "mote/hal/sensor.hpp"

namespace mote::platform {
namespace {

// What read_temperature's coroutine type must be for the HAL.
static_assert(hal::TemperatureSensor<W1Thermometer>);

// Reads a whole (small) sysfs file. not_found if it does not exist.
Result<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Status::not_found() : Status::unavailable();
  std::string text;
  char buffer[256];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<std::size_t>(n));
      if (text.size() > 4096) break;  // sysfs files here are tens of bytes
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    ::close(fd);
    if (n < 0) return Status::unavailable();  // the kernel failed the conversion (EIO)
    return text;
  }
  ::close(fd);
  return Status::data_loss();
}

Result<hal::MilliCelsius> parse_millidegrees(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::int32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::data_loss();
  }
  return hal::MilliCelsius{value};
}

bool is_thermometer_family(std::string_view name) {
  static constexpr std::string_view kFamilies[] = {"10-", "22-", "28-", "3b-", "42-"};
  return std::any_of(std::begin(kFamilies), std::end(kFamilies),
                     [&](std::string_view family) { return name.starts_with(family); });
}

}  // namespace

W1Thermometer::W1Thermometer(async::Executor& executor, std::string device_directory)
    : device_(std::move(device_directory)), done_(executor) {}

W1Thermometer::~W1Thermometer() {
  if (worker_.joinable()) worker_.join();
}

Result<hal::MilliCelsius> W1Thermometer::parse_temperature_file(std::string_view text) {
  return parse_millidegrees(text);
}

Result<hal::MilliCelsius> W1Thermometer::parse_w1_slave_file(std::string_view text) {
  const std::size_t line_end = text.find('\n');
  if (line_end == std::string_view::npos) return Status::data_loss();
  const std::string_view verdict_line = text.substr(0, line_end);
  if (!verdict_line.ends_with("YES")) return Status::data_loss();  // "crc=.. NO"
  // Nine scratchpad bytes "xx xx ... xx :". All zero passes the CRC (CRC-8 of
  // zeros is zero) but is what an empty bus reads.
  if (verdict_line.starts_with("00 00 00 00 00 00 00 00 00")) return Status::data_loss();
  const std::size_t t = text.find("t=", line_end);
  if (t == std::string_view::npos) return Status::data_loss();
  return parse_millidegrees(text.substr(t + 2));
}

void W1Thermometer::read_in_worker() {
  // Newer kernels offer `temperature`; every kernel offers `w1_slave`.
  Result<std::string> text = read_file(device_ + "/temperature");
  if (text.ok()) {
    result_ = parse_temperature_file(*text);
  } else if (text.status() == Status::not_found()) {
    Result<std::string> slave = read_file(device_ + "/w1_slave");
    result_ = slave.ok() ? parse_w1_slave_file(*slave) : Result<hal::MilliCelsius>(slave.status());
  } else {
    result_ = text.status();
  }
  done_.raise();
}

async::Task<Result<hal::MilliCelsius>> W1Thermometer::read_temperature() {
  if (worker_.joinable()) {
    // A cancelled read's worker is still busy (or done, its raise pending).
    co_await done_.wait();
    worker_.join();
  }
  worker_ = std::thread([this] { read_in_worker(); });
  co_await done_.wait();
  worker_.join();
  co_return result_;
}

std::vector<std::string> W1Thermometer::discover(const std::string& root) {
  std::vector<std::string> found;
  DIR* dir = ::opendir(root.c_str());
  if (dir == nullptr) return found;
  while (const dirent* entry = ::readdir(dir)) {
    if (is_thermometer_family(entry->d_name)) found.push_back(root + "/" + entry->d_name);
  }
  ::closedir(dir);
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace mote::platform
