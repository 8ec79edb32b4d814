#include "mote/mqtt/codec.hpp"

#include <cstdint>
#include <optional>
#include <type_traits>
#include <variant>

#include "mote/mqtt/topic.hpp"
#include "mote/mqtt/wire.hpp"

namespace mote::mqtt {
namespace {

using Error = std::optional<DecodeError>;

constexpr DecodeError malformed(const char* detail) {
  return {ReasonCode::malformed_packet, detail};
}
constexpr DecodeError protocol_error(const char* detail) {
  return {ReasonCode::protocol_error, detail};
}

constexpr bool is_v5(ProtocolVersion version) { return version == ProtocolVersion::v5; }

// --- The rules shared by decode and encode -------------------------------------
// Everything here is about values, not bytes: the decoder runs it on what it
// read, the encoder on what it was given, so whatever encodes also decodes.

Error check_property_block(const Properties& properties, PropertyContext context,
                           ProtocolVersion version) {
  if (!is_v5(version)) {
    if (!properties.empty()) return malformed("MQTT 3.1.1 has no properties");
    return std::nullopt;
  }
  return check_properties(properties.bytes(), context);
}

Error check_packet_id(std::uint16_t id) {
  // [MQTT-2.2.1-3]: SUBSCRIBE, UNSUBSCRIBE and PUBLISH with QoS > 0 carry a
  // non-zero identifier; the acknowledgements echo it.
  if (id == 0) return protocol_error("packet identifier 0");
  return std::nullopt;
}

Error check_reason(PacketType type, ReasonCode reason, ProtocolVersion version) {
  if (!is_v5(version)) {
    if (reason != ReasonCode::success) return malformed("MQTT 3.1.1 has no reason code here");
    return std::nullopt;
  }
  if (!is_valid_reason_code(type, reason))
    return protocol_error("reason code not allowed in this packet");
  return std::nullopt;
}

// 3.1.1 §3.2.2.3: CONNACK return codes, as MQTT 5 reason codes.
constexpr ReasonCode kV311ConnackCodes[] = {
    ReasonCode::success,
    ReasonCode::unsupported_protocol_version,
    ReasonCode::client_identifier_not_valid,
    ReasonCode::server_unavailable,
    ReasonCode::bad_user_name_or_password,
    ReasonCode::not_authorized,
};

std::optional<std::uint8_t> v311_connack_code(ReasonCode reason) {
  for (std::size_t i = 0; i < std::size(kV311ConnackCodes); ++i) {
    if (kV311ConnackCodes[i] == reason) return static_cast<std::uint8_t>(i);
  }
  return std::nullopt;
}

Error check_qos(QoS qos) {
  if (static_cast<std::uint8_t>(qos) > 2) return malformed("QoS 3");
  return std::nullopt;
}

Error check(const Connect& p, ProtocolVersion) {
  const ProtocolVersion version = p.version;
  if (version != ProtocolVersion::v311 && version != ProtocolVersion::v5) {
    return DecodeError{ReasonCode::unsupported_protocol_version, "unknown protocol level"};
  }
  if (auto error = check_property_block(p.properties, PropertyContext::connect, version))
    return error;
  if (p.will) {
    if (auto error = check_qos(p.will->qos)) return error;
    if (!is_valid_topic_name(p.will->topic)) {
      return DecodeError{ReasonCode::topic_name_invalid, "will topic is not a valid topic name"};
    }
    if (auto error = check_property_block(p.will->properties, PropertyContext::will, version)) {
      return error;
    }
  }
  // 3.1.1 [MQTT-3.1.2-22]: no password without a user name (MQTT 5 allows it).
  if (!is_v5(version) && p.password && !p.user_name) return malformed("password without user name");
  return std::nullopt;
}

Error check(const Connack& p, ProtocolVersion version) {
  if (is_v5(version)) {
    if (!is_valid_reason_code(PacketType::connack, p.reason)) {
      return protocol_error("reason code not allowed in CONNACK");
    }
  } else if (!v311_connack_code(p.reason)) {
    return malformed("CONNACK return code MQTT 3.1.1 does not define");
  }
  // [MQTT-3.2.2-6] (3.1.1 [MQTT-3.2.2-4]): a refusal has no session.
  if (p.session_present && is_failure(p.reason))
    return protocol_error("session present on a refusal");
  return check_property_block(p.properties, PropertyContext::connack, version);
}

Error check(const Publish& p, ProtocolVersion version) {
  if (auto error = check_qos(p.qos)) return error;
  // [MQTT-3.3.1-2]: DUP is 0 for every QoS 0 message.
  if (p.dup && p.qos == QoS::at_most_once) return malformed("DUP set on a QoS 0 PUBLISH");
  if (p.qos != QoS::at_most_once) {
    if (auto error = check_packet_id(p.packet_id)) return error;
  } else if (p.packet_id != 0) {
    return malformed("QoS 0 PUBLISH has no packet identifier");
  }
  if (auto error = check_property_block(p.properties, PropertyContext::publish, version))
    return error;
  if (p.topic.empty()) {
    // §3.3.2.3.4: an empty topic stands for the one a Topic Alias names.
    if (is_v5(version) && p.properties.find(PropertyId::topic_alias)) return std::nullopt;
    return protocol_error("empty topic name without a Topic Alias");
  }
  if (!is_valid_topic_name(p.topic)) {
    return DecodeError{ReasonCode::topic_name_invalid, "wildcard in a topic name"};
  }
  return std::nullopt;
}

template <PacketType kType>
PropertyContext context_of() {
  switch (kType) {
    case PacketType::puback: return PropertyContext::puback;
    case PacketType::pubrec: return PropertyContext::pubrec;
    case PacketType::pubrel: return PropertyContext::pubrel;
    default: return PropertyContext::pubcomp;
  }
}

template <PacketType kType>
Error check(const PublishResponse<kType>& p, ProtocolVersion version) {
  if (auto error = check_packet_id(p.packet_id)) return error;
  if (auto error = check_reason(kType, p.reason, version)) return error;
  return check_property_block(p.properties, context_of<kType>(), version);
}

Error check_subscriptions(const SubscriptionList& list, ProtocolVersion version,
                          bool with_options) {
  // [MQTT-3.8.3-2], [MQTT-3.10.3-2]: at least one topic filter.
  if (list.empty()) return protocol_error("no topic filter");
  for (const Subscription& s : list) {
    if (!is_valid_topic_filter(s.filter, is_v5(version))) {
      return DecodeError{ReasonCode::topic_filter_invalid, "invalid topic filter"};
    }
    if (!with_options) continue;
    if (auto error = check_qos(s.options.max_qos)) return error;
    if (!is_v5(version)) {
      if (s.options.no_local || s.options.retain_as_published ||
          s.options.retain_handling != RetainHandling::send_on_subscribe) {
        return malformed("MQTT 3.1.1 subscription options have only a QoS");
      }
      continue;
    }
    if (static_cast<std::uint8_t>(s.options.retain_handling) > 2) {
      return protocol_error("Retain Handling 3");  // §3.8.3.1
    }
    // [MQTT-3.8.3-4]: No Local on a shared subscription.
    if (s.options.no_local && !split_shared_filter(s.filter).share_name.empty()) {
      return protocol_error("No Local on a shared subscription");
    }
  }
  return std::nullopt;
}

Error check(const Subscribe& p, ProtocolVersion version) {
  if (auto error = check_packet_id(p.packet_id)) return error;
  if (auto error = check_property_block(p.properties, PropertyContext::subscribe, version)) {
    return error;
  }
  return check_subscriptions(p.subscriptions, version, true);
}

Error check_reason_list(PacketType type, const ReasonCodeList& reasons, ProtocolVersion version) {
  if (reasons.empty()) return protocol_error("no reason codes");
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    const ReasonCode code = reasons[i];
    if (is_v5(version)) {
      if (!is_valid_reason_code(type, code)) return protocol_error("reason code not allowed here");
    } else if (code != ReasonCode::success && code != ReasonCode::granted_qos_1 &&
               code != ReasonCode::granted_qos_2 && code != ReasonCode::unspecified_error) {
      return malformed("SUBACK return code MQTT 3.1.1 does not define");  // 3.1.1 §3.9.3
    }
  }
  return std::nullopt;
}

Error check(const Suback& p, ProtocolVersion version) {
  if (auto error = check_packet_id(p.packet_id)) return error;
  if (auto error = check_property_block(p.properties, PropertyContext::suback, version))
    return error;
  return check_reason_list(PacketType::suback, p.reasons, version);
}

Error check(const Unsubscribe& p, ProtocolVersion version) {
  if (auto error = check_packet_id(p.packet_id)) return error;
  if (auto error = check_property_block(p.properties, PropertyContext::unsubscribe, version)) {
    return error;
  }
  return check_subscriptions(p.subscriptions, version, false);
}

Error check(const Unsuback& p, ProtocolVersion version) {
  if (auto error = check_packet_id(p.packet_id)) return error;
  if (auto error = check_property_block(p.properties, PropertyContext::unsuback, version)) {
    return error;
  }
  if (!is_v5(version)) {
    if (!p.reasons.empty()) return malformed("MQTT 3.1.1 UNSUBACK has no payload");
    return std::nullopt;
  }
  return check_reason_list(PacketType::unsuback, p.reasons, version);
}

Error check(const Pingreq&, ProtocolVersion) { return std::nullopt; }
Error check(const Pingresp&, ProtocolVersion) { return std::nullopt; }

Error check(const Disconnect& p, ProtocolVersion version) {
  if (auto error = check_reason(PacketType::disconnect, p.reason, version)) return error;
  return check_property_block(p.properties, PropertyContext::disconnect, version);
}

Error check(const Auth& p, ProtocolVersion version) {
  if (!is_v5(version)) return malformed("AUTH is reserved in MQTT 3.1.1");
  if (auto error = check_reason(PacketType::auth, p.reason, version)) return error;
  return check_property_block(p.properties, PropertyContext::auth, version);
}

// --- Encoding --------------------------------------------------------------------

// Writes into a buffer, or only counts when it has none. The first failure sticks.
class Output {
 public:
  Output() = default;  // counts
  explicit Output(ByteSpan buffer) : writer_(buffer), counting_(false) {}

