#include "mote/platform/kernel_sockets.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace mote::platform {
namespace {

using io::Endpoint;
using io::IpAddress;
using io::Ipv4Address;
using io::Ipv6Address;

// A sockaddr for either family, and its length.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  [[nodiscard]] const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

SocketAddress to_sockaddr(const Endpoint& endpoint) {
  SocketAddress address;
  if (endpoint.address.is_v4()) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(endpoint.port);
    in.sin_addr.s_addr = htonl(endpoint.address.v4().to_u32());
    std::memcpy(&address.storage, &in, sizeof in);
    address.length = sizeof in;
  } else {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(endpoint.port);
    const io::Ipv6Address v6 = endpoint.address.v6();  // octets() refers into it
    const auto& octets = v6.octets();
    std::memcpy(in6.sin6_addr.s6_addr, octets.data(), octets.size());
    std::memcpy(&address.storage, &in6, sizeof in6);
    address.length = sizeof in6;
  }
  return address;
}

Result<Endpoint> from_sockaddr(const sockaddr_storage& storage) {
  if (storage.ss_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, &storage, sizeof in);
    return Endpoint{Ipv4Address::from_u32(ntohl(in.sin_addr.s_addr)), ntohs(in.sin_port)};
  }
  if (storage.ss_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, &storage, sizeof in6);
    std::array<std::uint8_t, 16> octets{};
    std::memcpy(octets.data(), in6.sin6_addr.s6_addr, octets.size());
    return Endpoint{Ipv6Address(octets), ntohs(in6.sin6_port)};
  }
  return Status::invalid_argument();
}

Result<Endpoint> socket_name(int fd, bool peer) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  auto* address = reinterpret_cast<sockaddr*>(&storage);
  const int result =
      peer ? ::getpeername(fd, address, &length) : ::getsockname(fd, address, &length);
  if (result != 0) return status_from_socket_errno(errno);
  return from_sockaddr(storage);
}

int family_of(const Endpoint& endpoint) { return endpoint.address.is_v4() ? AF_INET : AF_INET6; }

}  // namespace

Status status_from_socket_errno(int error) {
  switch (error) {
    case ECONNREFUSED: return Status::unavailable();
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE: return Status::aborted();
    case ETIMEDOUT: return Status::deadline_exceeded();
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN: return Status::not_found();
    case EADDRINUSE:
    case EADDRNOTAVAIL: return Status::already_exists();
    case EACCES:
    case EPERM: return Status::permission_denied();
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM: return Status::resource_exhausted();
    case EBADF:
    case ENOTCONN: return Status::failed_precondition();
    case EAFNOSUPPORT:
    case EINVAL: return Status::invalid_argument();
    default: return Status::unknown();
  }
}

// --- KernelTcpStream ---------------------------------------------------------------

Result<KernelTcpStream> KernelTcpStream::adopt(EpollDriver& driver, int fd) {
  KernelTcpStream stream;
  MOTE_TRY(watch_or_close(stream.watch_, driver, fd));
  return stream;
}

KernelTcpStream& KernelTcpStream::operator=(KernelTcpStream&& other) noexcept {
  if (this != &other) {
    close();
    watch_ = std::move(other.watch_);
    drained_ = other.drained_;
  }
  return *this;
}

void KernelTcpStream::close() { close_watched(watch_); }

