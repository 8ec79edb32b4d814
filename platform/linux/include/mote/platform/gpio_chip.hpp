#pragma once
// Linux GPIO through the kernel's character device, uAPI v2 (linux/gpio.h):
// a chip is /dev/gpiochipN; a requested line is a file descriptor of its own
// on which values are set and read by ioctl and edge events are read().
//
//   Result<GpioChip> chip = GpioChip::open("/dev/gpiochip0");   // or
//   Result<GpioChip> chip = GpioChip::open_by_label("pinctrl-bcm2711");
//   Result<unsigned> button_line = chip->find_line("GPIO17");
//   Result<GpioInput> button = chip->request_input(driver, *button_line,
//       {.bias = GpioBias::pull_up, .active_low = true, .debounce = 5ms});
//   Result<GpioOutput> led = chip->request_output(18, {.initial = false});
//   co_await button->wait_for_edge(hal::Edge::rising);   // pressed
//   led->toggle();
//
// GpioInput is a hal::DigitalInput, GpioOutput a hal::DigitalOutput.
//   Wakes: the kernel's edge event on the line fd, through the EpollDriver
//   (FdWatch); set/toggle/read are one ioctl each and complete at once.
//   "After the call": events the kernel had queued when a wait begins are
//   discarded, so wait_for_edge completes on an edge that happened after it
//   was called. wait_for_level reads the value after that, so no edge is lost
//   between the read and the wait.
//   Cancels: destroying the waiting task deregisters it. The kernel keeps
//   detecting edges while nobody waits (it buffers them, dropping the oldest
//   when full); the next wait discards them.
//   One task waits on an input at a time (a second concurrent wait fails
//   with failed_precondition: it would drain events the first has yet to read).
//   Values are logical: with active_low the kernel inverts them, and edges
//   too (a rising edge is the line becoming active).
//
// Errors (the detail goes to the log):
//   not_found          no such chip (path or label), no line of that name
//   permission_denied  the chip's device node is not accessible (udev group "gpio")
//   unavailable        the line is busy (held by another consumer, which
//                      line_info() names), or the chip went away (ENODEV)
//   invalid_argument   an offset beyond the chip, a configuration the chip refused
//   unimplemented      the chip cannot do what the configuration asks (a bias,
//                      open drain), or the kernel has no uAPI v2 (before 5.10)
//   failed_precondition  waiting for an edge the line was not configured to
//                      detect, or while another task waits on the line
//   data_loss          the kernel handed back an event that does not decode

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/hal/gpio.hpp"
#include "mote/platform/device_io.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote::platform {

enum class GpioBias : std::uint8_t { as_is, disabled, pull_up, pull_down };
enum class GpioDrive : std::uint8_t { push_pull, open_drain, open_source };
// Which edges the kernel reports for an input.
enum class GpioEdges : std::uint8_t { none, rising, falling, both };

struct GpioInputConfig {
  GpioBias bias = GpioBias::as_is;
  bool active_low = false;
  GpioEdges edges = GpioEdges::both;
  // The kernel ignores changes shorter than this (in hardware, or in
  // software when the chip cannot); zero: no debouncing.
  std::chrono::microseconds debounce{0};
  // Events the kernel should buffer; zero: its default (16 per line).
  std::uint32_t event_buffer_size = 0;
};

struct GpioOutputConfig {
  bool initial = false;  // the logical value driven from the request on
  GpioDrive drive = GpioDrive::push_pull;
  GpioBias bias = GpioBias::as_is;
  bool active_low = false;
};

struct GpioChipInfo {
  std::string name;   // "gpiochip0"
  std::string label;  // the driver's label, e.g. "pinctrl-bcm2711", "gpio-sim.0-node0"
  unsigned lines = 0;
};

struct GpioLineInfo {
  std::string name;      // may be empty
  std::string consumer;  // who holds the line, when used
  bool used = false;
  bool output = false;
  bool active_low = false;
};

// One edge event as the kernel reports it (struct gpio_v2_line_event).
struct GpioLineEvent {
  std::uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC
  bool rising = false;
  std::uint32_t offset = 0;
  std::uint32_t seqno = 0;       // over the request
  std::uint32_t line_seqno = 0;  // over this line
};

// Decodes one event read from a line fd: exactly sizeof(gpio_v2_line_event)
// bytes (48) in host byte order. data_loss for any other size or an event id
// other than rising (1) or falling (2).
Result<GpioLineEvent> decode_gpio_line_event(ConstByteSpan bytes);
inline constexpr std::size_t kGpioLineEventSize = 48;

class GpioInput;
class GpioOutput;

