#pragma once
// TCP on mote's own stack. A TcpSocket is one connection's memory: the
// control block (net/tcp) and its two buffers, which the application
// provides, plus the wakers of the tasks that wait on it. The interface
// finds sockets by their 4-tuple (O(1)) and drives them; the application
// reaches them through the io concepts:
//
//   TcpStream    io::Stream: a movable handle on a connected socket.
//   TcpListener  io::Listener: a port and a backlog of sockets; each SYN
//                takes a free one, accept() hands out connected ones.
//   TcpConnector io::Connector: a pool of sockets for outgoing connections.
//
//   StaticTcpSocket<4096, 4096> a, b;          // receive and send buffers
//   std::array<TcpSocket*, 2> backlog{&a, &b};
//   TcpListener listener(iface, backlog);
//   MOTE_TRY(listener.listen(80));
//   MOTE_CO_TRY_ASSIGN(TcpStream stream, co_await listener.accept());
//   MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(buffer));
//
// Operations (the rules of io/concepts.hpp):
//   read(buffer)  at least one byte, or 0 once the peer's FIN came and all
//     before it was read. Wakes: data, FIN, reset. Cancels: destroying the
//     awaiter; nothing is taken. Buffers: until it completes.
//   write(data)   completes once all of `data` is in the send buffer.
//     Wakes: room in the send buffer. Cancels: destroying the awaiter; a
//     prefix may have been queued.
//   connect(remote) completes when the handshake does. Wakes: the SYN,ACK,
//     a RST, the retransmission limit.
// Errors: unavailable (refused), aborted (reset), deadline_exceeded
// (retransmissions unanswered), not_found (no route), resource_exhausted
// (no free socket or port), failed_precondition (closed).
// One task may wait in read and one in write (or connect) per socket.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "mote/async/executor.hpp"
#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/io/address.hpp"
#include "mote/io/concepts.hpp"
#include "mote/net/tcp/tcp_control_block.hpp"

namespace mote::net {

class Interface;
class TcpListener;

class TcpSocket {
 public:
  // SACK (the scoreboard) and timestamps on, as in Linux.
  TcpSocket(ByteSpan rx_storage, ByteSpan tx_storage) : tcb_(rx_storage, tx_storage, &sack_) {
    tcb_.set_timestamps(true);
  }
  ~TcpSocket();
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  [[nodiscard]] TcpControlBlock& tcb() { return tcb_; }
  [[nodiscard]] const TcpControlBlock& tcb() const { return tcb_; }
  // Linked into an interface (connecting, connected, closing).
  [[nodiscard]] bool is_bound() const { return iface_ != nullptr; }
  // Free for a new connection: not bound, not handed out to the application.
  [[nodiscard]] bool is_free() const { return iface_ == nullptr && !in_use_; }

  // --- For the Interface -------------------------------------------------
  // The interface processed a segment for this socket or sent one from it:
  // wake whoever waits.
  void notify() {
    rx_waker_.wake();
    tx_waker_.wake();
  }
  // The interface is going away (or unlinked this socket).
  void detach();
  // For pools: takes back a socket nobody holds that lingers in TIME-WAIT
  // or FIN-WAIT-2 (false if someone holds it).
  bool reclaim();

 private:
  friend class Interface;
  friend class TcpStream;
  friend class TcpListener;
  friend class TcpConnector;

  // Declared before tcb_, which keeps a pointer to it: the SACK scoreboard
  // (172 bytes on a 32-bit target) lives here, outside the control block's size budget.
  TcpSackScoreboard sack_;
  TcpControlBlock tcb_;
  Interface* iface_ = nullptr;
  TcpListener* listener_ = nullptr;  // the backlog it came from, until accepted
  async::Waker rx_waker_;
  async::Waker tx_waker_;
  bool in_use_ = false;    // a TcpStream holds it
  bool accepted_ = false;  // handed out by accept()
};

// A TcpSocket with its buffers inside.
template <std::size_t kRxBytes, std::size_t kTxBytes>
class StaticTcpSocket : private std::array<std::byte, kRxBytes + kTxBytes>, public TcpSocket {
  using Storage = std::array<std::byte, kRxBytes + kTxBytes>;

