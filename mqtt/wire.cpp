#include "mote/mqtt/wire.hpp"

#include "mote/mqtt/topic.hpp"

namespace mote::mqtt {

DecodeResult<VariableByteInteger> read_variable_byte_integer(ConstByteSpan bytes) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i == bytes.size()) return VariableByteInteger{0, 0};
    const auto byte = std::to_integer<std::uint32_t>(bytes[i]);
    value |= (byte & 0x7fu) << (7 * i);
    if ((byte & 0x80u) == 0) {
      // [MQTT-1.5.5-1]: a last byte of zero after others pads the value.
      if (i > 0 && byte == 0)
        return DecodeError{ReasonCode::malformed_packet, "non-minimal variable byte integer"};
      return VariableByteInteger{value, i + 1};
    }
  }
  return DecodeError{ReasonCode::malformed_packet, "variable byte integer longer than 4 bytes"};
}

Status write_variable_byte_integer(ByteWriter& writer, std::uint32_t value) {
  if (value > kMaxVariableByteInteger) return Status::invalid_argument();
  if (writer.remaining() < variable_byte_integer_size(value)) return Status::resource_exhausted();
  do {
    auto byte = static_cast<std::uint8_t>(value & 0x7fu);
    value >>= 7;
    if (value != 0) byte |= 0x80u;
    static_cast<void>(writer.write_u8(byte));
  } while (value != 0);
  return ok_status();
}

namespace {
constexpr DecodeError kTruncated{ReasonCode::malformed_packet, "field runs past the packet"};
}

std::optional<DecodeError> FieldReader::u8(std::uint8_t& out) {
  Result<std::uint8_t> value = reader_.read_u8();
  if (!value.ok()) return kTruncated;
  out = *value;
  return std::nullopt;
}

std::optional<DecodeError> FieldReader::u16(std::uint16_t& out) {
  Result<std::uint16_t> value = reader_.read_be16();
  if (!value.ok()) return kTruncated;
  out = *value;
  return std::nullopt;
}

std::optional<DecodeError> FieldReader::u32(std::uint32_t& out) {
  Result<std::uint32_t> value = reader_.read_be32();
  if (!value.ok()) return kTruncated;
  out = *value;
  return std::nullopt;
}

std::optional<DecodeError> FieldReader::variable_byte_integer(std::uint32_t& out) {
  DecodeResult<VariableByteInteger> vbi = read_variable_byte_integer(reader_.unread());
  if (!vbi.ok()) return vbi.error();
  if (vbi->size == 0) return kTruncated;
  static_cast<void>(reader_.skip(vbi->size));
  out = vbi->value;
  return std::nullopt;
}

std::optional<DecodeError> FieldReader::string(std::string_view& out) {
  ConstByteSpan bytes;
  std::uint16_t length = 0;
  if (auto error = u16(length)) return error;
  if (auto error = this->bytes(length, bytes)) return error;
  out = as_string_view(bytes);
  if (!is_valid_utf8(out))
    return DecodeError{ReasonCode::malformed_packet, "string is not valid UTF-8"};
  return std::nullopt;
}

std::optional<DecodeError> FieldReader::binary(BinaryData& out) {
  std::uint16_t length = 0;
  if (auto error = u16(length)) return error;
  ConstByteSpan bytes;
  if (auto error = this->bytes(length, bytes)) return error;
  out = bytes;
  return std::nullopt;
}

std::optional<DecodeError> FieldReader::bytes(std::size_t count, ConstByteSpan& out) {
  Result<ConstByteSpan> bytes = reader_.read_bytes(count);
  if (!bytes.ok()) return kTruncated;
  out = *bytes;
  return std::nullopt;
}

ConstByteSpan FieldReader::rest() {
  ConstByteSpan bytes = reader_.unread();
  static_cast<void>(reader_.skip(bytes.size()));
  return bytes;
}

}  // namespace mote::mqtt
