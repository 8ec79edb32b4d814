#include "mote/net/socket/tcp_socket.hpp"

#include "mote/async/executor.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/socket/socket_waiter.hpp"

namespace mote::net {

namespace {

// A socket of `pool` for a new connection: a free one, else one that an
// application let go and that lingers -- in TIME-WAIT first, then in
// FIN-WAIT-2 (a peer that never closes its side). Taking it ends that
// early, which bounds what lingering costs: no socket is held back from a
// new connection by it. (Segments that still come for the old connection
// find no socket and get a RST.)
TcpSocket* take_from_pool(std::span<TcpSocket*> pool) {
  for (TcpSocket* socket : pool) {
    if (socket->is_free() && socket->tcb().state() == TcpState::closed) return socket;
  }
  for (const TcpState lingering : {TcpState::time_wait, TcpState::fin_wait_2}) {
    for (TcpSocket* socket : pool) {
      if (!socket->is_free() && socket->tcb().state() == lingering && socket->reclaim()) {
        return socket;
      }
    }
  }
  return nullptr;
}

}  // namespace

TcpSocket::~TcpSocket() {
  if (iface_ != nullptr) iface_->unbind_tcp(*this);
}

void TcpSocket::detach() {
  iface_ = nullptr;
  notify();
}

bool TcpSocket::reclaim() {
  if (in_use_ || listener_ != nullptr) return false;
  if (iface_ != nullptr) iface_->unbind_tcp(*this);
  tcb_.abort();  // nothing is sent: the socket left the interface
  return true;
}

// --- TcpStream ---------------------------------------------------------------

Result<std::size_t> TcpStream::try_read(ByteSpan buffer) {
  if (socket_ == nullptr) return Status::failed_precondition();
  TcpControlBlock& tcb = socket_->tcb_;
  MOTE_TRY_ASSIGN(std::size_t n, tcb.receive(buffer));
  if (n != 0) {
    // The window may have opened enough for an update.
    if (socket_->iface_ != nullptr) socket_->iface_->request_poll();
    return n;
  }
  if (buffer.empty() || tcb.at_end()) return std::size_t{0};
  if (!tcb.is_open()) return Status::failed_precondition();
  return Status::unavailable();
}

Result<std::size_t> TcpStream::try_write(ConstByteSpan data) {
  if (socket_ == nullptr) return Status::failed_precondition();
  MOTE_TRY_ASSIGN(std::size_t n, socket_->tcb_.send(data));
  if (n == 0 && !data.empty()) return Status::unavailable();
  if (socket_->iface_ != nullptr) socket_->iface_->request_poll();
  return n;
}

async::Task<Result<std::size_t>> TcpStream::read(ByteSpan buffer) {
  for (;;) {
    Result<std::size_t> n = try_read(buffer);
    if (n.ok() || n.status().code() != StatusCode::unavailable) co_return n;
    co_await internal::SocketWaiter(socket_->rx_waker_);
  }
}

async::Task<Status> TcpStream::write(ConstByteSpan data) {
  while (!data.empty()) {
    Result<std::size_t> n = try_write(data);
    if (n.ok()) {
      data = data.subspan(*n);
      continue;
    }
    if (n.status().code() != StatusCode::unavailable) co_return n.status();
    co_await internal::SocketWaiter(socket_->tx_waker_);
  }
  co_return ok_status();
}

Status TcpStream::shutdown_write() {
  if (socket_ == nullptr) return Status::failed_precondition();
  MOTE_TRY(socket_->tcb_.error());
  socket_->tcb_.close();
  if (socket_->iface_ != nullptr) socket_->iface_->request_poll();
  return ok_status();
}

void TcpStream::close() {
  TcpSocket* socket = std::exchange(socket_, nullptr);
  if (socket == nullptr) return;
  TcpControlBlock& tcb = socket->tcb_;
  // As Linux: unread received data makes it a reset (RFC 1122 §4.2.2.13);
  // else a FIN after everything written, and the interface finishes the
  // close (and TIME-WAIT) on its own.
  if (tcb.receive_queued() != 0) {
    tcb.abort();
  } else {
    tcb.close();
  }
  tcb.set_held(false);
  socket->in_use_ = false;
  socket->listener_ = nullptr;
  if (socket->iface_ != nullptr) socket->iface_->request_poll();
}

Result<io::Endpoint> TcpStream::remote_endpoint() const {
  if (socket_ == nullptr) return Status::failed_precondition();
  const TcpEndpoint remote = socket_->tcb_.remote();
  return io::Endpoint{remote.address, remote.port};
}

Result<io::Endpoint> TcpStream::local_endpoint() const {
  if (socket_ == nullptr) return Status::failed_precondition();
  const TcpEndpoint local = socket_->tcb_.local();
  return io::Endpoint{local.address, local.port};
}

// --- TcpListener -------------------------------------------------------------

Status TcpListener::listen(std::uint16_t port) {
  if (port_ != 0) return Status::failed_precondition();
  return iface_.listen_tcp(*this, port);
}

void TcpListener::close() {
  if (port_ == 0) return;
  iface_.unlisten_tcp(*this);
  // Connections not accepted yet are reset.
  for (TcpSocket* socket : backlog_) {
    if (socket->listener_ == this) {
      socket->listener_ = nullptr;
      socket->tcb_.abort();
    }
  }
  iface_.request_poll();
  accept_waker_.wake();
}

TcpSocket* TcpListener::take_free() { return take_from_pool(backlog_); }

Result<TcpStream> TcpListener::try_accept() {
  if (port_ == 0) return Status::failed_precondition();
  for (TcpSocket* socket : backlog_) {
    if (socket->listener_ == this && !socket->in_use_ && socket->tcb_.is_synchronized()) {
      socket->listener_ = nullptr;
      return TcpStream(*socket);
    }
  }
  return Status::unavailable();
}

async::Task<Result<TcpStream>> TcpListener::accept() {
  for (;;) {
    Result<TcpStream> stream = try_accept();
    if (stream.ok() || stream.status().code() != StatusCode::unavailable) co_return stream;
    co_await internal::SocketWaiter(accept_waker_);
  }
}

Result<io::Endpoint> TcpListener::local_endpoint() const {
  if (port_ == 0) return Status::failed_precondition();
  return io::Endpoint{iface_.ipv4_address(), port_};
}

// --- TcpConnector ------------------------------------------------------------

async::Task<Result<TcpStream>> TcpConnector::connect(io::Endpoint remote) {
  TcpSocket* socket = take_from_pool(pool_);
  if (socket == nullptr) co_return Status::resource_exhausted();
  MOTE_CO_TRY(iface_.connect_tcp(*socket, remote, async::now()));
  // Held while the handshake runs; a cancelled connect resets it.
  TcpStream stream(*socket);
  for (;;) {
    const TcpControlBlock& tcb = socket->tcb();
    if (tcb.is_synchronized()) co_return stream;
    if (!tcb.is_open()) {
      const Status error = tcb.error();
      co_return error.ok() ? Status::failed_precondition() : error;
    }
    co_await internal::SocketWaiter(socket->tx_waker_);
  }
}

}  // namespace mote::net
