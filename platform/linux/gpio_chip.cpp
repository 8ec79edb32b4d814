#include "mote/platform/gpio_chip.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <unistd.h>
#include <vector>

#define MOTE_LOG_MODULE "gpio"
#include "mote/base/log.hpp"

namespace mote::platform {
namespace {

static_assert(hal::DigitalInput<GpioInput>);
static_assert(hal::DigitalOutput<GpioOutput>);
static_assert(sizeof(gpio_v2_line_event) == kGpioLineEventSize);

// errno of the chip's and the line's ioctls, as the GPIO character device
// reports them (drivers/gpio/gpiolib-cdev.c).
Status status_from_errno(int error) {
  switch (error) {
    case ENOENT: return Status::not_found();
    case EACCES:
    case EPERM: return Status::permission_denied();
    case EBUSY:   // another consumer holds the line
    case ENODEV:  // the chip was removed under us
    case ENXIO:
    case EIO: return Status::unavailable();
    case EINVAL:
    case ERANGE: return Status::invalid_argument();
    case ENOTTY:      // not a GPIO chip, or no uAPI v2
    case EOPNOTSUPP:  // the chip cannot do the bias or drive asked for
    case 524:         // ENOTSUPP, the kernel-internal code that leaks from pinctrl
      return Status::unimplemented();
    default: return Status::internal();
  }
}

// Copies a NUL-padded kernel name field.
std::string name_field(const char (&field)[GPIO_MAX_NAME_SIZE]) {
  return std::string(field, strnlen(field, GPIO_MAX_NAME_SIZE));
}

std::uint64_t bias_flags(GpioBias bias) {
  switch (bias) {
    case GpioBias::as_is: return 0;
    case GpioBias::disabled: return GPIO_V2_LINE_FLAG_BIAS_DISABLED;
    case GpioBias::pull_up: return GPIO_V2_LINE_FLAG_BIAS_PULL_UP;
    case GpioBias::pull_down: return GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN;
  }
  return 0;
}

std::uint64_t edge_flags(GpioEdges edges) {
  switch (edges) {
    case GpioEdges::none: return 0;
    case GpioEdges::rising: return GPIO_V2_LINE_FLAG_EDGE_RISING;
    case GpioEdges::falling: return GPIO_V2_LINE_FLAG_EDGE_FALLING;
    case GpioEdges::both: return GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING;
  }
  return 0;
}

std::uint64_t drive_flags(GpioDrive drive) {
  switch (drive) {
    case GpioDrive::push_pull: return 0;
    case GpioDrive::open_drain: return GPIO_V2_LINE_FLAG_OPEN_DRAIN;
    case GpioDrive::open_source: return GPIO_V2_LINE_FLAG_OPEN_SOURCE;
  }
  return 0;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

Result<bool> get_value(DeviceIo& io, int fd) {
  if (fd < 0) return Status::failed_precondition();
  gpio_v2_line_values values{};
  values.mask = 1;
  if (io.ioctl(fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &values) != 0) return status_from_errno(errno);
  return (values.bits & 1U) != 0;
}

}  // namespace

Result<GpioLineEvent> decode_gpio_line_event(ConstByteSpan bytes) {
  if (bytes.size() != sizeof(gpio_v2_line_event)) return Status::data_loss();
  gpio_v2_line_event raw{};
  std::memcpy(&raw, bytes.data(), sizeof raw);
  if (raw.id != GPIO_V2_LINE_EVENT_RISING_EDGE && raw.id != GPIO_V2_LINE_EVENT_FALLING_EDGE) {
    return Status::data_loss();
  }
  return GpioLineEvent{.timestamp_ns = raw.timestamp_ns,
                       .rising = raw.id == GPIO_V2_LINE_EVENT_RISING_EDGE,
                       .offset = raw.offset,
                       .seqno = raw.seqno,
                       .line_seqno = raw.line_seqno};
}

// --- GpioChip ----------------------------------------------------------------

Result<GpioChip> GpioChip::open(const std::string& path, DeviceIo& io) {
  const int fd = io.open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    MOTE_LOG_WARN("%s: %s", path.c_str(), std::strerror(error));
    return status_from_errno(error);
  }
  GpioChip chip(io, fd, path);
  gpiochip_info info{};
  if (io.ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &info) != 0) {
    const int error = errno;
    MOTE_LOG_WARN("%s is not a GPIO chip: %s", path.c_str(), std::strerror(error));
    return status_from_errno(error);
  }
  chip.info_ = {
      .name = name_field(info.name), .label = name_field(info.label), .lines = info.lines};
  return chip;
}