  void u8(std::uint8_t value) {
    if (counting_) {
      size_ += 1;
    } else {
      fail_if(writer_.write_u8(value));
    }
  }
  void u16(std::uint16_t value) {
    if (counting_) {
      size_ += 2;
    } else {
      fail_if(writer_.write_be16(value));
    }
  }
  void variable_byte_integer(std::uint32_t value) {
    if (value > kMaxVariableByteInteger) {
      status_ = Status::invalid_argument();
    } else if (counting_) {
      size_ += variable_byte_integer_size(value);
    } else {
      fail_if(write_variable_byte_integer(writer_, value));
    }
  }
  void bytes(ConstByteSpan data) {
    if (counting_) {
      size_ += data.size();
    } else {
      fail_if(writer_.write_bytes(data));
    }
  }
  // §1.5.4. The value rules (UTF-8) were checked before encoding for every
  // string but these; checking again is cheap and keeps the rule in one place.
  void string(std::string_view text) {
    if (text.size() > 0xffff || !is_valid_utf8(text)) {
      status_ = Status::invalid_argument();
      return;
    }
    u16(static_cast<std::uint16_t>(text.size()));
    bytes(bytes_of(text));
  }
  void binary(ConstByteSpan data) {
    if (data.size() > 0xffff) {
      status_ = Status::invalid_argument();
      return;
    }
    u16(static_cast<std::uint16_t>(data.size()));
    bytes(data);
  }
  void properties(const Properties& properties, ProtocolVersion version) {
    if (!is_v5(version)) return;
    if (properties.bytes().size() > kMaxVariableByteInteger) {
      status_ = Status::invalid_argument();
      return;
    }
    variable_byte_integer(static_cast<std::uint32_t>(properties.bytes().size()));
    bytes(properties.bytes());
  }

