#pragma once
// The fifteen MQTT control packets as plain structs of views. A decoded
// packet points into the bytes it was decoded from (they must outlive it);
// a packet to encode points at the caller's strings and buffers. The same
// struct serves both versions: fields MQTT 3.1.1 lacks (properties, most
// reason codes) are empty / success there.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <variant>

#include "mote/base/bytes.hpp"
#include "mote/mqtt/properties.hpp"
#include "mote/mqtt/types.hpp"

namespace mote::mqtt {

// §3.1.3.2–3.1.3.4.
struct Will {
  std::string_view topic;
  BinaryData payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  Properties properties;  // MQTT 5 Will Properties
  friend bool operator==(const Will&, const Will&) = default;
};

// §3.1. The protocol version comes from the packet itself.
struct Connect {
  ProtocolVersion version = ProtocolVersion::v5;
  bool clean_start = true;  // 3.1.1: Clean Session
  std::uint16_t keep_alive = 0;
  Properties properties;
  std::string_view client_id;
  std::optional<Will> will;
  std::optional<std::string_view> user_name;
  std::optional<BinaryData> password;
  friend bool operator==(const Connect&, const Connect&) = default;
};

// §3.2. MQTT 3.1.1's return codes (3.1.1 §3.2.2.3) are mapped to reason
// codes: 0 success, 1 unsupported protocol version, 2 client identifier not
// valid, 3 server unavailable, 4 bad user name or password, 5 not authorized;
// only those six encode for 3.1.1.
struct Connack {
  bool session_present = false;
  ReasonCode reason = ReasonCode::success;
  Properties properties;
  friend bool operator==(const Connack&, const Connack&) = default;
};

// §3.3. With MQTT 5 the topic may be empty when a Topic Alias property
// stands for it (§3.3.2.3.4); the codec does not resolve aliases (that is
// connection state).
struct Publish {
  bool dup = false;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  std::string_view topic;
  std::uint16_t packet_id = 0;  // QoS 1 and 2 only
  Properties properties;
  BinaryData payload;
  friend bool operator==(const Publish&, const Publish&) = default;
};

// §3.4–3.7: PUBACK, PUBREC, PUBREL, PUBCOMP share one layout.
template <PacketType kType>
struct PublishResponse {
  static constexpr PacketType kPacketType = kType;
  std::uint16_t packet_id = 0;
  ReasonCode reason = ReasonCode::success;
  Properties properties;
  friend bool operator==(const PublishResponse&, const PublishResponse&) = default;
};
using Puback = PublishResponse<PacketType::puback>;
using Pubrec = PublishResponse<PacketType::pubrec>;
using Pubrel = PublishResponse<PacketType::pubrel>;
using Pubcomp = PublishResponse<PacketType::pubcomp>;

// §3.8.3.1: Retain Handling.
enum class RetainHandling : std::uint8_t {
  send_on_subscribe = 0,
  send_if_new_subscription = 1,
  do_not_send = 2,
};

// §3.8.3.1: the Subscription Options byte (3.1.1 has only the QoS).
struct SubscribeOptions {
  QoS max_qos = QoS::at_most_once;
  bool no_local = false;
  bool retain_as_published = false;
  RetainHandling retain_handling = RetainHandling::send_on_subscribe;
  friend bool operator==(const SubscribeOptions&, const SubscribeOptions&) = default;
};

struct Subscription {
  std::string_view filter;
  SubscribeOptions options;
  friend bool operator==(const Subscription&, const Subscription&) = default;
};

// The payload of a decoded SUBSCRIBE or UNSUBSCRIBE, read in place, or the
// caller's list for one to encode. Iterating yields Subscriptions (for
// UNSUBSCRIBE only `filter` is set).
class SubscriptionList {
 public:
  constexpr SubscriptionList() = default;
  // The caller's subscriptions (to encode): a span, an array, an InlineVector...
  template <typename Range>
  requires std::is_convertible_v<const Range&, std::span<const Subscription>>
  constexpr SubscriptionList(const Range& items)  // NOLINT(google-explicit-constructor)
      : items_(std::span<const Subscription>(items)) {}
  // Checked payload bytes (the decoder makes them).
  static constexpr SubscriptionList wire(ConstByteSpan payload, bool with_options) {
    SubscriptionList list;
    list.payload_ = payload;
    list.with_options_ = with_options;
    list.is_wire_ = true;
    return list;
  }

