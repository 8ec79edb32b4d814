#pragma once
// The vocabulary of MQTT 3.1.1 (OASIS, 2014) and MQTT 5.0 (OASIS, 2019):
// protocol versions, packet types, QoS, reason codes, and the error a decoder
// reports — which carries the reason code the receiver should send back.
// Section numbers (§) are MQTT 5.0's unless they say 3.1.1.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>

#include "mote/base/bytes.hpp"
#include "mote/base/status.hpp"

namespace mote::mqtt {

// The Protocol Level byte of CONNECT (§3.1.2.2; 3.1.1 §3.1.2.2).
enum class ProtocolVersion : std::uint8_t { v311 = 4, v5 = 5 };

// §2.1.2. Values 0 is reserved; 15 (AUTH) exists only in MQTT 5.
enum class PacketType : std::uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
  auth = 15,
};
const char* to_string(PacketType type);

// §4.3.
enum class QoS : std::uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

// §2.4, the reason codes of MQTT 5. Several share a value; the packet says
// which name applies. 3.1.1's CONNACK return codes and SUBACK return codes
// are mapped onto these by the codec (see Connack).
enum class ReasonCode : std::uint8_t {
  success = 0x00,  // also: normal disconnection, granted QoS 0
  granted_qos_1 = 0x01,
  granted_qos_2 = 0x02,
  disconnect_with_will_message = 0x04,
  no_matching_subscribers = 0x10,
  no_subscription_existed = 0x11,
  continue_authentication = 0x18,
  re_authenticate = 0x19,
  unspecified_error = 0x80,
  malformed_packet = 0x81,
  protocol_error = 0x82,
  implementation_specific_error = 0x83,
  unsupported_protocol_version = 0x84,
  client_identifier_not_valid = 0x85,
  bad_user_name_or_password = 0x86,
  not_authorized = 0x87,
  server_unavailable = 0x88,
  server_busy = 0x89,
  banned = 0x8a,
  server_shutting_down = 0x8b,
  bad_authentication_method = 0x8c,
  keep_alive_timeout = 0x8d,
  session_taken_over = 0x8e,
  topic_filter_invalid = 0x8f,
  topic_name_invalid = 0x90,
  packet_identifier_in_use = 0x91,
  packet_identifier_not_found = 0x92,
  receive_maximum_exceeded = 0x93,
  topic_alias_invalid = 0x94,
  packet_too_large = 0x95,
  message_rate_too_high = 0x96,
  quota_exceeded = 0x97,
  administrative_action = 0x98,
  payload_format_invalid = 0x99,
  retain_not_supported = 0x9a,
  qos_not_supported = 0x9b,
  use_another_server = 0x9c,
  server_moved = 0x9d,
  shared_subscriptions_not_supported = 0x9e,
  connection_rate_exceeded = 0x9f,
  maximum_connect_time = 0xa0,
  subscription_identifiers_not_supported = 0xa1,
  wildcard_subscriptions_not_supported = 0xa2,
};
inline constexpr ReasonCode kNormalDisconnection = ReasonCode::success;
inline constexpr ReasonCode kGrantedQos0 = ReasonCode::success;

// The spec's name of a reason code ("Malformed Packet"); "unknown" otherwise.
const char* to_string(ReasonCode code);
// §2.4: values of 0x80 and above are failures.
[[nodiscard]] constexpr bool is_failure(ReasonCode code) {
  return static_cast<std::uint8_t>(code) >= 0x80;
}
// Whether `code` may appear in a packet of `type` (the tables of §3.2.2.2,
// §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1, §3.9.3, §3.11.3, §3.14.2.1, §3.15.2.1).
bool is_valid_reason_code(PacketType type, ReasonCode code);

// Why a packet was refused. `reason` is what MQTT 5 says the receiver sends
// (in CONNACK before a session exists, DISCONNECT after); an MQTT 3.1.1
// receiver simply closes the connection. `detail` is a static text for logs.
struct DecodeError {
  ReasonCode reason = ReasonCode::malformed_packet;
  const char* detail = "";
};

// A decoded value or the DecodeError saying why there is none. T must be
// default-constructible (every decoded type here is).
template <typename T>
class [[nodiscard]] DecodeResult {
 public:
  constexpr DecodeResult(T value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  constexpr DecodeResult(DecodeError error)           // NOLINT(google-explicit-constructor)
      : error_(error), ok_(false) {}

  [[nodiscard]] constexpr bool ok() const { return ok_; }
  constexpr explicit operator bool() const { return ok_; }
  // Precondition for the value accessors: ok().
  [[nodiscard]] constexpr const T& value() const { return value_; }
  constexpr const T& operator*() const { return value_; }
  constexpr const T* operator->() const { return &value_; }
  // Meaningful only when !ok().
  [[nodiscard]] constexpr DecodeError error() const { return error_; }
  // The io-style status: ok, or data_loss (malformed), failed_precondition
  // (protocol error), resource_exhausted (too large), invalid_argument (other).
  [[nodiscard]] Status status() const;

 private:
  T value_{};
  DecodeError error_{};
  bool ok_ = true;
};

Status status_of(DecodeError error);
template <typename T>
Status DecodeResult<T>::status() const {
  return ok_ ? ok_status() : status_of(error_);
}

// Binary Data (§1.5.6), payloads and passwords: a byte view that compares by
// content, so packets compare with ==.
struct BinaryData : ConstByteSpan {
  constexpr BinaryData() = default;
  constexpr BinaryData(ConstByteSpan bytes) : ConstByteSpan(bytes) {}  // NOLINT
  friend bool operator==(const BinaryData& a, const BinaryData& b);
};

// What the views' input iterators (properties, subscriptions) share: the
// iterator types, access to the current element, and postfix ++ over the
// Derived class's prefix ++.
template <typename Derived, typename Value>
class ViewIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  using pointer = const Value*;
  using reference = const Value&;

  const Value& operator*() const { return current_; }
  const Value* operator->() const { return &current_; }
  Derived operator++(int) {
    Derived old = static_cast<Derived&>(*this);
    ++static_cast<Derived&>(*this);
    return old;
  }

 protected:
  Value current_{};
};

// §1.5.5: the largest Variable Byte Integer, and so the largest Remaining Length.
inline constexpr std::uint32_t kMaxVariableByteInteger = 268'435'455;
// The longest packet there can be: 1 type byte, 4 length bytes, the rest.
inline constexpr std::size_t kMaxPacketSize = 1 + 4 + kMaxVariableByteInteger;

}  // namespace mote::mqtt
