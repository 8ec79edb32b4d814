#include "mote/platform/i2c_dev.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <unistd.h>

#define MOTE_LOG_MODULE "i2c"
#include "mote/base/log.hpp"

namespace mote::platform {
namespace {

static_assert(hal::I2cBus<I2cDevBus>);

Status open_status(int error) {
  switch (error) {
    case ENOENT:
    case ENODEV:
    case ENXIO: return Status::not_found();
    case EACCES:
    case EPERM: return Status::permission_denied();
    case ENOTTY: return Status::invalid_argument();  // not an i2c-dev node
    default: return Status::unavailable();
  }
}

// Documentation/i2c/fault-codes.rst.
Status transfer_status(int error) {
  switch (error) {
    case 0: return ok_status();
    case ENXIO:
    case EREMOTEIO: return Status::not_found();
    case ETIMEDOUT: return Status::deadline_exceeded();
    case EINVAL:
    case EMSGSIZE: return Status::invalid_argument();
    case EOPNOTSUPP: return Status::unimplemented();
    default: return Status::unavailable();  // EAGAIN (arbitration), EIO, ENODEV, EPROTO, EBUSY
  }
}

}  // namespace

Status I2cDevBus::open(const std::string& path) {
  if (is_open()) return Status::failed_precondition();
  UniqueFd fd(io_.open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    MOTE_LOG_WARN("%s: %s", path.c_str(), std::strerror(error));
    return open_status(error);
  }
  unsigned long functionality = 0;
  if (io_.ioctl(fd.get(), I2C_FUNCS, &functionality) != 0) {
    const int error = errno;
    MOTE_LOG_WARN("%s is not an i2c-dev adapter: %s", path.c_str(), std::strerror(error));
    return open_status(error);
  }
  if ((functionality & I2C_FUNC_I2C) == 0) {
    // SMBus-only adapters (many PC chipsets) cannot run arbitrary messages.
    MOTE_LOG_WARN("%s: the adapter speaks SMBus only (I2C_FUNCS 0x%lx)", path.c_str(),
                  functionality);
    return Status::unimplemented();
  }
  functionality_ = functionality;
  fd_ = std::move(fd);
  return ok_status();
}

void I2cDevBus::run_ioctl(hal::I2cAddress address, bool writes, bool reads) {
  i2c_msg messages[2]{};
  std::uint32_t count = 0;
  if (writes) {
    messages[count++] = {.addr = address,
                         .flags = 0,
                         .len = static_cast<std::uint16_t>(tx_.size()),
                         .buf = reinterpret_cast<std::uint8_t*>(tx_.data())};
  }
  if (reads) {
    messages[count++] = {.addr = address,
                         .flags = I2C_M_RD,
                         .len = static_cast<std::uint16_t>(rx_.size()),
                         .buf = reinterpret_cast<std::uint8_t*>(rx_.data())};
  }
  i2c_rdwr_ioctl_data data{.msgs = messages, .nmsgs = count};
  const int result = io_.ioctl(fd_.get(), I2C_RDWR, &data);
  if (result < 0) {
    error_ = errno;
  } else {
    // The number of messages transferred; fewer is a failure the driver did
    // not name.
    error_ = static_cast<std::uint32_t>(result) == count ? 0 : EIO;
  }
}

async::Task<Status> I2cDevBus::transact(hal::I2cAddress address, ConstByteSpan data,
                                        ByteSpan buffer, bool reads) {
  if (address < 0x08 || address > 0x77) co_return Status::invalid_argument();
  if (data.size() > kMaxMessage || buffer.size() > kMaxMessage) {
    co_return Status::invalid_argument();
  }
  const async::Mutex::Guard guard = co_await mutex_.lock();
  if (!is_open()) co_return Status::failed_precondition();
  // A cancelled caller's transaction may still own tx_ and rx_.
  co_await worker_.idle();
  const bool writes = !data.empty() || !reads;  // write() of nothing: a bare address probe
  tx_.assign(data.begin(), data.end());
  rx_.assign(buffer.size(), std::byte{0});
  co_await worker_.run([this, address, writes, reads] { run_ioctl(address, writes, reads); });
  const Status status = transfer_status(error_);
  if (status.ok()) std::copy(rx_.begin(), rx_.end(), buffer.begin());
  co_return status;
}

}  // namespace mote::platform
