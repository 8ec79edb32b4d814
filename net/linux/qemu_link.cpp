#include "mote/net/linux/qemu_link.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mote/platform/kernel_sockets.hpp"

namespace mote::net {
namespace {

constexpr std::size_t kLengthPrefix = 4;

sockaddr_in to_sockaddr(io::Endpoint endpoint) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(endpoint.port);
  address.sin_addr.s_addr = htonl(endpoint.address.v4().to_u32());
  return address;
}

Status socket_error() { return platform::status_from_socket_errno(errno); }

}  // namespace

// --- QemuDgramLink ------------------------------------------------------------

QemuDgramLink& QemuDgramLink::operator=(QemuDgramLink&& other) noexcept {
  if (this != &other) {
    close();
    watch_ = std::move(other.watch_);
    mtu_ = other.mtu_;
  }
  return *this;
}

Result<QemuDgramLink> QemuDgramLink::open(platform::EpollDriver& driver, io::Endpoint local,
                                          io::Endpoint remote, std::size_t mtu) {
  if (!local.address.is_v4() || !remote.address.is_v4()) return Status::invalid_argument();
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return socket_error();
  const sockaddr_in local_address = to_sockaddr(local);
  const sockaddr_in remote_address = to_sockaddr(remote);
  // connect(): the kernel then delivers only the remote's datagrams.
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local_address), sizeof local_address) != 0 ||
      ::connect(fd, reinterpret_cast<const sockaddr*>(&remote_address), sizeof remote_address) !=
          0) {
    const Status status = socket_error();
    ::close(fd);
    return status;
  }
  QemuDgramLink link;
  MOTE_TRY(platform::watch_or_close(link.watch_, driver, fd));
  link.mtu_ = mtu;
  return link;
}

void QemuDgramLink::close() { platform::close_watched(watch_); }

Result<io::Endpoint> QemuDgramLink::local_endpoint() const {
  if (!watch_.is_open()) return Status::failed_precondition();
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (::getsockname(watch_.fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return socket_error();
  }
  return io::Endpoint{io::Ipv4Address::from_u32(ntohl(address.sin_addr.s_addr)),
                      ntohs(address.sin_port)};
}

Result<std::size_t> QemuDgramLink::receive(Instant /*now*/, ByteSpan buffer) {
  for (;;) {
    if (!watch_.is_open()) return Status::failed_precondition();
    // MSG_TRUNC: the real length, so a frame too big for the buffer is
    // recognised and dropped instead of passed on cut short.
    const ssize_t n = ::recv(watch_.fd(), buffer.data(), buffer.size(), MSG_TRUNC);
    if (n >= 0) {
      if (static_cast<std::size_t>(n) > buffer.size()) return Status::resource_exhausted();
      return static_cast<std::size_t>(n);
    }
    // ECONNREFUSED: an ICMP error for an earlier send (QEMU not running yet).
    if (errno == EINTR || errno == ECONNREFUSED) continue;
    const int error = errno;
    watch_.clear_readable();  // a persistent error must not keep the stack polling
    if (error == EAGAIN) return Status::unavailable();
    return platform::status_from_socket_errno(error);
  }
}

Status QemuDgramLink::transmit(Instant /*now*/, ConstByteSpan frame) {
  for (;;) {
    if (!watch_.is_open()) return Status::failed_precondition();
    if (::send(watch_.fd(), frame.data(), frame.size(), MSG_NOSIGNAL) >= 0) return ok_status();
    if (errno == EINTR || errno == ECONNREFUSED) continue;
    return socket_error();  // EAGAIN included: the frame is lost, as on a wire
  }
}

// --- QemuStreamLink -----------------------------------------------------------

QemuStreamLink& QemuStreamLink::operator=(QemuStreamLink&& other) noexcept {
  if (this != &other) {
    close();
    watch_ = std::move(other.watch_);
    mtu_ = other.mtu_;
    rx_ = std::move(other.rx_);
    tx_ = std::move(other.tx_);
    tx_sent_ = other.tx_sent_;
    peer_closed_ = other.peer_closed_;
  }
  return *this;
}

Result<QemuStreamLink> QemuStreamLink::connect_unix(platform::EpollDriver& driver,
                                                    const std::string& path, std::size_t mtu) {
  sockaddr_un address{};
  if (path.size() >= sizeof address.sun_path) return Status::invalid_argument();
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return socket_error();
  // A blocking connect: a local socket answers at once or refuses.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const Status status = errno == ENOENT ? Status::not_found() : socket_error();
    ::close(fd);
    return status;
  }
  return adopt(driver, fd, mtu);
}

