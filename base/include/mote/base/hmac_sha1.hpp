#pragma once
// HMAC-SHA-1 (RFC 2104) and PBKDF2-HMAC-SHA-1 (RFC 8018 §5.2), on Sha1.
// For protocols that fix them, e.g. SCRAM-SHA-1 (RFC 5802). Freestanding,
// no heap.

#include <cstddef>
#include <cstdint>

#include "mote/base/bytes.hpp"
#include "mote/base/sha1.hpp"

namespace mote {

// One MAC computed incrementally: update() any number of times, then finish().
class HmacSha1 {
 public:
  static constexpr std::size_t kDigestSize = Sha1::kDigestSize;
  using Digest = Sha1::Digest;

  explicit HmacSha1(ConstByteSpan key);
  void update(ConstByteSpan data) { inner_.update(data); }
  // The MAC of everything given since construction; the object is spent.
  Digest finish();

  static Digest of(ConstByteSpan key, ConstByteSpan data) {
    HmacSha1 mac(key);
    mac.update(data);
    return mac.finish();
  }

 private:
  static constexpr std::size_t kBlockSize = 64;
  Sha1 inner_;
  std::array<std::byte, kBlockSize> outer_key_{};  // key XOR opad
};

// Fills `out` (any length) with PBKDF2-HMAC-SHA-1(password, salt, iterations).
// iterations >= 1.
void pbkdf2_hmac_sha1(ConstByteSpan password, ConstByteSpan salt, std::uint32_t iterations,
                      ByteSpan out);

}  // namespace mote
