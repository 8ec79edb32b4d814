#pragma once
// MQTT 5 properties (§2.2.2): a checked view over a packet's property bytes,
// read by iterating (User Property and, in PUBLISH, Subscription Identifier
// may repeat), and a builder that writes them into a caller's buffer.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/mqtt/types.hpp"

namespace mote::mqtt {

// §2.2.2.2.
enum class PropertyId : std::uint8_t {
  payload_format_indicator = 0x01,
  message_expiry_interval = 0x02,
  content_type = 0x03,
  response_topic = 0x08,
  correlation_data = 0x09,
  subscription_identifier = 0x0b,
  session_expiry_interval = 0x11,
  assigned_client_identifier = 0x12,
  server_keep_alive = 0x13,
  authentication_method = 0x15,
  authentication_data = 0x16,
  request_problem_information = 0x17,
  will_delay_interval = 0x18,
  request_response_information = 0x19,
  response_information = 0x1a,
  server_reference = 0x1c,
  reason_string = 0x1f,
  receive_maximum = 0x21,
  topic_alias_maximum = 0x22,
  topic_alias = 0x23,
  maximum_qos = 0x24,
  retain_available = 0x25,
  user_property = 0x26,
  maximum_packet_size = 0x27,
  wildcard_subscription_available = 0x28,
  subscription_identifier_available = 0x29,
  shared_subscription_available = 0x2a,
};

// §1.5: the data type each property has.
enum class PropertyType : std::uint8_t {
  byte,
  two_byte_integer,
  four_byte_integer,
  variable_byte_integer,
  utf8_string,
  binary_data,
  utf8_string_pair,
};

// The type of a known identifier; nullopt for identifiers §2.2.2.2 does not define.
std::optional<PropertyType> property_type(std::uint8_t id);

// Where a property block sits: each allows its own set (§2.2.2.2's table;
// the Will Properties of CONNECT have their own, §3.1.3.2).
enum class PropertyContext : std::uint8_t {
  connect,
  will,
  connack,
  publish,
  puback,
  pubrec,
  pubrel,
  pubcomp,
  subscribe,
  suback,
  unsubscribe,
  unsuback,
  disconnect,
  auth,
};
bool is_property_allowed(PropertyId id, PropertyContext context);

// One property. Integers of every width are in `integer`; a UTF-8 string in
// `string`; a User Property's name and value in `string` and `value`; Binary
// Data in `binary`. Views point into the packet bytes.
struct Property {
  PropertyId id = PropertyId::payload_format_indicator;
  std::uint32_t integer = 0;
  std::string_view string;
  std::string_view value;
  BinaryData binary;
  friend bool operator==(const Property&, const Property&) = default;
};

// Checks a property block (the bytes after its length): every property is
// known [malformed], allowed in `context` [malformed, §2.2.2.2], well formed
// (lengths, UTF-8) [malformed], appears once unless it may repeat [protocol
// error], and has a permitted value [protocol error; a Topic Alias of 0 is
// Topic Alias invalid, §3.3.2.3.4].
std::optional<DecodeError> check_properties(ConstByteSpan bytes, PropertyContext context);

// The properties of one packet: a view of checked property bytes.
class Properties {
 public:
  constexpr Properties() = default;
  // Bytes check_properties() accepted (the decoder and PropertyBuilder make sure).
  static constexpr Properties unchecked(ConstByteSpan bytes) {
    Properties properties;
    properties.bytes_ = bytes;
    return properties;
  }

  [[nodiscard]] constexpr ConstByteSpan bytes() const { return bytes_; }
  [[nodiscard]] constexpr bool empty() const { return bytes_.empty(); }

  class Iterator : public ViewIterator<Iterator, Property> {
   public:
    Iterator() = default;
    Iterator& operator++();
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.position_ == b.position_ && a.bytes_.data() == b.bytes_.data();
    }

   private:
    friend class Properties;
    Iterator(ConstByteSpan bytes, std::size_t position);
    void load();
    ConstByteSpan bytes_;
    std::size_t position_ = 0;  // of current_; bytes_.size() at the end
    std::size_t next_ = 0;      // of the property after current_
  };
  [[nodiscard]] Iterator begin() const { return {bytes_, 0}; }
  [[nodiscard]] Iterator end() const { return {bytes_, bytes_.size()}; }

  // The first property with `id`.
  [[nodiscard]] std::optional<Property> find(PropertyId id) const;
  // The integer value of `id`, if present.
  [[nodiscard]] std::optional<std::uint32_t> integer(PropertyId id) const;
  // The string value of `id`, if present.
  [[nodiscard]] std::optional<std::string_view> string(PropertyId id) const;

  friend bool operator==(const Properties& a, const Properties& b) {
    return BinaryData(a.bytes_) == BinaryData(b.bytes_);
  }

 private:
  ConstByteSpan bytes_;
};

// Writes properties into a caller's buffer. The first failure sticks and
// later adds do nothing: invalid_argument for a value of the wrong type for
// its identifier, a string that is not valid UTF-8 or longer than 65,535
// bytes, or an integer too big; resource_exhausted when the buffer is full.
// The rules between properties (repeats, what a packet allows) are checked
// when the packet is encoded.
//
//   std::array<std::byte, 64> storage;
//   PropertyBuilder builder(storage);
//   builder.add_integer(PropertyId::session_expiry_interval, 3600)
//          .add_user_property("site", "north");
//   MOTE_TRY_ASSIGN(Properties properties, builder.properties());
class PropertyBuilder {
 public:
  explicit PropertyBuilder(ByteSpan buffer) : writer_(buffer) {}

  PropertyBuilder& add_integer(PropertyId id, std::uint32_t value);
  PropertyBuilder& add_string(PropertyId id, std::string_view value);
  PropertyBuilder& add_binary(PropertyId id, ConstByteSpan value);
  PropertyBuilder& add_user_property(std::string_view name, std::string_view value);
  // Copies a property read from another packet (a broker forwarding a PUBLISH).
  PropertyBuilder& add(const Property& property);

  [[nodiscard]] Status status() const { return status_; }
  [[nodiscard]] Result<Properties> properties() const;

 private:
  ByteWriter writer_;
  Status status_;
};

}  // namespace mote::mqtt
