#pragma once
// The DHCP client as a task: drives a DhcpClient (dhcp_client.hpp) over a
// datagram transport and hands each event to the application.
//
//   AsyncDhcpClient dhcp(transport, mac, random);
//   co_await dhcp.run([&](const DhcpEvent& event) { configure(iface, event); });
//
// The transport is any io::DatagramSocket with two more duties, which is
// why it is not just "a UDP socket": DHCP runs before the interface has an
// address. It must
//   - receive every UDP datagram to port 68 on the interface, broadcast or
//     unicast, whatever the interface's address (none, at first);
//   - send to 255.255.255.255:67 from 0.0.0.0:68 before the interface has an
//     address (RFC 2131 §4.1), and to a server's address once it has one.
// On mote's stack that is a UdpSocket bound to port 68 on an Interface with
// no address yet (net_dhcp_tap_test); on_event then gives the interface the
// leased address. The kernel's UDP sockets cannot send from 0.0.0.0 without
// raw sockets or an interface already up. Unit tests use an in-memory
// transport on the SimDriver.
//
// run():
//   Wakes: a datagram, the client's next timer (retransmission, T1, T2,
//   expiry) or decline().
//   Cancels: destroying the awaiter (stop the task); the lease, if any, is
//   kept in core() and nothing is sent. release() after that gives it back.
//   Returns only when the transport is closed (failed_precondition) or
//   fails to receive (its status). A message it cannot send counts as lost
//   on the way: the retransmission timers cover it.
//   `on_event` is called inside run(), in the task, for each DhcpEvent.

#include <array>
#include <cstddef>
#include <optional>
#include <utility>
#include <variant>

#include "mote/async/event.hpp"
#include "mote/async/join.hpp"
#include "mote/async/task.hpp"
#include "mote/io/concepts.hpp"
#include "mote/net/dhcp/dhcp_client.hpp"
#include "mote/net/receive_datagram.hpp"

namespace mote::net {

template <io::DatagramSocket Transport>
class AsyncDhcpClient {
 public:
  static constexpr std::uint16_t kServerPort = 67;
  static constexpr std::uint16_t kClientPort = 68;
  // RFC 2131 §2: "A DHCP client must be prepared to receive DHCP messages
  // with an 'options' field of at least length 312 octets", i.e. 576-byte
  // messages; larger ones are dropped.
  static constexpr std::size_t kMaxMessageLen = 576;

  // `transport` and `random` must outlive the client.
  AsyncDhcpClient(Transport& transport, wire::MacAddress hardware_address, RandomSource& random,
                  const DhcpClientConfig& config = {})
      : transport_(&transport), client_(hardware_address, random, config) {}
  AsyncDhcpClient(const AsyncDhcpClient&) = delete;
  AsyncDhcpClient& operator=(const AsyncDhcpClient&) = delete;

  // Starts the client (from INIT-REBOOT with a remembered address) and keeps
  // a lease until cancelled.
  template <typename OnEvent>
  async::Task<Status> run(OnEvent on_event,
                          std::optional<io::Ipv4Address> remembered_address = std::nullopt) {
    client_.start(async::now(), remembered_address);
    for (;;) {
      if (decline_requested_) {
        decline_requested_ = false;
        if (Result<DhcpTransmit> decline = client_.decline(async::now()); decline.ok()) {
          MOTE_CO_TRY(fatal_only(co_await send(*decline)));
        }
      }
      while (std::optional<DhcpTransmit> transmit = client_.poll(async::now())) {
        MOTE_CO_TRY(fatal_only(co_await send(*transmit)));
      }
      if (std::optional<DhcpEvent> event = client_.take_event()) on_event(*event);
      if (decline_requested_) continue;  // on_event declined at once

      Result<io::Datagram> received =
          co_await async::with_deadline(client_.poll_at(), next_datagram());
      if (!received.ok()) {
        const StatusCode code = received.status().code();
        if (code == StatusCode::deadline_exceeded || code == StatusCode::cancelled) continue;
        co_return received.status();
      }
      if (received->truncated || received->from.port != kServerPort) continue;
      Result<wire::DhcpPacket<>> packet =
          wire::DhcpPacket<>::checked(ConstByteSpan(rx_buffer_).first(received->size));
      if (!packet.ok()) continue;
      Result<wire::DhcpRepr> message = wire::DhcpRepr::parse(*packet);
      if (!message.ok()) continue;
      client_.handle(*message, async::now()).ignore_error();  // not for us: dropped
    }
  }

  // The interface found the leased address in use (its ARP check): run()
  // sends DECLINE and starts over after ten seconds (RFC 2131 §3.1.5). Call
  // from on_event or from another task.
  void decline() {
    decline_requested_ = true;
    wake_.set();
  }

  // Gives the lease back (RFC 2131 §4.4.6) once run() has been cancelled.
  // failed_precondition without a lease; the transport's status if it
  // could not send.
  async::Task<Status> release() {
    MOTE_CO_TRY_ASSIGN(const DhcpTransmit transmit, client_.release());
    co_return co_await send(transmit);
  }

  [[nodiscard]] DhcpClient& core() { return client_; }

 private:
  async::Task<Status> send(const DhcpTransmit& transmit) {
    MOTE_CO_TRY_ASSIGN(const std::size_t size, transmit.message.emit(tx_buffer_));
    const io::Endpoint server{transmit.destination, kServerPort};
    co_return co_await transport_->send_to(ConstByteSpan(tx_buffer_).first(size), server);
  }
  // In run(), a message that could not be sent is as good as lost on the
  // way (the timers retransmit); only a closed transport ends it.
  static Status fatal_only(Status sent) {
    return sent.code() == StatusCode::failed_precondition ? sent : ok_status();
  }

  // A datagram, or cancelled when decline() woke the loop.
  async::Task<Result<io::Datagram>> next_datagram() {
    wake_.reset();
    auto first = co_await async::select(receive_datagram(*transport_, rx_buffer_), woken());
    // get_if, not get: std::get's bad_variant_access path would pull abort()
    // into firmware.
    Result<io::Datagram>* received = std::get_if<0>(&first);
    if (received == nullptr) co_return Status::cancelled();
    co_return std::move(*received);
  }
  async::Task<void> woken() { co_await wake_.wait(); }

  Transport* transport_;
  DhcpClient client_;
  async::Event wake_;
  bool decline_requested_ = false;
  std::array<std::byte, kMaxMessageLen> rx_buffer_{};
  std::array<std::byte, kMaxMessageLen> tx_buffer_{};
};

}  // namespace mote::net