Result<GpioChip> GpioChip::open_by_label(std::string_view label, DeviceIo& io,
                                         const std::string& dev_dir) {
  std::vector<std::string> names;
  if (DIR* dir = ::opendir(dev_dir.c_str())) {
    while (const dirent* entry = ::readdir(dir)) {
      if (std::string_view(entry->d_name).starts_with("gpiochip"))
        names.emplace_back(entry->d_name);
    }
    ::closedir(dir);
  }
  // gpiochip2 before gpiochip10.
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  bool denied = false;
  for (const std::string& name : names) {
    std::string path = dev_dir;
    path.append("/").append(name);
    Result<GpioChip> chip = open(path, io);
    if (chip.ok() && chip->info().label == label) return chip;
    if (chip.status() == Status::permission_denied()) denied = true;
  }
  MOTE_LOG_WARN("no GPIO chip labelled \"%.*s\" under %s (%zu chips%s)",
                static_cast<int>(label.size()), label.data(), dev_dir.c_str(), names.size(),
                denied ? ", some not accessible" : "");
  // A chip we could not open might have been the one.
  return denied ? Status::permission_denied() : Status::not_found();
}

GpioChip::GpioChip(GpioChip&& other) noexcept
    : io_(other.io_),
      fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      info_(std::move(other.info_)) {}

GpioChip& GpioChip::operator=(GpioChip&& other) noexcept {
  if (this != &other) {
    close_fd(fd_);
    io_ = other.io_;
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    info_ = std::move(other.info_);
  }
  return *this;
}

GpioChip::~GpioChip() { close_fd(fd_); }

Result<GpioLineInfo> GpioChip::line_info(unsigned offset) {
  if (offset >= info_.lines) return Status::invalid_argument();
  gpio_v2_line_info info{};
  info.offset = offset;
  if (io_->ioctl(fd_, GPIO_V2_GET_LINEINFO_IOCTL, &info) != 0) return status_from_errno(errno);
  return GpioLineInfo{.name = name_field(info.name),
                      .consumer = name_field(info.consumer),
                      .used = (info.flags & GPIO_V2_LINE_FLAG_USED) != 0,
                      .output = (info.flags & GPIO_V2_LINE_FLAG_OUTPUT) != 0,
                      .active_low = (info.flags & GPIO_V2_LINE_FLAG_ACTIVE_LOW) != 0};
}

Result<unsigned> GpioChip::find_line(std::string_view name) {
  for (unsigned offset = 0; offset < info_.lines; ++offset) {
    Result<GpioLineInfo> info = line_info(offset);
    if (!info.ok()) return info.status();
    if (info->name == name) return offset;
  }
  return Status::not_found();
}

