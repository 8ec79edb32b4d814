#include "mote/mqtt/properties.hpp"

#include <cstdint>

#include "mote/mqtt/topic.hpp"
#include "mote/mqtt/wire.hpp"

namespace mote::mqtt {
namespace {

using C = PropertyContext;
using T = PropertyType;

constexpr std::uint16_t bit(C context) {
  return static_cast<std::uint16_t>(1u << static_cast<unsigned>(context));
}

constexpr std::uint16_t kPublishAndWill = bit(C::publish) | bit(C::will);
constexpr std::uint16_t kEverywhere = (1u << 14) - 1;  // all fourteen contexts
// Reason String: every packet that has a reason code (§2.2.2.2).
constexpr std::uint16_t kWithReason = bit(C::connack) | bit(C::puback) | bit(C::pubrec) |
                                      bit(C::pubrel) | bit(C::pubcomp) | bit(C::suback) |
                                      bit(C::unsuback) | bit(C::disconnect) | bit(C::auth);

struct PropertyRule {
  std::uint8_t id;
  PropertyType type;
  std::uint16_t contexts;
};

// §2.2.2.2, the table of identifiers, types and packets.
constexpr PropertyRule kRules[] = {
    {0x01, T::byte, kPublishAndWill},
    {0x02, T::four_byte_integer, kPublishAndWill},
    {0x03, T::utf8_string, kPublishAndWill},
    {0x08, T::utf8_string, kPublishAndWill},
    {0x09, T::binary_data, kPublishAndWill},
    {0x0b, T::variable_byte_integer, bit(C::publish) | bit(C::subscribe)},
    {0x11, T::four_byte_integer, bit(C::connect) | bit(C::connack) | bit(C::disconnect)},
    {0x12, T::utf8_string, bit(C::connack)},
    {0x13, T::two_byte_integer, bit(C::connack)},
    {0x15, T::utf8_string, bit(C::connect) | bit(C::connack) | bit(C::auth)},
    {0x16, T::binary_data, bit(C::connect) | bit(C::connack) | bit(C::auth)},
    {0x17, T::byte, bit(C::connect)},
    {0x18, T::four_byte_integer, bit(C::will)},
    {0x19, T::byte, bit(C::connect)},
    {0x1a, T::utf8_string, bit(C::connack)},
    {0x1c, T::utf8_string, bit(C::connack) | bit(C::disconnect)},
    {0x1f, T::utf8_string, kWithReason},
    {0x21, T::two_byte_integer, bit(C::connect) | bit(C::connack)},
    {0x22, T::two_byte_integer, bit(C::connect) | bit(C::connack)},
    {0x23, T::two_byte_integer, bit(C::publish)},
    {0x24, T::byte, bit(C::connack)},
    {0x25, T::byte, bit(C::connack)},
    {0x26, T::utf8_string_pair, kEverywhere},
    {0x27, T::four_byte_integer, bit(C::connect) | bit(C::connack)},
    {0x28, T::byte, bit(C::connack)},
    {0x29, T::byte, bit(C::connack)},
    {0x2a, T::byte, bit(C::connack)},
};

const PropertyRule* rule_for(std::uint8_t id) {
  for (const PropertyRule& rule : kRules) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

// Reads one property whose identifier is known; errors are Malformed Packet.
std::optional<DecodeError> read_property(FieldReader& reader, Property& out) {
  std::uint32_t id = 0;
  if (auto error = reader.variable_byte_integer(id)) return error;
  // §2.2.2.2: "Although the Property Identifier is defined as a Variable
  // Byte Integer, in this version of the specification all of the Property
  // Identifiers are one byte long." A longer one is not a known identifier.
  const PropertyRule* rule = id <= 0x7f ? rule_for(static_cast<std::uint8_t>(id)) : nullptr;
  if (rule == nullptr) return DecodeError{ReasonCode::malformed_packet, "unknown property"};
  out = Property{};
  out.id = static_cast<PropertyId>(id);
  switch (rule->type) {
    case T::byte: {
      std::uint8_t value = 0;
      if (auto error = reader.u8(value)) return error;
      out.integer = value;
      return std::nullopt;
    }
    case T::two_byte_integer: {
      std::uint16_t value = 0;
      if (auto error = reader.u16(value)) return error;
      out.integer = value;
      return std::nullopt;
    }
    case T::four_byte_integer: return reader.u32(out.integer);
    case T::variable_byte_integer: return reader.variable_byte_integer(out.integer);
    case T::utf8_string: return reader.string(out.string);
    case T::binary_data: return reader.binary(out.binary);
    case T::utf8_string_pair:
      if (auto error = reader.string(out.string)) return error;
      return reader.string(out.value);
  }
  return DecodeError{ReasonCode::malformed_packet, "unknown property"};
}

// The value rules of §3: protocol errors, except a Topic Alias of 0.
std::optional<DecodeError> check_value(const Property& property) {
  constexpr DecodeError kNotBoolean{ReasonCode::protocol_error, "property must be 0 or 1"};
  switch (property.id) {
    case PropertyId::payload_format_indicator:           // §3.3.2.3.2
    case PropertyId::request_problem_information:        // §3.1.2.11.7
    case PropertyId::request_response_information:       // §3.1.2.11.6
    case PropertyId::maximum_qos:                        // §3.2.2.3.4
    case PropertyId::retain_available:                   // §3.2.2.3.5
    case PropertyId::wildcard_subscription_available:    // §3.2.2.3.11
    case PropertyId::subscription_identifier_available:  // §3.2.2.3.12
    case PropertyId::shared_subscription_available:      // §3.2.2.3.13
      if (property.integer > 1) return kNotBoolean;
      return std::nullopt;
    case PropertyId::receive_maximum:  // §3.1.2.11.3, §3.2.2.3.3
      if (property.integer == 0)
        return DecodeError{ReasonCode::protocol_error, "Receive Maximum of 0"};
      return std::nullopt;
    case PropertyId::maximum_packet_size:  // §3.1.2.11.4, §3.2.2.3.6
      if (property.integer == 0) {
        return DecodeError{ReasonCode::protocol_error, "Maximum Packet Size of 0"};
      }
      return std::nullopt;
    case PropertyId::subscription_identifier:  // §3.8.2.1.2
      if (property.integer == 0) {
        return DecodeError{ReasonCode::protocol_error, "Subscription Identifier of 0"};
      }
      return std::nullopt;
    case PropertyId::topic_alias:  // §3.3.2.3.4
      if (property.integer == 0)
        return DecodeError{ReasonCode::topic_alias_invalid, "Topic Alias of 0"};
      return std::nullopt;
    default: return std::nullopt;
  }
}

bool may_repeat(PropertyId id, PropertyContext context) {
  // §3.3.2.3.8: a PUBLISH carries one Subscription Identifier per matching subscription.
  return id == PropertyId::user_property ||
         (id == PropertyId::subscription_identifier && context == C::publish);
}

}  // namespace

std::optional<PropertyType> property_type(std::uint8_t id) {
  const PropertyRule* rule = rule_for(id);
  if (rule == nullptr) return std::nullopt;
  return rule->type;
}

bool is_property_allowed(PropertyId id, PropertyContext context) {
  const PropertyRule* rule = rule_for(static_cast<std::uint8_t>(id));
  return rule != nullptr && (rule->contexts & bit(context)) != 0;
}

std::optional<DecodeError> check_properties(ConstByteSpan bytes, PropertyContext context) {
  FieldReader reader(bytes);
  std::uint64_t seen = 0;
  while (!reader.empty()) {
    Property property;
    if (auto error = read_property(reader, property)) return error;
    if (!is_property_allowed(property.id, context)) {
      // §2.2.2.2: "A Control Packet which contains an Identifier which is
      // not valid for its packet type ... is a Malformed Packet."
      return DecodeError{ReasonCode::malformed_packet, "property not allowed in this packet"};
    }
    const std::uint64_t mask = std::uint64_t{1} << static_cast<unsigned>(property.id);
    if ((seen & mask) != 0 && !may_repeat(property.id, context)) {
      return DecodeError{ReasonCode::protocol_error, "property appears twice"};
    }
    seen |= mask;
    if (auto error = check_value(property)) return error;
  }
  return std::nullopt;
}

Properties::Iterator::Iterator(ConstByteSpan bytes, std::size_t position)
    : bytes_(bytes), position_(position) {
  load();
}

void Properties::Iterator::load() {
  if (position_ >= bytes_.size()) {
    position_ = bytes_.size();
    return;
  }
  FieldReader reader(bytes_.subspan(position_));
  if (read_property(reader, current_).has_value()) {
    position_ = bytes_.size();  // unreachable for checked bytes; end rather than loop
    return;
  }
  next_ = bytes_.size() - reader.remaining();
}

Properties::Iterator& Properties::Iterator::operator++() {
  position_ = next_;
  load();
  return *this;
}

std::optional<Property> Properties::find(PropertyId id) const {
  for (const Property& property : *this) {
    if (property.id == id) return property;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> Properties::integer(PropertyId id) const {
  std::optional<Property> property = find(id);
  if (!property) return std::nullopt;
  return property->integer;
}

std::optional<std::string_view> Properties::string(PropertyId id) const {
  std::optional<Property> property = find(id);
  if (!property) return std::nullopt;
  return property->string;
}

namespace {

Status write_string(ByteWriter& writer, std::string_view text) {
  if (text.size() > 0xffff || !is_valid_utf8(text)) return Status::invalid_argument();
  MOTE_TRY(writer.write_be16(static_cast<std::uint16_t>(text.size())));
  return writer.write_bytes(bytes_of(text));
}

}  // namespace

PropertyBuilder& PropertyBuilder::add(const Property& property) {
  if (!status_.ok()) return *this;
  const PropertyRule* rule = rule_for(static_cast<std::uint8_t>(property.id));
  if (rule == nullptr) {
    status_ = Status::invalid_argument();
    return *this;
  }
  Status status = writer_.write_u8(static_cast<std::uint8_t>(property.id));
  if (status.ok()) {
    switch (rule->type) {
      case T::byte:
        status = property.integer > 0xff
                     ? Status::invalid_argument()
                     : writer_.write_u8(static_cast<std::uint8_t>(property.integer));
        break;
      case T::two_byte_integer:
        status = property.integer > 0xffff
                     ? Status::invalid_argument()
                     : writer_.write_be16(static_cast<std::uint16_t>(property.integer));
        break;
      case T::four_byte_integer: status = writer_.write_be32(property.integer); break;
      case T::variable_byte_integer:
        status = write_variable_byte_integer(writer_, property.integer);
        break;
      case T::utf8_string: status = write_string(writer_, property.string); break;
      case T::binary_data:
        if (property.binary.size() > 0xffff) {
          status = Status::invalid_argument();
        } else {
          status = writer_.write_be16(static_cast<std::uint16_t>(property.binary.size()));
          if (status.ok()) status = writer_.write_bytes(property.binary);
        }
        break;
      case T::utf8_string_pair:
        status = write_string(writer_, property.string);
        if (status.ok()) status = write_string(writer_, property.value);
        break;
    }
  }
  if (!status.ok()) status_ = status;  // properties() reports it; the partial bytes are never used
  return *this;
}

PropertyBuilder& PropertyBuilder::add_integer(PropertyId id, std::uint32_t value) {
  const std::optional<PropertyType> type = property_type(static_cast<std::uint8_t>(id));
  if (type != T::byte && type != T::two_byte_integer && type != T::four_byte_integer &&
      type != T::variable_byte_integer) {
    status_ = Status::invalid_argument();
    return *this;
  }
  Property property;
  property.id = id;
  property.integer = value;
  return add(property);
}

PropertyBuilder& PropertyBuilder::add_string(PropertyId id, std::string_view value) {
  if (property_type(static_cast<std::uint8_t>(id)) != T::utf8_string) {
    status_ = Status::invalid_argument();
    return *this;
  }
  Property property;
  property.id = id;
  property.string = value;
  return add(property);
}

PropertyBuilder& PropertyBuilder::add_binary(PropertyId id, ConstByteSpan value) {
  if (property_type(static_cast<std::uint8_t>(id)) != T::binary_data) {
    status_ = Status::invalid_argument();
    return *this;
  }
  Property property;
  property.id = id;
  property.binary = value;
  return add(property);
}

PropertyBuilder& PropertyBuilder::add_user_property(std::string_view name, std::string_view value) {
  Property property;
  property.id = PropertyId::user_property;
  property.string = name;
  property.value = value;
  return add(property);
}

Result<Properties> PropertyBuilder::properties() const {
  if (!status_.ok()) return status_;
  return Properties::unchecked(writer_.written());
}

}  // namespace mote::mqtt
