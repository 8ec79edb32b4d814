#include "mote/base/status.hpp"

namespace mote {

const char* to_string(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return "ok";
    case StatusCode::cancelled: return "cancelled";
    case StatusCode::unknown: return "unknown";
    case StatusCode::invalid_argument: return "invalid_argument";
    case StatusCode::deadline_exceeded: return "deadline_exceeded";
    case StatusCode::not_found: return "not_found";
    case StatusCode::already_exists: return "already_exists";
    case StatusCode::permission_denied: return "permission_denied";
    case StatusCode::resource_exhausted: return "resource_exhausted";
    case StatusCode::failed_precondition: return "failed_precondition";
    case StatusCode::aborted: return "aborted";
    case StatusCode::out_of_range: return "out_of_range";
    case StatusCode::unimplemented: return "unimplemented";
    case StatusCode::internal: return "internal";
    case StatusCode::unavailable: return "unavailable";
    case StatusCode::data_loss: return "data_loss";
    case StatusCode::unauthenticated: return "unauthenticated";
  }
  return "invalid_status_code";
}

}  // namespace mote
