#include "mote/mqtt/client.hpp"

namespace mote::mqtt {

Status status_of_refusal(ReasonCode reason) {
  switch (reason) {
    case ReasonCode::bad_user_name_or_password: return Status::unauthenticated();
    case ReasonCode::not_authorized:
    case ReasonCode::banned: return Status::permission_denied();
    case ReasonCode::unsupported_protocol_version:
    case ReasonCode::client_identifier_not_valid:
    case ReasonCode::bad_authentication_method:
    case ReasonCode::malformed_packet:
    case ReasonCode::protocol_error:
    case ReasonCode::topic_name_invalid:
    case ReasonCode::packet_too_large:
    case ReasonCode::payload_format_invalid:
    case ReasonCode::retain_not_supported:
    case ReasonCode::qos_not_supported: return Status::invalid_argument();
    default: return Status::unavailable();
  }
}

bool is_transient_refusal(ReasonCode reason) {
  return status_of_refusal(reason) == Status::unavailable();
}

std::optional<std::size_t> message_expiry_offset(ConstByteSpan properties) {
  std::size_t at = 0;
  const auto length_at = [&](std::size_t position) -> std::size_t {
    if (position + 2 > properties.size()) return properties.size();
    return (std::to_integer<std::size_t>(properties[position]) << 8) |
           std::to_integer<std::size_t>(properties[position + 1]);
  };
  while (at < properties.size()) {
    // Every identifier §2.2.2.2 defines is below 128: one byte.
    const auto id = std::to_integer<std::uint8_t>(properties[at++]);
    const std::optional<PropertyType> type = property_type(id);
    if (!type) return std::nullopt;
    if (id == static_cast<std::uint8_t>(PropertyId::message_expiry_interval)) {
      return at + 4 <= properties.size() ? std::optional<std::size_t>(at) : std::nullopt;
    }
    switch (*type) {
      case PropertyType::byte: at += 1; break;
      case PropertyType::two_byte_integer: at += 2; break;
      case PropertyType::four_byte_integer: at += 4; break;
      case PropertyType::variable_byte_integer:
        while (at < properties.size() &&
               (std::to_integer<std::uint8_t>(properties[at]) & 0x80) != 0) {
          ++at;
        }
        ++at;
        break;
      case PropertyType::utf8_string:
      case PropertyType::binary_data: at += 2 + length_at(at); break;
      case PropertyType::utf8_string_pair: {
        at += 2 + length_at(at);
        at += 2 + length_at(at);
        break;
      }
    }
  }
  return std::nullopt;
}

}  // namespace mote::mqtt
