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

}  // namespace mote::mqtt