async::Task<Result<std::size_t>> KernelTcpStream::read(ByteSpan buffer) {
  if (buffer.empty()) co_return std::size_t{0};
  // After a short read the receive queue held no more data (nginx assumes
  // the same): wait for the kernel's next edge rather than make a recv that
  // would only say EAGAIN. On a keep-alive connection that is one system
  // call less per request. Data, FIN and errors that come later raise the
  // edge; a FIN or an urgent byte that came with the data read did so
  // already, so once the kernel has reported one, every read asks recv.
  if (drained_ && !watch_.is_readable()) {
    if (!(co_await watch_.readable()).ok()) co_return Status::failed_precondition();
  }
  drained_ = false;
  for (;;) {
    if (!watch_.is_open()) co_return Status::failed_precondition();
    const ssize_t n = ::recv(watch_.fd(), buffer.data(), buffer.size(), 0);
    if (n >= 0) {
      if (n > 0 && static_cast<std::size_t>(n) < buffer.size() && !watch_.saw_end_or_urgent()) {
        watch_.clear_readable();
        drained_ = true;
      }
      co_return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return status_from_socket_errno(errno);
    watch_.clear_readable();
    if (!(co_await watch_.readable()).ok()) co_return Status::failed_precondition();
  }
}

async::Task<Status> KernelTcpStream::write(ConstByteSpan data) {
  while (!data.empty()) {
    if (!watch_.is_open()) co_return Status::failed_precondition();
    // MSG_NOSIGNAL: a peer that went away is EPIPE here, not a SIGPIPE.
    const ssize_t n = ::send(watch_.fd(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data = data.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) co_return status_from_socket_errno(errno);
    watch_.clear_writable();
    if (!(co_await watch_.writable()).ok()) co_return Status::failed_precondition();
  }
  co_return ok_status();
}

Status KernelTcpStream::shutdown_write() {
  if (!watch_.is_open()) return Status::failed_precondition();
  if (::shutdown(watch_.fd(), SHUT_WR) != 0) return status_from_socket_errno(errno);
  return ok_status();
}

Result<io::Endpoint> KernelTcpStream::remote_endpoint() const {
  if (!watch_.is_open()) return Status::failed_precondition();
  return socket_name(watch_.fd(), true);
}

Result<io::Endpoint> KernelTcpStream::local_endpoint() const {
  if (!watch_.is_open()) return Status::failed_precondition();
  return socket_name(watch_.fd(), false);
}

Status KernelTcpStream::set_no_delay(bool on) {
  const int value = on ? 1 : 0;
  if (::setsockopt(watch_.fd(), IPPROTO_TCP, TCP_NODELAY, &value, sizeof value) != 0) {
    return status_from_socket_errno(errno);
  }
  return ok_status();
}

// --- KernelTcpListener -----------------------------------------------------------

Result<KernelTcpListener> KernelTcpListener::listen(EpollDriver& driver, io::Endpoint local,
                                                    int backlog) {
  const int fd = ::socket(family_of(local), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return status_from_socket_errno(errno);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const SocketAddress address = to_sockaddr(local);
  if (::bind(fd, address.get(), address.length) != 0 || ::listen(fd, backlog) != 0) {
    const Status status = status_from_socket_errno(errno);
    ::close(fd);
    return status;
  }
  KernelTcpListener listener;
  MOTE_TRY(watch_or_close(listener.watch_, driver, fd));
  return listener;
}

KernelTcpListener& KernelTcpListener::operator=(KernelTcpListener&& other) noexcept {
  if (this != &other) {
    close();
    watch_ = std::move(other.watch_);
  }
  return *this;
}

void KernelTcpListener::close() { close_watched(watch_); }

async::Task<Result<KernelTcpStream>> KernelTcpListener::accept() {
  for (;;) {
    if (!watch_.is_open()) co_return Status::failed_precondition();
    const int fd = ::accept4(watch_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      co_return KernelTcpStream::adopt(*watch_.driver(), fd);
    }
    // A connection reset before it was accepted is the peer's business.
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN) co_return status_from_socket_errno(errno);
    watch_.clear_readable();
    if (!(co_await watch_.readable()).ok()) co_return Status::failed_precondition();
  }
}

Result<io::Endpoint> KernelTcpListener::local_endpoint() const {
  if (!watch_.is_open()) return Status::failed_precondition();
  return socket_name(watch_.fd(), false);
}

// --- KernelTcpConnector ----------------------------------------------------------

async::Task<Result<KernelTcpStream>> KernelTcpConnector::connect(io::Endpoint remote) {
  const int fd = ::socket(family_of(remote), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) co_return status_from_socket_errno(errno);
  Result<KernelTcpStream> stream = KernelTcpStream::adopt(*driver_, fd);
  if (!stream.ok()) co_return stream.status();
  const SocketAddress address = to_sockaddr(remote);
  if (::connect(fd, address.get(), address.length) == 0) co_return stream;
  if (errno != EINPROGRESS) co_return status_from_socket_errno(errno);
  // Non-blocking connect: writable once it is settled, SO_ERROR says how.
  if (!(co_await stream->watch_.writable()).ok()) co_return Status::failed_precondition();
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  if (error != 0) co_return status_from_socket_errno(error);
  co_return stream;
}

// --- KernelUdpSocket --------------------------------------------------------------

Result<KernelUdpSocket> KernelUdpSocket::bind(EpollDriver& driver, io::Endpoint local) {
  const int fd = ::socket(family_of(local), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return status_from_socket_errno(errno);
  const SocketAddress address = to_sockaddr(local);
  if (::bind(fd, address.get(), address.length) != 0) {
    const Status status = status_from_socket_errno(errno);
    ::close(fd);
    return status;
  }
  KernelUdpSocket socket;
  MOTE_TRY(watch_or_close(socket.watch_, driver, fd));
  return socket;
}

KernelUdpSocket& KernelUdpSocket::operator=(KernelUdpSocket&& other) noexcept {
  if (this != &other) {
    close();
    watch_ = std::move(other.watch_);
  }
  return *this;
}

void KernelUdpSocket::close() { close_watched(watch_); }

async::Task<Status> KernelUdpSocket::send_to(ConstByteSpan data, io::Endpoint to) {
  const SocketAddress address = to_sockaddr(to);
  for (;;) {
    if (!watch_.is_open()) co_return Status::failed_precondition();
    const ssize_t n = ::sendto(watch_.fd(), data.data(), data.size(), MSG_NOSIGNAL, address.get(),
                               address.length);
    if (n >= 0) co_return ok_status();
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return status_from_socket_errno(errno);
    watch_.clear_writable();
    if (!(co_await watch_.writable()).ok()) co_return Status::failed_precondition();
  }
}

async::Task<Result<io::Datagram>> KernelUdpSocket::receive_from(ByteSpan buffer) {
  for (;;) {
    if (!watch_.is_open()) co_return Status::failed_precondition();
    sockaddr_storage from{};
    iovec vector{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_name = &from;
    message.msg_namelen = sizeof from;
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(watch_.fd(), &message, 0);
    if (n >= 0) {
      MOTE_CO_TRY_ASSIGN(io::Endpoint sender, from_sockaddr(from));
      co_return io::Datagram{static_cast<std::size_t>(n), sender,
                             (message.msg_flags & MSG_TRUNC) != 0};
    }
    if (errno == EINTR) continue;
    // ICMP errors for earlier sends surface here (ECONNREFUSED): not a datagram.
    if (errno == ECONNREFUSED) continue;
    if (errno != EAGAIN) co_return status_from_socket_errno(errno);
    watch_.clear_readable();
    if (!(co_await watch_.readable()).ok()) co_return Status::failed_precondition();
  }
}

Result<io::Endpoint> KernelUdpSocket::local_endpoint() const {
  if (!watch_.is_open()) return Status::failed_precondition();
  return socket_name(watch_.fd(), false);
}

// --- KernelResolver ---------------------------------------------------------------

KernelResolver::~KernelResolver() {
  if (worker_.joinable()) worker_.join();
}

async::Task<Result<io::IpAddress>> KernelResolver::resolve(std::string_view host) {
  if (Result<IpAddress> numeric = IpAddress::parse(host); numeric.ok()) co_return numeric;
  if (worker_.joinable()) {  // a cancelled lookup still running
    co_await done_.wait();
    worker_.join();
  }
  worker_ = std::thread([this, name = std::string(host)] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* found = nullptr;
    const int error = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
    if (error != 0 || found == nullptr) {
      result_ = error == EAI_AGAIN ? Status::unavailable() : Status::not_found();
    } else {
      sockaddr_storage storage{};
      std::memcpy(&storage, found->ai_addr, found->ai_addrlen);
      Result<Endpoint> endpoint = from_sockaddr(storage);
      result_ = endpoint.ok() ? Result<IpAddress>(endpoint->address)
                              : Result<IpAddress>(endpoint.status());
    }
    if (found != nullptr) ::freeaddrinfo(found);
    done_.raise();
  });
  co_await done_.wait();
  worker_.join();
  co_return result_;
}

}  // namespace mote::platform
