#pragma once
// Cuts the layers out of a captured frame with fixed offsets, independently
// of the views under test. Every captured IPv4 header is 20 bytes long.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mote/base/bytes.hpp"

namespace mote::net::wire::testdata {

inline ConstByteSpan frame_of(std::span<const std::uint8_t> frame) { return bytes_of(frame); }

// The IPv4 packet, without any Ethernet padding after its Total Length.
inline ConstByteSpan ipv4_of(std::span<const std::uint8_t> frame) {
  const ConstByteSpan bytes = bytes_of(frame).subspan(14);
  return bytes.first(load_be16(bytes.data() + 2));
}
// The IPv4 payload: an ICMP message, a UDP datagram or a TCP segment.
inline ConstByteSpan transport_of(std::span<const std::uint8_t> frame) {
  return ipv4_of(frame).subspan(20);
}
// A UDP datagram's payload.
inline ConstByteSpan udp_payload_of(std::span<const std::uint8_t> frame) {
  const ConstByteSpan datagram = transport_of(frame);
  return datagram.subspan(8, load_be16(datagram.data() + 4) - 8u);
}

// A modifiable copy, for corrupting a field.
inline std::vector<std::byte> copy_of(ConstByteSpan bytes) {
  return std::vector<std::byte>(bytes.begin(), bytes.end());
}

}  // namespace mote::net::wire::testdata
