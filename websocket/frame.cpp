#include "mote/websocket/frame.hpp"

namespace mote::websocket {
namespace {

constexpr bool is_known_opcode(std::uint8_t value) {
  return value <= 0x2 || (value >= 0x8 && value <= 0xA);
}

// §5.2: 0-125 in the 7 bits, 126 + 16 bits up to 65535, 127 + 64 bits above.
constexpr std::size_t length_field_size(std::uint64_t length) {
  if (length <= 125) return 0;
  if (length <= 0xffff) return 2;
  return 8;
}

}  // namespace

const char* to_string(FrameError error) {
  switch (error) {
    case FrameError::none: return "none";
    case FrameError::reserved_opcode: return "reserved opcode";
    case FrameError::reserved_bit: return "reserved bit set without an extension";
    case FrameError::non_minimal_length: return "payload length not minimally encoded";
    case FrameError::length_too_large: return "64-bit payload length with the top bit set";
    case FrameError::control_too_long: return "control frame payload over 125 bytes";
    case FrameError::fragmented_control: return "fragmented control frame";
    case FrameError::unmasked_client_frame: return "unmasked frame from a client";
    case FrameError::masked_server_frame: return "masked frame from a server";
  }
  return "unknown";
}

std::size_t FrameHeader::encoded_size() const {
  return 2 + length_field_size(payload_length) + (masked ? 4 : 0);
}

FrameParse parse_frame_header(ConstByteSpan data, const FrameRules& rules) {
  FrameParse parse;
  if (data.size() < 2) return parse;
  const auto first = std::to_integer<std::uint8_t>(data[0]);
  const auto second = std::to_integer<std::uint8_t>(data[1]);
  FrameHeader& header = parse.header;
  header.fin = (first & 0x80u) != 0;
  header.rsv = static_cast<std::uint8_t>(first & 0x70u);
  const auto opcode = static_cast<std::uint8_t>(first & 0x0fu);
  header.masked = (second & 0x80u) != 0;
  const auto length7 = static_cast<std::uint8_t>(second & 0x7fu);

  // Errors the first two bytes show are reported before waiting for more.
  auto fail = [&parse](FrameError error) {
    parse.error = error;
    parse.needed = 0;
    return parse;
  };
  if (!is_known_opcode(opcode)) return fail(FrameError::reserved_opcode);
  header.opcode = static_cast<Opcode>(opcode);
  if ((header.rsv & ~rules.allowed_rsv) != 0) return fail(FrameError::reserved_bit);
  if (is_control(header.opcode)) {
    if (!header.fin) return fail(FrameError::fragmented_control);
    if (length7 > kMaxControlPayload) return fail(FrameError::control_too_long);
  }
  if (rules.receiver == Role::server && !header.masked) {
    return fail(FrameError::unmasked_client_frame);
  }
  if (rules.receiver == Role::client && header.masked) {
    return fail(FrameError::masked_server_frame);
  }

  const std::size_t extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
  const std::size_t size = 2 + extended + (header.masked ? 4 : 0);
  if (data.size() < size) {
    parse.needed = size;
    return parse;
  }
  if (extended == 0) {
    header.payload_length = length7;
  } else if (extended == 2) {
    header.payload_length = load_be16(data.data() + 2);
    if (header.payload_length <= 125) return fail(FrameError::non_minimal_length);
  } else {
    header.payload_length = load_be64(data.data() + 2);
    // §5.2: "the most significant bit MUST be 0".
    if ((header.payload_length >> 63) != 0) return fail(FrameError::length_too_large);
    if (header.payload_length <= 0xffff) return fail(FrameError::non_minimal_length);
  }
  if (header.masked) {
    for (std::size_t i = 0; i < 4; ++i) header.mask_key[i] = data[2 + extended + i];
  }
  parse.header_size = size;
  parse.needed = size;
  return parse;
}

Result<std::size_t> encode_frame_header(const FrameHeader& header, ByteSpan out) {
  const auto opcode = static_cast<std::uint8_t>(header.opcode);
  if (!is_known_opcode(opcode) || (header.rsv & ~(kRsv1 | kRsv2 | kRsv3)) != 0 ||
      (header.payload_length >> 63) != 0) {
    return Status::invalid_argument();
  }
  if (is_control(header.opcode) && (!header.fin || header.payload_length > kMaxControlPayload)) {
    return Status::invalid_argument();
  }
  const std::size_t size = header.encoded_size();
  if (out.size() < size) return Status::resource_exhausted();
  out[0] = static_cast<std::byte>((header.fin ? 0x80u : 0u) | header.rsv | opcode);
  const std::uint8_t mask_bit = header.masked ? 0x80u : 0u;
  std::size_t at = 2;
  switch (length_field_size(header.payload_length)) {
    case 0: out[1] = static_cast<std::byte>(mask_bit | header.payload_length); break;
    case 2:
      out[1] = static_cast<std::byte>(mask_bit | 126u);
      store_be16(out.data() + 2, static_cast<std::uint16_t>(header.payload_length));
      at += 2;
      break;
    default:
      out[1] = static_cast<std::byte>(mask_bit | 127u);
      store_be64(out.data() + 2, header.payload_length);
      at += 8;
      break;
  }
  if (header.masked) {
    for (std::size_t i = 0; i < 4; ++i) out[at + i] = header.mask_key[i];
  }
  return size;
}

void apply_mask(ByteSpan data, const MaskKey& key, std::uint64_t offset) {
  const auto phase = static_cast<std::size_t>(offset & 3u);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] ^= key[(phase + i) & 3u];
}

void copy_masked(ConstByteSpan in, ByteSpan out, const MaskKey& key, std::uint64_t offset) {
  const auto phase = static_cast<std::size_t>(offset & 3u);
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = in[i] ^ key[(phase + i) & 3u];
}

}  // namespace mote::websocket
