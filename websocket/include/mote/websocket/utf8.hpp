#pragma once
// An incremental UTF-8 validator (RFC 3629 §4): text messages are checked
// as their fragments arrive, so a bad byte fails the connection at once
// (RFC 6455 §8.1) and a character split across frames is fine.
// Rejects overlong forms, UTF-16 surrogates (U+D800..U+DFFF) and code points
// above U+10FFFF. Freestanding; 3 bytes of state.

#include <cstdint>

#include "mote/base/bytes.hpp"

namespace mote::websocket {

class Utf8Validator {
 public:
  // Feeds the next bytes. Returns false once the input seen so far cannot
  // be the start of valid UTF-8 (and keeps returning false until reset()).
  bool feed(ConstByteSpan bytes);
  // The input so far is valid and ends on a character boundary.
  [[nodiscard]] bool complete() const { return !failed_ && pending_ == 0; }
  [[nodiscard]] bool failed() const { return failed_; }
  void reset() { *this = Utf8Validator(); }

 private:
  std::uint8_t pending_ = 0;   // continuation bytes still to come
  std::uint8_t lower_ = 0x80;  // range of the next continuation byte
  std::uint8_t upper_ = 0xBF;
  bool failed_ = false;
};

// The whole of `bytes` is valid UTF-8.
[[nodiscard]] bool is_valid_utf8(ConstByteSpan bytes);

}  // namespace mote::websocket
