#pragma once
// Close frames (RFC 6455 §5.5.1, §7.4): status codes and the payload codec.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"

namespace mote::websocket {

// §7.4.1 and the IANA "WebSocket Close Code Number Registry".
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
// Never on the wire: "no status code was present".
inline constexpr std::uint16_t no_status = 1005;
// Never on the wire: the connection closed without a close frame.
inline constexpr std::uint16_t abnormal = 1006;
inline constexpr std::uint16_t invalid_payload = 1007;  // e.g. bad UTF-8 in a text message
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t mandatory_extension = 1010;
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t service_restart = 1012;
inline constexpr std::uint16_t try_again_later = 1013;
inline constexpr std::uint16_t bad_gateway = 1014;
// Never on the wire: the TLS handshake failed.
inline constexpr std::uint16_t tls_handshake = 1015;
}  // namespace close_code

// A code that may appear in a close frame: the registered 1000-1003 and
// 1007-1014, and 3000-4999 (libraries, frameworks and applications).
// 1004 is reserved, 1005/1006/1015 are only ever reported locally, and
// 0-999, 1016-2999 and 5000+ are not codes (§7.4.2).
[[nodiscard]] constexpr bool is_valid_wire_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

// The reason fits a control frame with the code: 125 - 2.
inline constexpr std::size_t kMaxCloseReason = 123;

struct CloseInfo {
  // close_code::no_status when the frame had an empty payload.
  std::uint16_t code = close_code::no_status;
  std::string_view reason;  // a view into the payload; valid UTF-8
};

// Why a close payload was refused.
enum class CloseError : std::uint8_t {
  none,
  truncated_code,  // a 1-byte payload (protocol error, 1002)
  invalid_code,    // not a code a peer may send (protocol error, 1002)
  invalid_reason,  // the reason is not UTF-8 (1007)
  too_long,        // more than 125 bytes (cannot reach here from a valid frame)
};

struct CloseParse {
  CloseError error = CloseError::none;
  CloseInfo info;
};

// Parses a received close frame's (unmasked) payload.
[[nodiscard]] CloseParse parse_close_payload(ConstByteSpan payload);

// The close code to fail the connection with for `error` (1002 or 1007).
[[nodiscard]] std::uint16_t close_code_for(CloseError error);

// Writes a close payload: the code and reason, or nothing at all when
// `code` is close_code::no_status (an empty close frame). invalid_argument:
// a code that may not be sent, a reason longer than 123 bytes or not UTF-8,
// a reason without a code. resource_exhausted: `out` is too small.
Result<std::size_t> encode_close_payload(std::uint16_t code, std::string_view reason, ByteSpan out);

}  // namespace mote::websocket