  class Iterator : public ViewIterator<Iterator, Subscription> {
   public:
    Iterator() = default;
    Iterator& operator++();
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.index_ == b.index_ && a.list_ == b.list_;
    }

   private:
    friend class SubscriptionList;
    Iterator(const SubscriptionList* list, std::size_t index);
    void load();
    const SubscriptionList* list_ = nullptr;
    std::size_t index_ = 0;     // item index, or byte offset of the next entry on the wire
    std::size_t position_ = 0;  // wire: byte offset of the entry after current_
  };
  [[nodiscard]] Iterator begin() const { return {this, 0}; }
  [[nodiscard]] Iterator end() const;
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] bool empty() const { return is_wire_ ? payload_.empty() : items_.empty(); }

  friend bool operator==(const SubscriptionList& a, const SubscriptionList& b);

 private:
  std::span<const Subscription> items_;
  ConstByteSpan payload_;
  bool with_options_ = true;
  bool is_wire_ = false;
};

// §3.8.
struct Subscribe {
  std::uint16_t packet_id = 0;
  Properties properties;
  SubscriptionList subscriptions;
  friend bool operator==(const Subscribe&, const Subscribe&) = default;
};

// A list of reason codes (SUBACK, UNSUBACK payloads): wire bytes or the caller's.
class ReasonCodeList {
 public:
  constexpr ReasonCodeList() = default;
  // The caller's codes (to encode): a span, an array, an InlineVector...
  template <typename Range>
  requires std::is_convertible_v<const Range&, std::span<const ReasonCode>> ReasonCodeList(
      const Range& codes)  // NOLINT(google-explicit-constructor)
      : bytes_(reinterpret_cast<const std::byte*>(std::span<const ReasonCode>(codes).data()),
               std::span<const ReasonCode>(codes).size()) {}
  static constexpr ReasonCodeList wire(ConstByteSpan bytes) {
    ReasonCodeList list;
    list.bytes_ = bytes;
    return list;
  }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }
  [[nodiscard]] bool empty() const { return bytes_.empty(); }
  [[nodiscard]] ReasonCode operator[](std::size_t i) const {
    return static_cast<ReasonCode>(bytes_[i]);
  }
  [[nodiscard]] ConstByteSpan bytes() const { return bytes_; }
  friend bool operator==(const ReasonCodeList& a, const ReasonCodeList& b) {
    return BinaryData(a.bytes_) == BinaryData(b.bytes_);
  }

 private:
  ConstByteSpan bytes_;
};

// §3.9. 3.1.1's return codes 0x00–0x02 and 0x80 are the same bytes.
struct Suback {
  std::uint16_t packet_id = 0;
  Properties properties;
  ReasonCodeList reasons;
  friend bool operator==(const Suback&, const Suback&) = default;
};

// §3.10: only the filters of `subscriptions` are used.
struct Unsubscribe {
  std::uint16_t packet_id = 0;
  Properties properties;
  SubscriptionList subscriptions;
  // Compares the filters only: UNSUBSCRIBE carries no options.
  friend bool operator==(const Unsubscribe& a, const Unsubscribe& b);
};

// §3.11. 3.1.1's UNSUBACK has no payload: `reasons` is empty.
struct Unsuback {
  std::uint16_t packet_id = 0;
  Properties properties;
  ReasonCodeList reasons;
  friend bool operator==(const Unsuback&, const Unsuback&) = default;
};

struct Pingreq {
  friend bool operator==(const Pingreq&, const Pingreq&) = default;
};
struct Pingresp {
  friend bool operator==(const Pingresp&, const Pingresp&) = default;
};

// §3.14 (3.1.1: no reason, no properties).
struct Disconnect {
  ReasonCode reason = kNormalDisconnection;
  Properties properties;
  friend bool operator==(const Disconnect&, const Disconnect&) = default;
};

// §3.15, MQTT 5 only.
struct Auth {
  ReasonCode reason = ReasonCode::success;
  Properties properties;
  friend bool operator==(const Auth&, const Auth&) = default;
};

// Any packet; the index of each alternative is its PacketType minus one.
using Packet = std::variant<Connect, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp, Subscribe,
                            Suback, Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect, Auth>;

[[nodiscard]] inline PacketType type_of(const Packet& packet) {
  return static_cast<PacketType>(packet.index() + 1);
}

}  // namespace mote::mqtt
