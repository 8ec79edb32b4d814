#pragma once
// The MQTT 3.1.1 / 5.0 codec: framing a byte stream into packets, decoding a
// packet into views of its bytes (no copy, no allocation) and encoding one
// into a caller's buffer, exactly sized. Freestanding. Clients and brokers
// share it.
//
//   // Receiving: keep appending to `buffer`, then
//   auto frame = frame_packet(received, max_packet_size);
//   if (!frame.ok()) -> send frame.error().reason (DISCONNECT), close
//   if (frame->size == 0) -> read more
//   auto packet = decode_packet(received.first(frame->size), version);
//   if (!packet.ok()) -> send packet.error().reason, close
//   ... use *packet (views into `received`) ..., then drop frame->size bytes.
//
//   // Sending:
//   MOTE_TRY_ASSIGN(std::size_t n, encode_packet(Publish{...}, version, buffer));

#include <cstddef>
#include <cstdint>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/mqtt/packets.hpp"
#include "mote/mqtt/types.hpp"

namespace mote::mqtt {

// Where the next packet of a stream ends.
struct Frame {
  std::size_t size = 0;         // the whole packet; 0: not all of it has arrived yet
  std::size_t header_size = 0;  // fixed header: type byte and Remaining Length (0 if unknown)
  std::uint32_t remaining_length = 0;
};

// Looks at the start of `received`. Errors: a Remaining Length longer than
// four bytes or not minimal (Malformed Packet, §1.5.5); a packet larger than
// `max_packet_size` — known as soon as its Remaining Length is, before the
// packet has arrived — is Packet too large (§3.1.2.11.4, §3.2.2.3.6).
DecodeResult<Frame> frame_packet(ConstByteSpan received,
                                 std::size_t max_packet_size = kMaxPacketSize);

// Decodes exactly one whole packet (`packet`: what frame_packet framed).
// CONNECT is read whatever `version` says (it carries its own); every other
// packet is read as `version`, the one CONNECT agreed. Every rule of the
// spec a packet can break on its own is checked: fixed-header flags (§2.1.3),
// lengths, UTF-8 (§1.5.4), topic names and filters (§4.7), properties
// (§2.2.2), reason codes, packet identifiers (§2.2.1), QoS and option bits.
// The error names the reason code to send. The result's views point into `packet`.
DecodeResult<Packet> decode_packet(ConstByteSpan packet, ProtocolVersion version);

// The encoded size of `packet`, or invalid_argument if it cannot be encoded
// as `version` (the same rules decode_packet checks, plus: properties,
// AUTH, and reason codes 3.1.1 has no way to say need MQTT 5).
Result<std::size_t> encoded_size(const Packet& packet, ProtocolVersion version);
// Writes `packet` at the start of `out` and returns its size;
// resource_exhausted (nothing meaningful written) when `out` is too small.
Result<std::size_t> encode_packet(const Packet& packet, ProtocolVersion version, ByteSpan out);

}  // namespace mote::mqtt
