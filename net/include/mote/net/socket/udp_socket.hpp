#pragma once
// UdpSocket: a UDP socket on mote's own stack (io::DatagramSocket), bound to
// a port of one Interface, with its receive and send queues in caller
// storage. Datagrams are queued whole (PacketRing): the receive queue holds
// what arrived until the application takes it, the send queue what the
// application sent until the interface puts it on the link.
//
//   StaticUdpSocket<2048, 2048> socket;          // 2 KiB each way
//   MOTE_TRY(socket.bind(iface, 5683));
//   Result<io::Datagram> got = co_await socket.receive_from(buffer);
//   MOTE_CO_TRY(co_await socket.send_to(reply, got->from));
//
// Operations (the rules of io/concepts.hpp):
//   send_to(data, to)  copies the datagram into the send queue and wakes the
//     interface's task. Wakes: room in the send queue. Cancels: destroying
//     the awaiter; nothing was queued. Buffers: `data` until it completes.
//     Errors: failed_precondition (not bound / closed), invalid_argument
//     (not IPv4, port 0, unspecified address), not_found (no route: no
//     address, or off-link without a gateway), resource_exhausted (larger
//     than the send queue or than one link MTU: mote does not fragment).
//   receive_from(buffer)  the oldest queued datagram; `truncated` when it
//     was longer than `buffer` (the rest is lost). Wakes: a datagram
//     arriving. Cancels: destroying the awaiter; nothing is taken.
//     Errors: failed_precondition (not bound / closed, also when closed
//     while waiting).
// One task may wait in send_to and one in receive_from at a time. A
// datagram arriving to a full receive queue is dropped (and counted).
//
// try_send_to / try_receive_from are the same without waiting
// (`unavailable` where the awaitable would wait), for code that polls.

#include <array>
#include <cstddef>
#include <cstdint>

#include "mote/async/executor.hpp"
#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/io/address.hpp"
#include "mote/io/concepts.hpp"
#include "mote/net/storage/packet_ring.hpp"

namespace mote::net {

class Interface;

class UdpSocket {
 public:
  UdpSocket(ByteSpan rx_storage, ByteSpan tx_storage) : rx_(rx_storage), tx_(tx_storage) {}
  ~UdpSocket() { close(); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // Binds to `port` on `iface` (0: a free ephemeral port, 49152..65535 as
  // RFC 6335 §6 suggests). Errors: already_exists (the port is taken),
  // resource_exhausted (the interface's socket table is full),
  // failed_precondition (already bound).
  Status bind(Interface& iface, std::uint16_t port);
  // Unbinds and drops whatever is queued; waiting operations complete with
  // failed_precondition.
  void close();
  [[nodiscard]] bool is_open() const { return iface_ != nullptr; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // The interface's address (0.0.0.0 while it has none) and the port.
  [[nodiscard]] Result<io::Endpoint> local_endpoint() const;

  async::Task<Status> send_to(ConstByteSpan data, io::Endpoint to);
  async::Task<Result<io::Datagram>> receive_from(ByteSpan buffer);
  Status try_send_to(ConstByteSpan data, io::Endpoint to);
  Result<io::Datagram> try_receive_from(ByteSpan buffer);

  [[nodiscard]] std::size_t rx_queued() const { return rx_.packet_count(); }
  [[nodiscard]] std::size_t tx_queued() const { return tx_.packet_count(); }
  [[nodiscard]] std::uint32_t rx_dropped() const { return rx_dropped_; }

  // --- For the Interface ---------------------------------------------------
  // Queues a received datagram; false (dropped) when the queue is full.
  bool deliver(io::Ipv4Address from, std::uint16_t from_port, ConstByteSpan payload);
  // The send queue, which the interface drains.
  [[nodiscard]] PacketRing& tx_queue() { return tx_; }
  // After the interface took a datagram from the send queue.
  void on_sent() { tx_waker_.wake(); }
  // The interface is going away.
  void detach();

 private:
  friend class Interface;

  Interface* iface_ = nullptr;
  std::uint16_t port_ = 0;
  PacketRing rx_;
  PacketRing tx_;
  async::Waker rx_waker_;
  async::Waker tx_waker_;
  std::uint32_t rx_dropped_ = 0;
};

// A UdpSocket with its queues inside.
template <std::size_t kRxBytes, std::size_t kTxBytes>
class StaticUdpSocket : private std::array<std::byte, kRxBytes + kTxBytes>, public UdpSocket {
  using Storage = std::array<std::byte, kRxBytes + kTxBytes>;

 public:
  StaticUdpSocket()
      : Storage{},
        UdpSocket(ByteSpan(static_cast<Storage&>(*this)).first(kRxBytes),
                  ByteSpan(static_cast<Storage&>(*this)).subspan(kRxBytes)) {}
};

static_assert(io::DatagramSocket<UdpSocket>);

}  // namespace mote::net