Result<QemuStreamLink> QemuStreamLink::adopt(platform::EpollDriver& driver, int fd,
                                             std::size_t mtu) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    const Status status = socket_error();
    ::close(fd);
    return status;
  }
  QemuStreamLink link;
  MOTE_TRY(platform::watch_or_close(link.watch_, driver, fd));
  link.mtu_ = mtu;
  link.rx_.reserve(kLengthPrefix + link.capabilities().max_frame_len());
  return link;
}

void QemuStreamLink::close() {
  platform::close_watched(watch_);
  rx_.clear();
  tx_.clear();
  tx_sent_ = 0;
}

Result<std::size_t> QemuStreamLink::receive(Instant /*now*/, ByteSpan buffer) {
  if (!watch_.is_open()) return Status::failed_precondition();
  const std::size_t max_frame = capabilities().max_frame_len();
  for (;;) {
    if (rx_.size() >= kLengthPrefix) {
      const std::size_t len = load_be32(rx_.data());
      if (len > max_frame) {
        close();
        return Status::data_loss();
      }
      if (rx_.size() >= kLengthPrefix + len) {
        const bool fits = len <= buffer.size();
        if (fits && len != 0) std::memcpy(buffer.data(), rx_.data() + kLengthPrefix, len);
        rx_.erase(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(kLengthPrefix + len));
        if (!fits) return Status::resource_exhausted();
        return len;
      }
    }
    if (peer_closed_) return Status::unavailable();
    // Read no further than the end of the frame under way (or its prefix),
    // so the buffer never holds more than one frame.
    const std::size_t want =
        rx_.size() < kLengthPrefix ? kLengthPrefix : kLengthPrefix + load_be32(rx_.data());
    const std::size_t have = rx_.size();
    rx_.resize(want);
    const ssize_t n = ::read(watch_.fd(), rx_.data() + have, want - have);
    rx_.resize(have + static_cast<std::size_t>(n > 0 ? n : 0));
    if (n > 0) continue;
    if (n == 0) {
      // QEMU went away. Keep the fd registered so no further edge (and no
      // busy loop) comes from it; the link is dead until closed.
      peer_closed_ = true;
      watch_.clear_readable();
      return Status::unavailable();
    }
    if (errno == EINTR) continue;
    const int error = errno;
    watch_.clear_readable();  // a persistent error must not keep the stack polling
    if (error == EAGAIN) return Status::unavailable();
    return platform::status_from_socket_errno(error);
  }
}

bool QemuStreamLink::flush() const {
  while (tx_sent_ < tx_.size()) {
    const ssize_t n =
        ::send(watch_.fd(), tx_.data() + tx_sent_, tx_.size() - tx_sent_, MSG_NOSIGNAL);
    if (n > 0) {
      tx_sent_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      peer_closed_ = true;  // EPIPE, ECONNRESET: gone
      tx_.clear();
      tx_sent_ = 0;
    }
    return false;
  }
  tx_.clear();
  tx_sent_ = 0;
  return true;
}

bool QemuStreamLink::can_transmit() const { return watch_.is_open() && !peer_closed_ && flush(); }

Status QemuStreamLink::transmit(Instant /*now*/, ConstByteSpan frame) {
  if (!watch_.is_open() || peer_closed_) return Status::failed_precondition();
  if (frame.size() > capabilities().max_frame_len()) return Status::invalid_argument();
  if (!flush()) return Status::unavailable();
  tx_.resize(kLengthPrefix + frame.size());
  store_be32(tx_.data(), static_cast<std::uint32_t>(frame.size()));
  if (!frame.empty()) std::memcpy(tx_.data() + kLengthPrefix, frame.data(), frame.size());
  // Whatever the socket does not take now goes out with the next frame;
  // the frame itself is accepted either way.
  flush();
  return ok_status();
}

}  // namespace mote::net
