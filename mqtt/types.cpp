#include "mote/mqtt/types.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace mote::mqtt {

const char* to_string(PacketType type) {
  switch (type) {
    case PacketType::connect: return "CONNECT";
    case PacketType::connack: return "CONNACK";
    case PacketType::publish: return "PUBLISH";
    case PacketType::puback: return "PUBACK";
    case PacketType::pubrec: return "PUBREC";
    case PacketType::pubrel: return "PUBREL";
    case PacketType::pubcomp: return "PUBCOMP";
    case PacketType::subscribe: return "SUBSCRIBE";
    case PacketType::suback: return "SUBACK";
    case PacketType::unsubscribe: return "UNSUBSCRIBE";
    case PacketType::unsuback: return "UNSUBACK";
    case PacketType::pingreq: return "PINGREQ";
    case PacketType::pingresp: return "PINGRESP";
    case PacketType::disconnect: return "DISCONNECT";
    case PacketType::auth: return "AUTH";
  }
  return "reserved";
}

const char* to_string(ReasonCode code) {
  switch (code) {
    case ReasonCode::success: return "Success";
    case ReasonCode::granted_qos_1: return "Granted QoS 1";
    case ReasonCode::granted_qos_2: return "Granted QoS 2";
    case ReasonCode::disconnect_with_will_message: return "Disconnect with Will Message";
    case ReasonCode::no_matching_subscribers: return "No matching subscribers";
    case ReasonCode::no_subscription_existed: return "No subscription existed";
    case ReasonCode::continue_authentication: return "Continue authentication";
    case ReasonCode::re_authenticate: return "Re-authenticate";
    case ReasonCode::unspecified_error: return "Unspecified error";
    case ReasonCode::malformed_packet: return "Malformed Packet";
    case ReasonCode::protocol_error: return "Protocol Error";
    case ReasonCode::implementation_specific_error: return "Implementation specific error";
    case ReasonCode::unsupported_protocol_version: return "Unsupported Protocol Version";
    case ReasonCode::client_identifier_not_valid: return "Client Identifier not valid";
    case ReasonCode::bad_user_name_or_password: return "Bad User Name or Password";
    case ReasonCode::not_authorized: return "Not authorized";
    case ReasonCode::server_unavailable: return "Server unavailable";
    case ReasonCode::server_busy: return "Server busy";
    case ReasonCode::banned: return "Banned";
    case ReasonCode::server_shutting_down: return "Server shutting down";
    case ReasonCode::bad_authentication_method: return "Bad authentication method";
    case ReasonCode::keep_alive_timeout: return "Keep Alive timeout";
    case ReasonCode::session_taken_over: return "Session taken over";
    case ReasonCode::topic_filter_invalid: return "Topic Filter invalid";
    case ReasonCode::topic_name_invalid: return "Topic Name invalid";
    case ReasonCode::packet_identifier_in_use: return "Packet Identifier in use";
    case ReasonCode::packet_identifier_not_found: return "Packet Identifier not found";
    case ReasonCode::receive_maximum_exceeded: return "Receive Maximum exceeded";
    case ReasonCode::topic_alias_invalid: return "Topic Alias invalid";
    case ReasonCode::packet_too_large: return "Packet too large";
    case ReasonCode::message_rate_too_high: return "Message rate too high";
    case ReasonCode::quota_exceeded: return "Quota exceeded";
    case ReasonCode::administrative_action: return "Administrative action";
    case ReasonCode::payload_format_invalid: return "Payload format invalid";
    case ReasonCode::retain_not_supported: return "Retain not supported";
    case ReasonCode::qos_not_supported: return "QoS not supported";
    case ReasonCode::use_another_server: return "Use another server";
    case ReasonCode::server_moved: return "Server moved";
    case ReasonCode::shared_subscriptions_not_supported:
      return "Shared Subscriptions not supported";
    case ReasonCode::connection_rate_exceeded: return "Connection rate exceeded";
    case ReasonCode::maximum_connect_time: return "Maximum connect time";
    case ReasonCode::subscription_identifiers_not_supported:
      return "Subscription Identifiers not supported";
    case ReasonCode::wildcard_subscriptions_not_supported:
      return "Wildcard Subscriptions not supported";
  }
  return "unknown";
}

namespace {

bool one_of(ReasonCode code, std::initializer_list<std::uint8_t> values) {
  for (std::uint8_t v : values) {
    if (static_cast<std::uint8_t>(code) == v) return true;
  }
  return false;
}

}  // namespace

bool is_valid_reason_code(PacketType type, ReasonCode code) {
  switch (type) {
    case PacketType::connack:  // §3.2.2.2
      return one_of(code, {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
                           0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f});
    case PacketType::puback:  // §3.4.2.1
    case PacketType::pubrec:  // §3.5.2.1
      return one_of(code, {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99});
    case PacketType::pubrel:   // §3.6.2.1
    case PacketType::pubcomp:  // §3.7.2.1
      return one_of(code, {0x00, 0x92});
    case PacketType::suback:  // §3.9.3
      return one_of(code, {0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2});
    case PacketType::unsuback:  // §3.11.3
      return one_of(code, {0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91});
    case PacketType::disconnect:  // §3.14.2.1
      return one_of(code, {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d,
                           0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
                           0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2});
    case PacketType::auth:  // §3.15.2.1
      return one_of(code, {0x00, 0x18, 0x19});
    default: return false;
  }
}

Status status_of(DecodeError error) {
  switch (error.reason) {
    case ReasonCode::malformed_packet: return Status::data_loss();
    case ReasonCode::protocol_error: return Status::failed_precondition();
    case ReasonCode::packet_too_large: return Status::resource_exhausted();
    default: return Status::invalid_argument();
  }
}

bool operator==(const BinaryData& a, const BinaryData& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace mote::mqtt
