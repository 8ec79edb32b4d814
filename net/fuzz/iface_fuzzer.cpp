// Drives an Interface with arbitrary frames, time steps and socket sends
// (checksums ignored on input, so mutations reach the upper layers), and
// checks what it sends back: every frame it emits parses as Ethernet with
// ARP or IPv4 inside, checksums verified, and no more than one MTU. A TCP
// connection to 192.168.69.105:80 is opened first, so that segments and
// ICMP errors quoting them have a connection to reach.
//
// Input: records of [op (1 byte)][length (2 bytes, big-endian)][bytes]:
//   op % 4 == 0  a received frame (the bytes)
//   op % 4 == 1  time passes: `length` milliseconds (no bytes follow)
//   op % 4 == 2  the UDP socket sends the bytes to 192.168.69.105:(op)
//   op % 4 == 3  the UDP socket's queue is read out
// Seeds: net/corpus/net_iface_fuzzer/, captured frames as op-0 records.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "mote/net/iface/interface.hpp"
#include "mote/net/socket/tcp_socket.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/wire/wire.hpp"

namespace {

using namespace mote;
using namespace mote::net;

void check_sent(ConstByteSpan frame) {
  if (frame.empty()) return;
  if (frame.size() > 1514) std::abort();
  auto ethernet = wire::EthernetFrame<>::checked(frame);
  if (!ethernet.ok()) std::abort();
  if (ethernet->ethertype() == static_cast<std::uint16_t>(wire::EtherType::arp)) {
    auto arp = wire::ArpPacket<>::checked(ethernet->payload());
    if (!arp.ok() || !wire::ArpRepr::parse(*arp).ok()) std::abort();
    return;
  }
  auto packet = wire::Ipv4Packet<>::checked(ethernet->payload());
  if (!packet.ok()) std::abort();
  auto ip = wire::Ipv4Repr::parse(*packet);
  if (!ip.ok()) std::abort();
  if (ip->protocol == wire::IpProtocol::udp) {
    auto datagram = wire::UdpDatagram<>::checked(packet->payload());
    if (!datagram.ok() || !wire::UdpRepr::parse(*datagram, ip->source, ip->destination).ok()) {
      std::abort();
    }
  } else if (ip->protocol == wire::IpProtocol::tcp) {
    auto segment = wire::TcpSegment<>::checked(packet->payload());
    if (!segment.ok() || !wire::TcpRepr::parse(*segment, ip->source, ip->destination).ok()) {
      std::abort();
    }
  } else if (ip->protocol == wire::IpProtocol::icmp) {
    auto message = wire::Icmpv4Packet<>::checked(packet->payload());
    if (!message.ok() || !message->verify_checksum()) std::abort();
  } else {
    std::abort();  // the interface originates nothing else
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  InterfaceConfig config;
  config.hardware_address = wire::MacAddress(0x02, 0, 0, 0, 0, 0x05);
  config.rx_checksums = wire::ChecksumMode::ignore;
  StaticInterface<InterfaceLimits{.max_frame_len = 1514,
                                  .neighbours = 4,
                                  .pending_bytes = 1024,
                                  .reassembly_slots = 2,
                                  .reassembly_bytes = 4096,
                                  .udp_sockets = 2}>
      iface({Medium::ethernet, 1500}, config);
  if (!iface.set_ipv4_address(io::Ipv4Address(192, 168, 69, 1), 24).ok()) std::abort();
  if (!iface.set_default_gateway(io::Ipv4Address(192, 168, 69, 254)).ok()) std::abort();
  StaticUdpSocket<2048, 2048> socket;
  if (!socket.bind(iface, 9).ok()) std::abort();

  std::array<std::byte, 1514> tx{};
  std::array<std::byte, 256> buffer{};
  Instant now = Instant{} + std::chrono::seconds(100);
  StaticTcpSocket<1024, 1024> tcp;
  if (!iface.connect_tcp(tcp, io::Endpoint{io::Ipv4Address(192, 168, 69, 105), 80}, now).ok()) {
    std::abort();
  }
  const ConstByteSpan input = bytes_of(std::span(data, size));
  std::size_t at = 0;
  while (at + 3 <= input.size()) {
    const auto op = std::to_integer<std::uint8_t>(input[at]);
    const std::size_t field = load_be16(&input[at + 1]);
    const std::size_t len = op % 4 == 1 ? 0 : std::min(field, input.size() - at - 3);
    const ConstByteSpan bytes = input.subspan(at + 3, len);
    at += 3 + len;
    switch (op % 4) {
      case 0: check_sent(ConstByteSpan(tx).first(iface.receive_frame(now, bytes, tx))); break;
      case 1: now += std::chrono::milliseconds(field); break;
      case 2:
        static_cast<void>(
            socket.try_send_to(bytes, io::Endpoint{io::Ipv4Address(192, 168, 69, 105), op}));
        break;
      default:
        while (socket.try_receive_from(buffer).ok()) {
        }
        break;
    }
    // Whatever the interface wants to send now.
    for (int i = 0; i < 16; ++i) {
      const std::size_t sent = iface.next_frame(now, tx);
      if (sent == 0) break;
      check_sent(ConstByteSpan(tx).first(sent));
    }
    if (iface.poll_at(now) < now) std::abort();
  }
  return 0;
}