  [[nodiscard]] Status status() const { return status_; }
  [[nodiscard]] std::size_t size() const { return counting_ ? size_ : writer_.size(); }

 private:
  void fail_if(Status status) {
    if (!status.ok() && status_.ok()) status_ = status;
  }
  ByteWriter writer_;
  bool counting_ = true;
  std::size_t size_ = 0;
  Status status_;
};

void write_body(const Connect& p, ProtocolVersion, Output& out) {
  out.string("MQTT");
  out.u8(static_cast<std::uint8_t>(p.version));
  std::uint8_t flags = 0;
  if (p.clean_start) flags |= 0x02u;
  if (p.will) {
    flags |= 0x04u;
    flags = static_cast<std::uint8_t>(flags | (static_cast<unsigned>(p.will->qos) << 3));
    if (p.will->retain) flags |= 0x20u;
  }
  if (p.password) flags |= 0x40u;
  if (p.user_name) flags |= 0x80u;
  out.u8(flags);
  out.u16(p.keep_alive);
  out.properties(p.properties, p.version);
  out.string(p.client_id);
  if (p.will) {
    out.properties(p.will->properties, p.version);
    out.string(p.will->topic);
    out.binary(p.will->payload);
  }
  if (p.user_name) out.string(*p.user_name);
  if (p.password) out.binary(*p.password);
}

void write_body(const Connack& p, ProtocolVersion version, Output& out) {
  out.u8(p.session_present ? 1 : 0);
  out.u8(is_v5(version) ? static_cast<std::uint8_t>(p.reason) : *v311_connack_code(p.reason));
  out.properties(p.properties, version);
}

void write_body(const Publish& p, ProtocolVersion version, Output& out) {
  out.string(p.topic);
  if (p.qos != QoS::at_most_once) out.u16(p.packet_id);
  out.properties(p.properties, version);
  out.bytes(p.payload);
}

// §3.4.2.1 and the like: reason and properties are left out when they say nothing.
void write_reason_and_properties(ReasonCode reason, const Properties& properties,
                                 ProtocolVersion version, Output& out) {
  if (!is_v5(version)) return;
  if (reason == ReasonCode::success && properties.empty()) return;
  out.u8(static_cast<std::uint8_t>(reason));
  if (!properties.empty()) out.properties(properties, version);
}

template <PacketType kType>
void write_body(const PublishResponse<kType>& p, ProtocolVersion version, Output& out) {
  out.u16(p.packet_id);
  write_reason_and_properties(p.reason, p.properties, version, out);
}

std::uint8_t options_byte(const SubscribeOptions& options) {
  auto byte = static_cast<unsigned>(options.max_qos);
  if (options.no_local) byte |= 0x04u;
  if (options.retain_as_published) byte |= 0x08u;
  byte |= static_cast<unsigned>(options.retain_handling) << 4;
  return static_cast<std::uint8_t>(byte);
}

void write_body(const Subscribe& p, ProtocolVersion version, Output& out) {
  out.u16(p.packet_id);
  out.properties(p.properties, version);
  for (const Subscription& s : p.subscriptions) {
    out.string(s.filter);
    out.u8(options_byte(s.options));
  }
}

void write_body(const Suback& p, ProtocolVersion version, Output& out) {
  out.u16(p.packet_id);
  out.properties(p.properties, version);
  out.bytes(p.reasons.bytes());
}

void write_body(const Unsubscribe& p, ProtocolVersion version, Output& out) {
  out.u16(p.packet_id);
  out.properties(p.properties, version);
  for (const Subscription& s : p.subscriptions) out.string(s.filter);
}

void write_body(const Unsuback& p, ProtocolVersion version, Output& out) {
  out.u16(p.packet_id);
  out.properties(p.properties, version);
  out.bytes(p.reasons.bytes());
}

void write_body(const Pingreq&, ProtocolVersion, Output&) {}
void write_body(const Pingresp&, ProtocolVersion, Output&) {}

void write_body(const Disconnect& p, ProtocolVersion version, Output& out) {
  write_reason_and_properties(p.reason, p.properties, version, out);
}

void write_body(const Auth& p, ProtocolVersion version, Output& out) {
  write_reason_and_properties(p.reason, p.properties, version, out);
}

std::uint8_t first_byte(const Packet& packet) {
  const auto type = static_cast<unsigned>(type_of(packet));
  unsigned flags = 0;
  if (const auto* publish = std::get_if<Publish>(&packet)) {
    flags = static_cast<unsigned>(publish->qos) << 1;
    if (publish->dup) flags |= 0x08u;
    if (publish->retain) flags |= 0x01u;
  } else if (std::holds_alternative<Pubrel>(packet) || std::holds_alternative<Subscribe>(packet) ||
             std::holds_alternative<Unsubscribe>(packet)) {
    flags = 0x02u;  // §2.1.3
  }
  return static_cast<std::uint8_t>((type << 4) | flags);
}

// CONNECT carries its own version; every other packet uses the connection's.
ProtocolVersion effective_version(const Packet& packet, ProtocolVersion version) {
  const auto* connect = std::get_if<Connect>(&packet);
  return connect != nullptr ? connect->version : version;
}

struct Plan {
  std::size_t body = 0;
  std::size_t total = 0;
};

Result<Plan> plan(const Packet& packet, ProtocolVersion version) {
  const ProtocolVersion effective = effective_version(packet, version);
  const Error error = std::visit([&](const auto& p) { return check(p, effective); }, packet);
  if (error) return Status::invalid_argument();
  Output counter;
  std::visit([&](const auto& p) { write_body(p, effective, counter); }, packet);
  MOTE_TRY(counter.status());
  if (counter.size() > kMaxVariableByteInteger) return Status::invalid_argument();
  const auto body = static_cast<std::uint32_t>(counter.size());
  return Plan{body, 1 + variable_byte_integer_size(body) + body};
}

// --- Decoding --------------------------------------------------------------------

Error read_properties(FieldReader& reader, ProtocolVersion version, PropertyContext context,
                      Properties& out) {
  if (!is_v5(version)) return std::nullopt;
  std::uint32_t length = 0;
  if (auto error = reader.variable_byte_integer(length)) return error;
  ConstByteSpan bytes;
  if (auto error = reader.bytes(length, bytes)) return error;
  if (auto error = check_properties(bytes, context)) return error;
  out = Properties::unchecked(bytes);
  return std::nullopt;
}

Error expect_end(const FieldReader& reader) {
  if (!reader.empty()) return malformed("bytes after the packet's fields");
  return std::nullopt;
}

Error read_connect(FieldReader& r, Connect& p) {
  std::string_view name;
  if (auto error = r.string(name)) return error;
  std::uint8_t level = 0;
  if (auto error = r.u8(level)) return error;
  // §3.1.2.1, §3.1.2.2: a server "MAY send a CONNACK with Reason Code 0x84".
  if (name != "MQTT" || (level != 4 && level != 5)) {
    return DecodeError{ReasonCode::unsupported_protocol_version, "not MQTT 3.1.1 or 5"};
  }
  p.version = static_cast<ProtocolVersion>(level);
  std::uint8_t flags = 0;
  if (auto error = r.u8(flags)) return error;
  if ((flags & 0x01u) != 0) return malformed("CONNECT reserved flag set");  // [MQTT-3.1.2-3]
  p.clean_start = (flags & 0x02u) != 0;
  const bool will = (flags & 0x04u) != 0;
  const auto will_qos = static_cast<std::uint8_t>((flags >> 3) & 0x03u);
  const bool will_retain = (flags & 0x20u) != 0;
  if (!will && (will_qos != 0 || will_retain)) {
    return malformed("will QoS or retain without a will");  // [MQTT-3.1.2-11], [MQTT-3.1.2-13]
  }
  if (will_qos == 3) return malformed("will QoS 3");  // [MQTT-3.1.2-12]
  if (auto error = r.u16(p.keep_alive)) return error;
  if (auto error = read_properties(r, p.version, PropertyContext::connect, p.properties))
    return error;
  if (auto error = r.string(p.client_id)) return error;
  if (will) {
    Will w;
    w.qos = static_cast<QoS>(will_qos);
    w.retain = will_retain;
    if (auto error = read_properties(r, p.version, PropertyContext::will, w.properties))
      return error;
    if (auto error = r.string(w.topic)) return error;
    if (auto error = r.binary(w.payload)) return error;
    p.will = w;
  }
  if ((flags & 0x80u) != 0) {
    std::string_view user;
    if (auto error = r.string(user)) return error;
    p.user_name = user;
  }
  if ((flags & 0x40u) != 0) {
    BinaryData password;
    if (auto error = r.binary(password)) return error;
    p.password = password;
  }
  return expect_end(r);
}

Error read_connack(FieldReader& r, ProtocolVersion version, Connack& p) {
  std::uint8_t flags = 0;
  if (auto error = r.u8(flags)) return error;
  if ((flags & 0xfeu) != 0) return malformed("CONNACK reserved flags set");  // [MQTT-3.2.2-1]
  p.session_present = (flags & 0x01u) != 0;
  std::uint8_t code = 0;
  if (auto error = r.u8(code)) return error;
  if (is_v5(version)) {
    p.reason = static_cast<ReasonCode>(code);
  } else {
    if (code >= std::size(kV311ConnackCodes)) return malformed("CONNACK return code above 5");
    p.reason = kV311ConnackCodes[code];
  }
  if (auto error = read_properties(r, version, PropertyContext::connack, p.properties))
    return error;
  return expect_end(r);
}

Error read_publish(FieldReader& r, ProtocolVersion version, std::uint8_t flags, Publish& p) {
  p.dup = (flags & 0x08u) != 0;
  p.retain = (flags & 0x01u) != 0;
  const auto qos = static_cast<std::uint8_t>((flags >> 1) & 0x03u);
  if (qos == 3) return malformed("PUBLISH with QoS 3");  // [MQTT-3.3.1-4]
  p.qos = static_cast<QoS>(qos);
  if (auto error = r.string(p.topic)) return error;
  if (p.qos != QoS::at_most_once) {
    if (auto error = r.u16(p.packet_id)) return error;
  }
  if (auto error = read_properties(r, version, PropertyContext::publish, p.properties))
    return error;
  p.payload = r.rest();
  return std::nullopt;
}

// The optional tail of PUBACK..PUBCOMP, DISCONNECT and AUTH (§3.4.2.1 ...):
// no reason code means Success, no property length means none.
Error read_reason_tail(FieldReader& r, ProtocolVersion version, PropertyContext context,
                       ReasonCode& reason, Properties& properties) {
  if (!is_v5(version)) return expect_end(r);
  if (r.empty()) return std::nullopt;
  std::uint8_t code = 0;
  if (auto error = r.u8(code)) return error;
  reason = static_cast<ReasonCode>(code);
  if (r.empty()) return std::nullopt;
  if (auto error = read_properties(r, version, context, properties)) return error;
  return expect_end(r);
}

template <PacketType kType>
Error read_response(FieldReader& r, ProtocolVersion version, PublishResponse<kType>& p) {
  if (auto error = r.u16(p.packet_id)) return error;
  return read_reason_tail(r, version, context_of<kType>(), p.reason, p.properties);
}

// Walks SUBSCRIBE / UNSUBSCRIBE entries, checking their bytes.
Error check_subscription_bytes(ConstByteSpan payload, ProtocolVersion version, bool with_options) {
  FieldReader r(payload);
  while (!r.empty()) {
    std::string_view filter;
    if (auto error = r.string(filter)) return error;
    if (!with_options) continue;
    std::uint8_t options = 0;
    if (auto error = r.u8(options)) return error;
    // §3.8.3.1 [MQTT-3.8.3-5]; 3.1.1 [MQTT-3-8.3-4]: reserved bits are zero.
    const std::uint8_t reserved = is_v5(version) ? 0xc0u : 0xfcu;
    if ((options & reserved) != 0) return malformed("subscription options reserved bits set");
    if ((options & 0x03u) == 3) return malformed("subscription with QoS 3");
  }
  return std::nullopt;
}

Error read_subscribe(FieldReader& r, ProtocolVersion version, bool with_options,
                     std::uint16_t& packet_id, Properties& properties, SubscriptionList& list) {
  if (auto error = r.u16(packet_id)) return error;
  const PropertyContext context =
      with_options ? PropertyContext::subscribe : PropertyContext::unsubscribe;
  if (auto error = read_properties(r, version, context, properties)) return error;
  const ConstByteSpan payload = r.rest();
  if (auto error = check_subscription_bytes(payload, version, with_options)) return error;
  list = SubscriptionList::wire(payload, with_options);
  return std::nullopt;
}

Error read_ack_list(FieldReader& r, ProtocolVersion version, PropertyContext context,
                    std::uint16_t& packet_id, Properties& properties, ReasonCodeList& reasons) {
  if (auto error = r.u16(packet_id)) return error;
  if (auto error = read_properties(r, version, context, properties)) return error;
  reasons = ReasonCodeList::wire(r.rest());
  return std::nullopt;
}

// §2.1.3: the flags each packet type must carry (PUBLISH's are its own).
constexpr std::uint8_t required_flags(PacketType type) {
  return type == PacketType::pubrel || type == PacketType::subscribe ||
                 type == PacketType::unsubscribe
             ? 0x02
             : 0x00;
}

Error read_body(PacketType type, std::uint8_t flags, FieldReader& r, ProtocolVersion version,
                Packet& packet) {
  switch (type) {
    case PacketType::connect: return read_connect(r, packet.emplace<Connect>());
    case PacketType::connack: return read_connack(r, version, packet.emplace<Connack>());
    case PacketType::publish: return read_publish(r, version, flags, packet.emplace<Publish>());
    case PacketType::puback: return read_response(r, version, packet.emplace<Puback>());
    case PacketType::pubrec: return read_response(r, version, packet.emplace<Pubrec>());
    case PacketType::pubrel: return read_response(r, version, packet.emplace<Pubrel>());
    case PacketType::pubcomp: return read_response(r, version, packet.emplace<Pubcomp>());
    case PacketType::subscribe: {
      auto& p = packet.emplace<Subscribe>();
      return read_subscribe(r, version, true, p.packet_id, p.properties, p.subscriptions);
    }
    case PacketType::suback: {
      auto& p = packet.emplace<Suback>();
      return read_ack_list(r, version, PropertyContext::suback, p.packet_id, p.properties,
                           p.reasons);
    }
    case PacketType::unsubscribe: {
      auto& p = packet.emplace<Unsubscribe>();
      return read_subscribe(r, version, false, p.packet_id, p.properties, p.subscriptions);
    }
    case PacketType::unsuback: {
      auto& p = packet.emplace<Unsuback>();
      if (!is_v5(version)) {
        if (auto error = r.u16(p.packet_id)) return error;
        return expect_end(r);
      }
      return read_ack_list(r, version, PropertyContext::unsuback, p.packet_id, p.properties,
                           p.reasons);
    }
    case PacketType::pingreq: packet.emplace<Pingreq>(); return expect_end(r);
    case PacketType::pingresp: packet.emplace<Pingresp>(); return expect_end(r);
    case PacketType::disconnect: {
      auto& p = packet.emplace<Disconnect>();
      return read_reason_tail(r, version, PropertyContext::disconnect, p.reason, p.properties);
    }
    case PacketType::auth: {
      auto& p = packet.emplace<Auth>();
      if (!is_v5(version)) return malformed("AUTH is reserved in MQTT 3.1.1");
      return read_reason_tail(r, version, PropertyContext::auth, p.reason, p.properties);
    }
  }
  return malformed("reserved packet type");
}

}  // namespace