 public:
  StaticTcpSocket()
      : Storage{},
        TcpSocket(ByteSpan(static_cast<Storage&>(*this)).first(kRxBytes),
                  ByteSpan(static_cast<Storage&>(*this)).subspan(kRxBytes)) {}
};

// A connected socket, as io::Stream. Moving it moves the handle; the last
// handle's close() (or destructor) lets the socket go back to its pool.
class TcpStream {
 public:
  TcpStream() = default;
  explicit TcpStream(TcpSocket& socket) : socket_(&socket) {
    socket.in_use_ = true;
    socket.tcb_.set_held(true);
  }
  TcpStream(TcpStream&& other) noexcept : socket_(std::exchange(other.socket_, nullptr)) {}
  TcpStream& operator=(TcpStream&& other) noexcept {
    if (this != &other) {
      close();
      socket_ = std::exchange(other.socket_, nullptr);
    }
    return *this;
  }
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;
  ~TcpStream() { close(); }

  async::Task<Result<std::size_t>> read(ByteSpan buffer);
  async::Task<Status> write(ConstByteSpan data);
  // Sends a FIN after what was written (RFC 9293 CLOSE); reading goes on.
  Status shutdown_write();
  // Lets the socket go: a connection still open is closed gracefully when
  // everything written was sent (FIN, then TIME-WAIT on the interface), and
  // reset otherwise (data would be lost).
  void close();
  [[nodiscard]] Result<io::Endpoint> remote_endpoint() const;
  [[nodiscard]] Result<io::Endpoint> local_endpoint() const;
  [[nodiscard]] bool is_open() const { return socket_ != nullptr; }
  [[nodiscard]] TcpSocket* socket() const { return socket_; }

  // Without waiting: `unavailable` where read/write would wait.
  Result<std::size_t> try_read(ByteSpan buffer);
  Result<std::size_t> try_write(ConstByteSpan data);

 private:
  TcpSocket* socket_ = nullptr;
};

// Listens on a port of one interface with a backlog of sockets.
class TcpListener {
 public:
  using StreamType = TcpStream;

  TcpListener(Interface& iface, std::span<TcpSocket*> backlog) : iface_(iface), backlog_(backlog) {}
  ~TcpListener() { close(); }
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // already_exists when another listener has the port; invalid_argument for port 0.
  Status listen(std::uint16_t port);
  void close();
  [[nodiscard]] std::uint16_t port() const { return port_; }

  // A connection that completed its handshake (or more) and was not yet
  // accepted. Wakes: a handshake completing. Errors: failed_precondition
  // when not listening.
  async::Task<Result<TcpStream>> accept();
  Result<TcpStream> try_accept();
  [[nodiscard]] Result<io::Endpoint> local_endpoint() const;

  // --- For the Interface -------------------------------------------------
  // A free socket of the backlog for a new connection, or nullptr.
  TcpSocket* take_free();
  void notify() { accept_waker_.wake(); }
  [[nodiscard]] TcpListener* next() const { return next_; }

 private:
  friend class Interface;

  Interface& iface_;
  std::span<TcpSocket*> backlog_;
  TcpListener* next_ = nullptr;  // the interface's list of listeners
  async::Waker accept_waker_;
  std::uint16_t port_ = 0;
};

// Opens connections from a pool of sockets.
class TcpConnector {
 public:
  using StreamType = TcpStream;

  TcpConnector(Interface& iface, std::span<TcpSocket*> pool) : iface_(iface), pool_(pool) {}

  async::Task<Result<TcpStream>> connect(io::Endpoint remote);

 private:
  Interface& iface_;
  std::span<TcpSocket*> pool_;
};

static_assert(io::Stream<TcpStream>);
static_assert(io::Listener<TcpListener>);
static_assert(io::Connector<TcpConnector>);

}  // namespace mote::net
