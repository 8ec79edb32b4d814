#pragma once
// The io concepts on the Linux kernel's sockets: non-blocking TCP and UDP
// sockets whose readiness comes through the EpollDriver. The kernel's side
// of "one socket abstraction over two stacks" (mote's own stack is the other).
//
//   auto listener = KernelTcpListener::listen(driver, *Endpoint::parse("127.0.0.1:1883"));
//   Result<KernelTcpStream> client = co_await listener->accept();
//
// Operations are coroutines: their frames come from the calling task's
// storage. Errors follow io/concepts.hpp.

#include <cstddef>
#include <string_view>
#include <thread>

#include "mote/async/interrupt_event.hpp"
#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/io/address.hpp"
#include "mote/io/concepts.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote::platform {

// The io error for an errno value.
Status status_from_socket_errno(int error);

class KernelTcpStream {
 public:
  KernelTcpStream() = default;
  KernelTcpStream(KernelTcpStream&&) noexcept = default;
  KernelTcpStream& operator=(KernelTcpStream&& other) noexcept;
  ~KernelTcpStream() { close(); }

  // Takes ownership of a connected, non-blocking TCP socket.
  static Result<KernelTcpStream> adopt(EpollDriver& driver, int fd);

  async::Task<Result<std::size_t>> read(ByteSpan buffer);
  async::Task<Status> write(ConstByteSpan data);
  Status shutdown_write();
  void close();
  [[nodiscard]] Result<io::Endpoint> remote_endpoint() const;
  [[nodiscard]] Result<io::Endpoint> local_endpoint() const;
  [[nodiscard]] bool is_open() const { return watch_.is_open(); }

  // io::ReadinessStream: a read would not wait. After a read that emptied
  // the receive queue (or found it empty) that is the kernel's next edge;
  // a closed stream reads at once (failed_precondition).
  [[nodiscard]] bool read_ready() const { return !watch_.is_open() || watch_.is_readable(); }
  void notify_readable(io::ReadinessListener& listener) { watch_.notify_readable(listener); }
  void stop_notify() { watch_.stop_notify(); }

  // TCP_NODELAY: send small writes at once instead of coalescing them (Nagle).
  Status set_no_delay(bool on);
  // The socket's fd, for options mote does not wrap (it stays owned here).
  [[nodiscard]] int native_handle() const { return watch_.fd(); }

 private:
  friend class KernelTcpConnector;
  FdWatch watch_;
  // The last read was short: it emptied the kernel's receive queue.
  bool drained_ = false;
};

class KernelTcpListener {
 public:
  using StreamType = KernelTcpStream;

  KernelTcpListener() = default;
  KernelTcpListener(KernelTcpListener&&) noexcept = default;
  KernelTcpListener& operator=(KernelTcpListener&& other) noexcept;
  ~KernelTcpListener() { close(); }

  // Binds (with SO_REUSEADDR) and listens; port 0 picks a free port.
  static Result<KernelTcpListener> listen(EpollDriver& driver, io::Endpoint local,
                                          int backlog = 128);

  async::Task<Result<KernelTcpStream>> accept();
  [[nodiscard]] Result<io::Endpoint> local_endpoint() const;
  void close();

 private:
  FdWatch watch_;
};

class KernelTcpConnector {
 public:
  using StreamType = KernelTcpStream;

  explicit KernelTcpConnector(EpollDriver& driver) : driver_(&driver) {}
  async::Task<Result<KernelTcpStream>> connect(io::Endpoint remote);

 private:
  EpollDriver* driver_;
};

class KernelUdpSocket {
 public:
  KernelUdpSocket() = default;
  KernelUdpSocket(KernelUdpSocket&&) noexcept = default;
  KernelUdpSocket& operator=(KernelUdpSocket&& other) noexcept;
  ~KernelUdpSocket() { close(); }

  // Port 0 picks a free port.
  static Result<KernelUdpSocket> bind(EpollDriver& driver, io::Endpoint local);

  async::Task<Status> send_to(ConstByteSpan data, io::Endpoint to);
  async::Task<Result<io::Datagram>> receive_from(ByteSpan buffer);
  [[nodiscard]] Result<io::Endpoint> local_endpoint() const;
  void close();

 private:
  FdWatch watch_;
};

// getaddrinfo() on a worker thread (it may wait for DNS servers), woken
// through an InterruptEvent. Numeric addresses are answered at once.
class KernelResolver {
 public:
  explicit KernelResolver(async::Executor& executor) : done_(executor) {}
  KernelResolver(const KernelResolver&) = delete;
  KernelResolver& operator=(const KernelResolver&) = delete;
  ~KernelResolver();

  async::Task<Result<io::IpAddress>> resolve(std::string_view host);

 private:
  async::InterruptEvent done_;
  std::thread worker_;
  Result<io::IpAddress> result_ = Status::unknown();
};

static_assert(io::Stream<KernelTcpStream>);
static_assert(io::Listener<KernelTcpListener>);
static_assert(io::Connector<KernelTcpConnector>);
static_assert(io::DatagramSocket<KernelUdpSocket>);
static_assert(io::Resolver<KernelResolver>);

}  // namespace mote::platform