DecodeResult<Frame> frame_packet(ConstByteSpan received, std::size_t max_packet_size) {
  if (received.empty()) return Frame{};
  DecodeResult<VariableByteInteger> length = read_variable_byte_integer(received.subspan(1));
  if (!length.ok()) return length.error();
  if (length->size == 0) return Frame{};
  Frame frame;
  frame.header_size = 1 + length->size;
  frame.remaining_length = length->value;
  const std::size_t total = frame.header_size + length->value;
  if (total > max_packet_size) return DecodeError{ReasonCode::packet_too_large, "packet too large"};
  if (received.size() >= total) frame.size = total;
  return frame;
}

DecodeResult<Packet> decode_packet(ConstByteSpan bytes, ProtocolVersion version) {
  DecodeResult<Frame> frame = frame_packet(bytes);
  if (!frame.ok()) return frame.error();
  if (frame->size == 0 || frame->size != bytes.size()) {
    return malformed(frame->size == 0 ? "packet shorter than its Remaining Length"
                                      : "packet longer than its Remaining Length");
  }
  const auto first = std::to_integer<std::uint8_t>(bytes[0]);
  const auto type_value = static_cast<std::uint8_t>(first >> 4);
  const auto flags = static_cast<std::uint8_t>(first & 0x0fu);
  if (type_value == 0) return malformed("reserved packet type 0");
  const auto type = static_cast<PacketType>(type_value);
  // [MQTT-2.1.3-1]: fixed flags are checked; a wrong value is malformed.
  if (type != PacketType::publish && flags != required_flags(type)) {
    return malformed("wrong fixed header flags");
  }
  FieldReader reader(bytes.subspan(frame->header_size));
  Packet packet;
  if (auto error = read_body(type, flags, reader, version, packet)) return *error;
  const ProtocolVersion effective = effective_version(packet, version);
  if (auto error = std::visit([&](const auto& p) { return check(p, effective); }, packet)) {
    return *error;
  }
  return packet;
}

Result<std::size_t> encoded_size(const Packet& packet, ProtocolVersion version) {
  MOTE_TRY_ASSIGN(Plan sizes, plan(packet, version));
  return sizes.total;
}

Result<std::size_t> encode_packet(const Packet& packet, ProtocolVersion version, ByteSpan out) {
  MOTE_TRY_ASSIGN(Plan sizes, plan(packet, version));
  if (out.size() < sizes.total) return Status::resource_exhausted();
  const ProtocolVersion effective = effective_version(packet, version);
  Output output(out);
  output.u8(first_byte(packet));
  output.variable_byte_integer(static_cast<std::uint32_t>(sizes.body));
  std::visit([&](const auto& p) { write_body(p, effective, output); }, packet);
  MOTE_TRY(output.status());
  return output.size();
}

}  // namespace mote::mqtt
