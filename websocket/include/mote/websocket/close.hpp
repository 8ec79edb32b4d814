#pragma once
// Close frames (RFC 6455 §5.5.1, §7.4): status codes and the payload codec.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"

namespace mote::websocket {

// §7.4.1 and the IANA "WebSocket Close Code Number Registry".
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseUnsupportedData = 1003;
// Never on the wire: "no status code was present".
inline constexpr std::uint16_t kCloseNoStatus = 1005;
// Never on the wire: the connection closed without a close frame.
inline constexpr std::uint16_t kCloseAbnormal = 1006;
inline constexpr std::uint16_t kCloseInvalidPayload = 1007;  // e.g. bad UTF-8 in a text message
inline constexpr std::uint16_t kClosePolicyViolation = 1008;
inline constexpr std::uint16_t kCloseMessageTooBig = 1009;
inline constexpr std::uint16_t kCloseMandatoryExtension = 1010;
inline constexpr std::uint16_t kCloseInternalError = 1011;
inline constexpr std::uint16_t kCloseServiceRestart = 1012;
inline constexpr std::uint16_t kCloseTryAgainLater = 1013;
inline constexpr std::uint16_t kCloseBadGateway = 1014;
// Never on the wire: the TLS handshake failed.
inline constexpr std::uint16_t kCloseTlsHandshake = 1015;

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
  // kCloseNoStatus when the frame had an empty payload.
  std::uint16_t code = kCloseNoStatus;
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
// `code` is kCloseNoStatus (an empty close frame). invalid_argument:
// a code that may not be sent, a reason longer than 123 bytes or not UTF-8,
// a reason without a code. resource_exhausted: `out` is too small.
Result<std::size_t> encode_close_payload(std::uint16_t code, std::string_view reason, ByteSpan out);

}  // namespace mote::websocket
