#include "mote/websocket/utf8.hpp"

namespace mote::websocket {

bool Utf8Validator::feed(ConstByteSpan bytes) {
  if (failed_) return false;
  for (const std::byte raw : bytes) {
    const auto byte = std::to_integer<std::uint8_t>(raw);
    if (pending_ != 0) {
      if (byte < lower_ || byte > upper_) {
        failed_ = true;
        return false;
      }
      --pending_;
      lower_ = 0x80;
      upper_ = 0xBF;
      continue;
    }
    if (byte < 0x80) continue;
    // RFC 3629 §4, UTF8-2..UTF8-4: the lead byte fixes the length and the
    // range of the first continuation byte (which excludes overlongs,
    // surrogates and everything past U+10FFFF).
    if (byte >= 0xC2 && byte <= 0xDF) {
      pending_ = 1;
    } else if (byte == 0xE0) {
      pending_ = 2;
      lower_ = 0xA0;
    } else if ((byte >= 0xE1 && byte <= 0xEC) || byte == 0xEE || byte == 0xEF) {
      pending_ = 2;
    } else if (byte == 0xED) {
      pending_ = 2;
      upper_ = 0x9F;
    } else if (byte == 0xF0) {
      pending_ = 3;
      lower_ = 0x90;
    } else if (byte >= 0xF1 && byte <= 0xF3) {
      pending_ = 3;
    } else if (byte == 0xF4) {
      pending_ = 3;
      upper_ = 0x8F;
    } else {
      failed_ = true;  // a stray continuation byte, C0/C1 (always overlong) or F5..FF
      return false;
    }
  }
  return true;
}

bool is_valid_utf8(ConstByteSpan bytes) {
  Utf8Validator validator;
  return validator.feed(bytes) && validator.complete();
}

}  // namespace mote::websocket
