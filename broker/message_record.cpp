#include "mote/broker/message_record.hpp"

#include <string>

#include "mote/base/bytes.hpp"

namespace mote::broker {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kRetain = 1U << 2U;
constexpr std::uint8_t kPayloadFormat = 1U << 3U;
constexpr std::uint8_t kContentType = 1U << 4U;
constexpr std::uint8_t kResponseTopic = 1U << 5U;
constexpr std::uint8_t kCorrelationData = 1U << 6U;

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(value >> static_cast<unsigned>(shift)));
  }
}

template <typename Bytes>
void put_bytes(std::vector<std::uint8_t>& out, const Bytes& bytes) {
  put_u32(out, static_cast<std::uint32_t>(bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
}

Result<ConstByteSpan> read_field(ByteReader& reader) {
  const Result<std::uint32_t> length = reader.read_be32();
  if (!length.ok()) return Status::data_loss();
  const Result<ConstByteSpan> bytes = reader.read_bytes(*length);
  if (!bytes.ok()) return Status::data_loss();
  return *bytes;
}

Result<std::string> read_string(ByteReader& reader) {
  MOTE_TRY_ASSIGN(const ConstByteSpan bytes, read_field(reader));
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Result<std::vector<std::uint8_t>> read_blob(ByteReader& reader) {
  MOTE_TRY_ASSIGN(const ConstByteSpan bytes, read_field(reader));
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  return std::vector<std::uint8_t>(data, data + bytes.size());
}

}  // namespace

std::vector<std::uint8_t> encode_message_record(const Message& message) {
  std::vector<std::uint8_t> out;
  out.reserve(32 + message.topic.size() + message.payload.size());
  out.push_back(kVersion);
  auto flags = static_cast<std::uint8_t>(message.qos);
  if (message.retain) flags |= kRetain;
  if (message.payload_format) flags |= kPayloadFormat;
  if (message.content_type) flags |= kContentType;
  if (message.response_topic) flags |= kResponseTopic;
  if (message.correlation_data) flags |= kCorrelationData;
  out.push_back(flags);
  const auto expires = static_cast<std::uint64_t>(message.expires_at_ms);
  put_u32(out, static_cast<std::uint32_t>(expires >> 32U));
  put_u32(out, static_cast<std::uint32_t>(expires));
  if (message.payload_format) out.push_back(*message.payload_format);
  put_bytes(out, message.topic);
  put_bytes(out, message.payload);
  if (message.content_type) put_bytes(out, *message.content_type);
  if (message.response_topic) put_bytes(out, *message.response_topic);
  if (message.correlation_data) put_bytes(out, *message.correlation_data);
  put_u32(out, static_cast<std::uint32_t>(message.user_properties.size()));
  for (const UserProperty& property : message.user_properties) {
    put_bytes(out, property.name);
    put_bytes(out, property.value);
  }
  return out;
}

Result<Message> decode_message_record(std::span<const std::uint8_t> record) {
  ByteReader reader(bytes_of(record));
  Message message;
  const Result<std::uint8_t> version = reader.read_u8();
  const Result<std::uint8_t> flags = reader.read_u8();
  const Result<std::uint64_t> expires = reader.read_be64();
  if (!version.ok() || !flags.ok() || !expires.ok() || *version != kVersion) {
    return Status::data_loss();
  }
  if ((*flags & 3U) == 3U || (*flags & 0x80U) != 0) return Status::data_loss();
  message.qos = static_cast<QoS>(*flags & 3U);
  message.retain = (*flags & kRetain) != 0;
  message.expires_at_ms = static_cast<std::int64_t>(*expires);
  if ((*flags & kPayloadFormat) != 0) {
    const Result<std::uint8_t> format = reader.read_u8();
    if (!format.ok()) return Status::data_loss();
    message.payload_format = *format;
  }
  MOTE_TRY_ASSIGN(message.topic, read_string(reader));
  MOTE_TRY_ASSIGN(message.payload, read_blob(reader));
  if ((*flags & kContentType) != 0) {
    MOTE_TRY_ASSIGN(message.content_type, read_string(reader));
  }
  if ((*flags & kResponseTopic) != 0) {
    MOTE_TRY_ASSIGN(message.response_topic, read_string(reader));
  }
  if ((*flags & kCorrelationData) != 0) {
    MOTE_TRY_ASSIGN(message.correlation_data, read_blob(reader));
  }
  const Result<std::uint32_t> count = reader.read_be32();
  if (!count.ok()) return Status::data_loss();
  // Each property takes at least 8 bytes: a count past that is damage, and
  // checking first keeps a damaged count from reserving gigabytes.
  if (*count > reader.remaining() / 8) return Status::data_loss();
  message.user_properties.reserve(*count);
  for (std::uint32_t i = 0; i < *count; ++i) {
    UserProperty property;
    MOTE_TRY_ASSIGN(property.name, read_string(reader));
    MOTE_TRY_ASSIGN(property.value, read_string(reader));
    message.user_properties.push_back(std::move(property));
  }
  if (!reader.empty()) return Status::data_loss();
  return message;
}

}  // namespace mote::broker
