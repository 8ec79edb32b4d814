#pragma once
// MQTT's data representations (§1.5): Variable Byte Integers, Two Byte
// Integers, UTF-8 Encoded Strings, Binary Data. The codec and the property
// code share these; a broker or client rarely needs them directly.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/mqtt/types.hpp"

namespace mote::mqtt {

// Bytes a Variable Byte Integer takes (1..4). Precondition: value <= kMaxVariableByteInteger.
[[nodiscard]] constexpr std::size_t variable_byte_integer_size(std::uint32_t value) {
  return value < 128u ? 1 : value < 16'384u ? 2 : value < 2'097'152u ? 3 : 4;
}

// What reading a Variable Byte Integer found.
struct VariableByteInteger {
  std::uint32_t value = 0;
  std::size_t size = 0;  // 0: the bytes end before the integer does
};
// §1.5.5: at most four bytes, and the minimum number of bytes for the value
// [MQTT-1.5.5-1]; either breach is a Malformed Packet. A prefix of a valid
// encoding gives size 0.
DecodeResult<VariableByteInteger> read_variable_byte_integer(ConstByteSpan bytes);

// Writes `value` (<= kMaxVariableByteInteger) in its minimal form.
Status write_variable_byte_integer(ByteWriter& writer, std::uint32_t value);

// Readers that turn a short read into a Malformed Packet and check UTF-8.
class FieldReader {
 public:
  explicit FieldReader(ConstByteSpan bytes) : reader_(bytes) {}

  [[nodiscard]] std::size_t remaining() const { return reader_.remaining(); }
  [[nodiscard]] bool empty() const { return reader_.empty(); }

  std::optional<DecodeError> u8(std::uint8_t& out);
  std::optional<DecodeError> u16(std::uint16_t& out);
  std::optional<DecodeError> u32(std::uint32_t& out);
  std::optional<DecodeError> variable_byte_integer(std::uint32_t& out);
  // §1.5.4: a two-byte length, then that many bytes of valid UTF-8.
  std::optional<DecodeError> string(std::string_view& out);
  // §1.5.6.
  std::optional<DecodeError> binary(BinaryData& out);
  std::optional<DecodeError> bytes(std::size_t count, ConstByteSpan& out);
  ConstByteSpan rest();

 private:
  ByteReader reader_;
};

}  // namespace mote::mqtt