Result<int> GpioChip::request_line(unsigned offset, std::uint64_t flags, std::uint32_t debounce_us,
                                   bool output, bool initial, std::uint32_t event_buffer_size,
                                   std::string_view consumer) {
  if (offset >= info_.lines) {
    MOTE_LOG_WARN("%s has %u lines, no line %u", path_.c_str(), info_.lines, offset);
    return Status::invalid_argument();
  }
  gpio_v2_line_request request{};
  request.offsets[0] = offset;
  request.num_lines = 1;
  const std::size_t consumer_size = std::min(consumer.size(), sizeof request.consumer - 1);
  std::memcpy(request.consumer, consumer.data(), consumer_size);
  request.config.flags = flags;
  request.event_buffer_size = event_buffer_size;
  std::uint32_t attrs = 0;
  if (output) {
    gpio_v2_line_config_attribute& values = request.config.attrs[attrs++];
    values.attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
    values.attr.values = initial ? 1U : 0U;
    values.mask = 1;
  }
  if (debounce_us != 0) {
    gpio_v2_line_config_attribute& debounce = request.config.attrs[attrs++];
    debounce.attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
    debounce.attr.debounce_period_us = debounce_us;
    debounce.mask = 1;
  }
  request.config.num_attrs = attrs;
  if (io_->ioctl(fd_, GPIO_V2_GET_LINE_IOCTL, &request) != 0) {
    const int error = errno;
    if (error == EBUSY) {
      Result<GpioLineInfo> holder = line_info(offset);
      MOTE_LOG_WARN("%s line %u is busy: held by \"%s\"", path_.c_str(), offset,
                    holder.ok() ? holder->consumer.c_str() : "?");
    } else {
      MOTE_LOG_WARN("%s line %u: request refused: %s", path_.c_str(), offset, std::strerror(error));
    }
    return status_from_errno(error);
  }
  if (request.fd <= 0) return Status::internal();
  return request.fd;
}

Result<GpioInput> GpioChip::request_input(EpollDriver& driver, unsigned offset,
                                          const GpioInputConfig& config,
                                          std::string_view consumer) {
  const auto debounce = config.debounce.count();
  if (debounce < 0 || debounce > UINT32_MAX) return Status::invalid_argument();
  const std::uint64_t flags = GPIO_V2_LINE_FLAG_INPUT | bias_flags(config.bias) |
                              edge_flags(config.edges) |
                              (config.active_low ? GPIO_V2_LINE_FLAG_ACTIVE_LOW : 0);
  Result<int> fd = request_line(offset, flags, static_cast<std::uint32_t>(debounce), false, false,
                                config.event_buffer_size, consumer);
  if (!fd.ok()) return fd.status();
  GpioInput input(*io_, *fd, offset, config.edges);
  // Edge events are read without blocking, when epoll says they are there.
  const int status_flags = ::fcntl(*fd, F_GETFL);
  if (status_flags < 0 || ::fcntl(*fd, F_SETFL, status_flags | O_NONBLOCK) != 0) {
    return status_from_errno(errno);
  }
  if (config.edges != GpioEdges::none) MOTE_TRY(input.watch_.open(driver, *fd));
  return input;
}

Result<GpioOutput> GpioChip::request_output(unsigned offset, const GpioOutputConfig& config,
                                            std::string_view consumer) {
  const std::uint64_t flags = GPIO_V2_LINE_FLAG_OUTPUT | bias_flags(config.bias) |
                              drive_flags(config.drive) |
                              (config.active_low ? GPIO_V2_LINE_FLAG_ACTIVE_LOW : 0);
  Result<int> fd = request_line(offset, flags, 0, true, config.initial, 0, consumer);
  if (!fd.ok()) return fd.status();
  return GpioOutput(*io_, *fd, offset, config.initial);
}

// --- GpioInput ---------------------------------------------------------------

GpioInput::GpioInput(GpioInput&& other) noexcept
    : io_(other.io_),
      fd_(std::exchange(other.fd_, -1)),
      offset_(other.offset_),
      edges_(other.edges_),
      watch_(std::move(other.watch_)),
      events_read_(other.events_read_) {}

GpioInput& GpioInput::operator=(GpioInput&& other) noexcept {
  if (this != &other) {
    close();
    io_ = other.io_;
    fd_ = std::exchange(other.fd_, -1);
    offset_ = other.offset_;
    edges_ = other.edges_;
    watch_ = std::move(other.watch_);
    events_read_ = other.events_read_;
  }
  return *this;
}

