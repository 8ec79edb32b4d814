#include "mote/net/linux/tap_device.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mote/platform/kernel_sockets.hpp"

namespace mote::net {

TunTapDevice& TunTapDevice::operator=(TunTapDevice&& other) noexcept {
  if (this != &other) {
    close();
    watch_ = std::move(other.watch_);
    capabilities_ = other.capabilities_;
    name_ = std::move(other.name_);
  }
  return *this;
}

Result<TunTapDevice> TunTapDevice::open(platform::EpollDriver& driver, std::string_view name,
                                        Medium medium, std::size_t mtu) {
  ifreq request{};
  if (name.size() >= sizeof request.ifr_name) return Status::invalid_argument();
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? Status::not_found() : platform::status_from_socket_errno(errno);
  }
  // IFF_NO_PI: frames without the 4-byte packet information prefix.
  request.ifr_flags =
      static_cast<short>((medium == Medium::ethernet ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
  std::memcpy(request.ifr_name, name.data(), name.size());
  if (::ioctl(fd, TUNSETIFF, &request) != 0) {
    const int error = errno;
    ::close(fd);
    return platform::status_from_socket_errno(error);
  }
  TunTapDevice device;
  MOTE_TRY(platform::watch_or_close(device.watch_, driver, fd));
  device.capabilities_ = {medium, mtu};
  device.name_ = request.ifr_name;
  return device;
}

void TunTapDevice::close() { platform::close_watched(watch_); }

Result<std::size_t> TunTapDevice::receive(Instant /*now*/, ByteSpan buffer) {
  for (;;) {
    if (!watch_.is_open()) return Status::failed_precondition();
    const ssize_t n = ::read(watch_.fd(), buffer.data(), buffer.size());
    if (n >= 0) {
      // The kernel cuts a frame longer than the buffer: drop it whole.
      if (static_cast<std::size_t>(n) > capabilities_.max_frame_len()) {
        return Status::resource_exhausted();
      }
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    const int error = errno;
    // Wait for the next edge either way: a persistent error must not keep
    // the stack polling.
    watch_.clear_readable();
    if (error == EAGAIN) return Status::unavailable();
    return platform::status_from_socket_errno(error);
  }
}

Status TunTapDevice::transmit(Instant /*now*/, ConstByteSpan frame) {
  for (;;) {
    if (!watch_.is_open()) return Status::failed_precondition();
    const ssize_t n = ::write(watch_.fd(), frame.data(), frame.size());
    if (n >= 0) return ok_status();
    if (errno == EINTR) continue;
    // EIO while the kernel side is down; EAGAIN when its queue is full:
    // either way the frame is lost, as on a wire.
    return platform::status_from_socket_errno(errno);
  }
}

}  // namespace mote::net
