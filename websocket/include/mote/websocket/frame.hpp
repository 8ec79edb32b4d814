#pragma once
// WebSocket frames (RFC 6455 §5): the header codec and masking. Pure
// functions over bytes, freestanding, no heap.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-------+-+-------------+-------------------------------+
//   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//   | |1|2|3|       |K|             |                               |
//   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//   |     Extended payload length continued, if payload len == 127  |
//   + - - - - - - - - - - - - - - - +-------------------------------+
//   |                               |Masking-key, if MASK set to 1  |
//   +-------------------------------+-------------------------------+

#include <array>
#include <cstddef>
#include <cstdint>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"

namespace mote::websocket {

// RFC 6455 §5.2 / §11.8. Opcodes 3-7 and 11-15 are reserved.
enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Control frames have the most significant opcode bit set (§5.5).
[[nodiscard]] constexpr bool is_control(Opcode opcode) {
  return (static_cast<std::uint8_t>(opcode) & 0x8u) != 0;
}

// The RSV bits as they sit in the first header byte.
inline constexpr std::uint8_t kRsv1 = 0x40;
inline constexpr std::uint8_t kRsv2 = 0x20;
inline constexpr std::uint8_t kRsv3 = 0x10;

inline constexpr std::size_t kMaxFrameHeaderSize = 14;  // 2 + 8 (length) + 4 (mask)
// §5.5: "All control frames MUST have a payload length of 125 bytes or less".
inline constexpr std::size_t kMaxControlPayload = 125;

using MaskKey = std::array<std::byte, 4>;

struct FrameHeader {
  bool fin = true;
  std::uint8_t rsv = 0;  // kRsv1 | kRsv2 | kRsv3, as negotiated by extensions
  Opcode opcode = Opcode::binary;
  bool masked = false;
  MaskKey mask_key{};
  std::uint64_t payload_length = 0;

  // The size of this header on the wire (always the minimal encoding).
  [[nodiscard]] std::size_t encoded_size() const;
};

// Who is reading: a server requires masked frames, a client forbids them
// (§5.1: "a client MUST mask all frames that it sends to the server", "A
// server MUST NOT mask any frames that it sends to the client").
enum class Role : std::uint8_t { client, server };

// What a received header may contain.
struct FrameRules {
  Role receiver = Role::server;
  // RSV bits an extension negotiated (permessage-deflate: kRsv1); others are
  // protocol errors (§5.2: "MUST be 0 unless an extension is negotiated").
  std::uint8_t allowed_rsv = 0;
};

// Why a header was refused; every one is a protocol error (close code 1002).
enum class FrameError : std::uint8_t {
  none,
  reserved_opcode,        // opcode 3-7 or 11-15
  reserved_bit,           // an RSV bit no extension negotiated
  non_minimal_length,     // 16/64-bit length that fits a shorter form
  length_too_large,       // 64-bit length with the most significant bit set
  control_too_long,       // control frame payload > 125
  fragmented_control,     // control frame without FIN
  unmasked_client_frame,  // a server received an unmasked frame
  masked_server_frame,    // a client received a masked frame
};

[[nodiscard]] const char* to_string(FrameError error);

// The outcome of parse_frame_header.
struct FrameParse {
  FrameError error = FrameError::none;
  // Header bytes the frame occupies; 0 while incomplete (or on error).
  std::size_t header_size = 0;
  // While incomplete: how many bytes the header needs in total, as far as
  // the bytes so far tell (2, then the full size once the length form is known).
  std::size_t needed = 2;
  FrameHeader header;

  [[nodiscard]] bool complete() const { return header_size != 0; }
  [[nodiscard]] bool failed() const { return error != FrameError::none; }
};

// Parses the header at the start of `data`. Checks everything a header can
// violate on its own; whether a continuation frame may come now is the
// connection's business (it knows whether a message is open).
[[nodiscard]] FrameParse parse_frame_header(ConstByteSpan data, const FrameRules& rules);

// Writes `header` (minimal length encoding) to `out`. invalid_argument: a
// control frame longer than 125 bytes or without FIN, a reserved opcode
// value, RSV bits outside kRsv1..3, or a length with bit 63 set;
// resource_exhausted: `out` is too small (nothing written).
Result<std::size_t> encode_frame_header(const FrameHeader& header, ByteSpan out);

// XORs `data` with the mask key in place (§5.3), `offset` being the
// position of data[0] within the frame's payload, so a payload can be
// (un)masked in pieces. Masking and unmasking are the same operation.
void apply_mask(ByteSpan data, const MaskKey& key, std::uint64_t offset = 0);

// Copies `in` to `out` (at least as large) masked.
void copy_masked(ConstByteSpan in, ByteSpan out, const MaskKey& key, std::uint64_t offset = 0);

}  // namespace mote::websocket