void GpioInput::close() {
  watch_.close();
  close_fd(fd_);
}

Result<bool> GpioInput::read() { return get_value(*io_, fd_); }

bool GpioInput::detects(hal::Edge edge) const {
  switch (edge) {
    case hal::Edge::rising: return edges_ == GpioEdges::rising || edges_ == GpioEdges::both;
    case hal::Edge::falling: return edges_ == GpioEdges::falling || edges_ == GpioEdges::both;
    case hal::Edge::any: return edges_ == GpioEdges::both;
  }
  return false;
}

Result<bool> GpioInput::take_events(const hal::Edge* want) {
  // Whole events only: the kernel never splits one across reads.
  std::byte buffer[16 * kGpioLineEventSize];
  for (;;) {
    if (fd_ < 0) return Status::unavailable();
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return false;
      return status_from_errno(errno);
    }
    // A live line fd never reads 0 (it blocks or says EAGAIN): it has gone.
    if (n == 0) return Status::unavailable();
    if (static_cast<std::size_t>(n) % kGpioLineEventSize != 0) return Status::data_loss();
    const ConstByteSpan events(buffer, static_cast<std::size_t>(n));
    for (std::size_t at = 0; at < events.size(); at += kGpioLineEventSize) {
      Result<GpioLineEvent> event = decode_gpio_line_event(events.subspan(at, kGpioLineEventSize));
      if (!event.ok()) return event.status();
      ++events_read_;
      if (want == nullptr || event->offset != offset_) continue;
      if (*want == hal::Edge::any || event->rising == (*want == hal::Edge::rising)) return true;
    }
  }
}

async::Task<Status> GpioInput::wait(hal::Edge edge, bool done_if_at_level) {
  if (fd_ < 0) co_return Status::unavailable();
  if (!detects(edge)) co_return Status::failed_precondition();
  // A second waiter would drain the events the first has yet to read.
  if (waiting_) co_return Status::failed_precondition();
  waiting_ = true;
  struct Done {
    bool& waiting;
    ~Done() { waiting = false; }  // also when the waiting task is cancelled
  } done{waiting_};
  // What the kernel queued before this call happened before it.
  MOTE_CO_TRY(take_events(nullptr));
  if (done_if_at_level) {
    // Read after draining: an edge between the two is still queued.
    MOTE_CO_TRY_ASSIGN(const bool level, read());
    if (level == (edge == hal::Edge::rising)) co_return ok_status();
  }
  for (;;) {
    MOTE_CO_TRY_ASSIGN(const bool found, take_events(&edge));
    if (found) co_return ok_status();
    watch_.clear_readable();
    if (!(co_await watch_.readable()).ok()) co_return Status::unavailable();
  }
}

// --- GpioOutput --------------------------------------------------------------

GpioOutput::GpioOutput(GpioOutput&& other) noexcept
    : io_(other.io_),
      fd_(std::exchange(other.fd_, -1)),
      offset_(other.offset_),
      value_(other.value_) {}

GpioOutput& GpioOutput::operator=(GpioOutput&& other) noexcept {
  if (this != &other) {
    close();
    io_ = other.io_;
    fd_ = std::exchange(other.fd_, -1);
    offset_ = other.offset_;
    value_ = other.value_;
  }
  return *this;
}

void GpioOutput::close() { close_fd(fd_); }

Status GpioOutput::set(bool high) {
  if (fd_ < 0) return Status::unavailable();
  gpio_v2_line_values values{};
  values.bits = high ? 1U : 0U;
  values.mask = 1;
  if (io_->ioctl(fd_, GPIO_V2_LINE_SET_VALUES_IOCTL, &values) != 0) return status_from_errno(errno);
  value_ = high;
  return ok_status();
}

Result<bool> GpioOutput::read() { return get_value(*io_, fd_); }

}  // namespace mote::platform
