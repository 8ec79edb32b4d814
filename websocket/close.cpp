#include "mote/websocket/close.hpp"

#include "mote/websocket/frame.hpp"
#include "mote/websocket/utf8.hpp"

namespace mote::websocket {

CloseParse parse_close_payload(ConstByteSpan payload) {
  CloseParse parse;
  if (payload.empty()) return parse;
  if (payload.size() > kMaxControlPayload) {
    parse.error = CloseError::too_long;
  } else if (payload.size() == 1) {
    parse.error = CloseError::truncated_code;
  } else if (parse.info.code = load_be16(payload.data());
             !is_valid_wire_close_code(parse.info.code)) {
    parse.error = CloseError::invalid_code;
  } else if (!is_valid_utf8(payload.subspan(2))) {
    parse.error = CloseError::invalid_reason;
  } else {
    parse.info.reason = as_string_view(payload.subspan(2));
  }
  return parse;
}

std::uint16_t close_code_for(CloseError error) {
  return error == CloseError::invalid_reason ? kCloseInvalidPayload : kCloseProtocolError;
}

Result<std::size_t> encode_close_payload(std::uint16_t code, std::string_view reason,
                                         ByteSpan out) {
  if (code == kCloseNoStatus) {
    if (!reason.empty()) return Status::invalid_argument();
    return std::size_t{0};
  }
  if (!is_valid_wire_close_code(code) || reason.size() > kMaxCloseReason ||
      !is_valid_utf8(bytes_of(reason))) {
    return Status::invalid_argument();
  }
  const std::size_t size = 2 + reason.size();
  if (out.size() < size) return Status::resource_exhausted();
  store_be16(out.data(), code);
  for (std::size_t i = 0; i < reason.size(); ++i) out[2 + i] = static_cast<std::byte>(reason[i]);
  return size;
}

}  // namespace mote::websocket