class GpioChip {
 public:
  // Opens a chip by its device node, e.g. "/dev/gpiochip0".
  static Result<GpioChip> open(const std::string& path, DeviceIo& io = DeviceIo::kernel());
  // The first chip under `dev_dir` (gpiochip*, in name order) whose label is
  // `label`; not_found if none is.
  static Result<GpioChip> open_by_label(std::string_view label, DeviceIo& io = DeviceIo::kernel(),
                                        const std::string& dev_dir = "/dev");

  GpioChip(GpioChip&& other) noexcept;
  GpioChip& operator=(GpioChip&& other) noexcept;
  GpioChip(const GpioChip&) = delete;
  GpioChip& operator=(const GpioChip&) = delete;
  ~GpioChip();

  [[nodiscard]] const GpioChipInfo& info() const { return info_; }
  [[nodiscard]] const std::string& path() const { return path_; }

  Result<GpioLineInfo> line_info(unsigned offset);
  // The offset of the line named `name` (names come from the device tree or
  // the driver); not_found if no line has it.
  Result<unsigned> find_line(std::string_view name);

  // `consumer` labels the line for others (gpioinfo shows it), up to 31 bytes.
  Result<GpioInput> request_input(EpollDriver& driver, unsigned offset,
                                  const GpioInputConfig& config = {},
                                  std::string_view consumer = "mote");
  Result<GpioOutput> request_output(unsigned offset, const GpioOutputConfig& config = {},
                                    std::string_view consumer = "mote");

 private:
  GpioChip(DeviceIo& io, int fd, std::string path) : io_(&io), fd_(fd), path_(std::move(path)) {}
  Result<int> request_line(unsigned offset, std::uint64_t flags, std::uint32_t debounce_us,
                           bool output, bool initial, std::uint32_t event_buffer_size,
                           std::string_view consumer);

  DeviceIo* io_;
  int fd_;
  std::string path_;
  GpioChipInfo info_;
};

// A requested input line: a hal::DigitalInput.
class GpioInput {
 public:
  GpioInput(GpioInput&& other) noexcept;
  GpioInput& operator=(GpioInput&& other) noexcept;
  GpioInput(const GpioInput&) = delete;
  GpioInput& operator=(const GpioInput&) = delete;
  ~GpioInput() { close(); }

  Result<bool> read();
  // Coroutines: the frame comes from the calling task's storage.
  async::Task<Status> wait_for_edge(hal::Edge edge) { return wait(edge, false); }
  async::Task<Status> wait_for_level(bool high) {
    return wait(high ? hal::Edge::rising : hal::Edge::falling, true);
  }

  [[nodiscard]] unsigned offset() const { return offset_; }
  // Edge events read from the kernel so far (including discarded ones).
  [[nodiscard]] std::uint64_t events_read() const { return events_read_; }
  // Releases the line (the kernel frees it when the fd closes).
  void close();

 private:
  friend class GpioChip;
  GpioInput(DeviceIo& io, int fd, unsigned offset, GpioEdges edges)
      : io_(&io), fd_(fd), offset_(offset), edges_(edges) {}
  // Reads what the kernel has queued; with `want`, stops at the first
  // matching edge (true), else drains everything (false). EAGAIN → false.
  Result<bool> take_events(const hal::Edge* want);
  async::Task<Status> wait(hal::Edge edge, bool done_if_at_level);
  [[nodiscard]] bool detects(hal::Edge edge) const;

  DeviceIo* io_;
  int fd_;
  unsigned offset_;
  GpioEdges edges_;
  FdWatch watch_;
  std::uint64_t events_read_ = 0;
  bool waiting_ = false;
};

// A requested output line: a hal::DigitalOutput.
class GpioOutput {
 public:
  GpioOutput(GpioOutput&& other) noexcept;
  GpioOutput& operator=(GpioOutput&& other) noexcept;
  GpioOutput(const GpioOutput&) = delete;
  GpioOutput& operator=(const GpioOutput&) = delete;
  ~GpioOutput() { close(); }

  Status set(bool high);
  // Inverts the value last set (the line is ours alone while requested).
  Status toggle() { return set(!value_); }
  // The value the kernel reports for the line (for open drain: the line's
  // actual level).
  Result<bool> read();
  [[nodiscard]] bool value() const { return value_; }
  [[nodiscard]] unsigned offset() const { return offset_; }
  void close();

 private:
  friend class GpioChip;
  GpioOutput(DeviceIo& io, int fd, unsigned offset, bool value)
      : io_(&io), fd_(fd), offset_(offset), value_(value) {}

  DeviceIo* io_;
  int fd_;
  unsigned offset_;
  bool value_;
};

}  // namespace mote::platform
