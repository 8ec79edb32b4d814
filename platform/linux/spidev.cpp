#include "mote/platform/spidev.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/spi/spi.h>
#include <linux/spi/spidev.h>

#define MOTE_LOG_MODULE "spi"
#include "mote/base/log.hpp"

namespace mote::platform {
namespace {

static_assert(hal::SpiDevice<SpidevDevice>);

Status status_from_errno(int error) {
  switch (error) {
    case 0: return ok_status();
    case ENOENT:
    case ENXIO: return Status::not_found();
    case EACCES:
    case EPERM: return Status::permission_denied();
    case EINVAL:
    case EMSGSIZE:
    case ENOTTY: return Status::invalid_argument();
    default: return Status::unavailable();  // EIO, ESHUTDOWN, ENODEV
  }
}

// Writes a setting and reads it back: the controller must have taken it as is.
template <typename T>
Status configure(DeviceIo& io, int fd, unsigned long write_request, unsigned long read_request,
                 T value, const char* what, const std::string& path) {
  T written = value;
  if (io.ioctl(fd, write_request, &written) != 0) {
    const int error = errno;
    MOTE_LOG_WARN("%s: %s %lu refused: %s", path.c_str(), what, static_cast<unsigned long>(value),
                  std::strerror(error));
    return status_from_errno(error);
  }
  T read_back{};
  if (io.ioctl(fd, read_request, &read_back) != 0) return status_from_errno(errno);
  if (read_back != value) {
    MOTE_LOG_WARN("%s: asked for %s %lu, the controller set %lu", path.c_str(), what,
                  static_cast<unsigned long>(value), static_cast<unsigned long>(read_back));
    return Status::invalid_argument();
  }
  return ok_status();
}

}  // namespace

Status SpidevDevice::open(const std::string& path, const Config& config) {
  if (is_open()) return Status::failed_precondition();
  if (config.mode > 3 || config.bits_per_word != 8 || config.speed_hz == 0 ||
      config.max_transfer == 0 || config.max_transfer > UINT32_MAX) {
    return Status::invalid_argument();
  }
  UniqueFd fd(io_.open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    MOTE_LOG_WARN("%s: %s", path.c_str(), std::strerror(error));
    return status_from_errno(error);
  }
  const auto mode =
      static_cast<std::uint8_t>(config.mode | (config.cs_active_high ? SPI_CS_HIGH : 0) |
                                (config.lsb_first ? SPI_LSB_FIRST : 0));
  MOTE_TRY(configure(io_, fd.get(), SPI_IOC_WR_MODE, SPI_IOC_RD_MODE, mode, "mode", path));
  MOTE_TRY(configure(io_, fd.get(), SPI_IOC_WR_BITS_PER_WORD, SPI_IOC_RD_BITS_PER_WORD,
                     config.bits_per_word, "bits per word", path));
  MOTE_TRY(configure(io_, fd.get(), SPI_IOC_WR_MAX_SPEED_HZ, SPI_IOC_RD_MAX_SPEED_HZ,
                     config.speed_hz, "speed (Hz)", path));
  config_ = config;
  fd_ = std::move(fd);
  return ok_status();
}

void SpidevDevice::run_ioctl() {
  spi_ioc_transfer transfer{};
  transfer.tx_buf = reinterpret_cast<std::uintptr_t>(tx_.data());
  transfer.rx_buf = reinterpret_cast<std::uintptr_t>(rx_.data());
  transfer.len = static_cast<std::uint32_t>(tx_.size());
  const int result = io_.ioctl(fd_.get(), SPI_IOC_MESSAGE(1), &transfer);
  if (result < 0) {
    error_ = errno;
  } else {
    // spidev returns the bytes transferred; short means the controller stopped.
    error_ = static_cast<std::size_t>(result) == tx_.size() ? 0 : EIO;
  }
}

async::Task<Status> SpidevDevice::transfer(ConstByteSpan data, ByteSpan buffer) {
  const std::size_t length = std::max(data.size(), buffer.size());
  if (length > config_.max_transfer) co_return Status::invalid_argument();
  const async::Mutex::Guard guard = co_await mutex_.lock();
  if (!is_open()) co_return Status::failed_precondition();
  if (length == 0) co_return ok_status();
  co_await worker_.idle();  // a cancelled caller's transfer may still own the buffers
  tx_.assign(length, std::byte{0xFF});
  std::copy(data.begin(), data.end(), tx_.begin());
  rx_.assign(length, std::byte{0});
  co_await worker_.run([this] { run_ioctl(); });
  const Status status = status_from_errno(error_);
  if (status.ok()) std::copy_n(rx_.begin(), buffer.size(), buffer.begin());
  co_return status;
}

}  // namespace mote::platform
