#include "mote/net/socket/udp_socket.hpp"

#include <cstring>

#include "mote/async/executor.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/socket/socket_waiter.hpp"

namespace mote::net {

Status UdpSocket::bind(Interface& iface, std::uint16_t port) {
  if (iface_ != nullptr) return Status::failed_precondition();
  MOTE_TRY(iface.bind_udp(*this, port));
  iface_ = &iface;
  return ok_status();
}

void UdpSocket::close() {
  if (iface_ != nullptr) iface_->unbind_udp(*this);
  detach();
}

void UdpSocket::detach() {
  iface_ = nullptr;
  port_ = 0;
  rx_.clear();
  tx_.clear();
  rx_waker_.wake();
  tx_waker_.wake();
}

Result<io::Endpoint> UdpSocket::local_endpoint() const {
  if (iface_ == nullptr) return Status::failed_precondition();
  return io::Endpoint{iface_->ipv4_address(), port_};
}

Status UdpSocket::try_send_to(ConstByteSpan data, io::Endpoint to) {
  if (iface_ == nullptr) return Status::failed_precondition();
  if (!to.address.is_v4() || to.port == 0) return Status::invalid_argument();
  const io::Ipv4Address destination = to.address.v4();
  MOTE_TRY(iface_->check_route(destination));
  if (data.size() > iface_->max_udp_payload() || !tx_.fits(data.size())) {
    return Status::resource_exhausted();
  }
  Result<ByteSpan> room = tx_.enqueue(data.size(), {destination, to.port});
  if (!room.ok()) return Status::unavailable();
  if (!data.empty()) std::memcpy(room->data(), data.data(), data.size());
  iface_->request_poll();
  return ok_status();
}

Result<io::Datagram> UdpSocket::try_receive_from(ByteSpan buffer) {
  if (iface_ == nullptr) return Status::failed_precondition();
  const std::optional<PacketRing::Packet> packet = rx_.peek();
  if (!packet) return Status::unavailable();
  io::Datagram datagram;
  datagram.size = std::min(buffer.size(), packet->payload.size());
  datagram.truncated = datagram.size < packet->payload.size();
  datagram.from = io::Endpoint{packet->meta.address, packet->meta.port};
  if (datagram.size != 0) std::memcpy(buffer.data(), packet->payload.data(), datagram.size);
  rx_.dequeue();
  return datagram;
}

async::Task<Status> UdpSocket::send_to(ConstByteSpan data, io::Endpoint to) {
  for (;;) {
    const Status status = try_send_to(data, to);
    if (status.code() != StatusCode::unavailable) co_return status;
    co_await internal::SocketWaiter(tx_waker_);
  }
}

async::Task<Result<io::Datagram>> UdpSocket::receive_from(ByteSpan buffer) {
  for (;;) {
    Result<io::Datagram> datagram = try_receive_from(buffer);
    if (datagram.ok() || datagram.status().code() != StatusCode::unavailable) co_return datagram;
    co_await internal::SocketWaiter(rx_waker_);
  }
}

bool UdpSocket::deliver(io::Ipv4Address from, std::uint16_t from_port, ConstByteSpan payload) {
  if (!rx_.push(payload, {from, from_port}).ok()) {
    ++rx_dropped_;
    return false;
  }
  rx_waker_.wake();
  return true;
}

}  // namespace mote::net
