#pragma once
// SHA-1 (RFC 3174 / FIPS 180-4). Not for security: SHA-1 is broken for
// collision resistance. mote uses it where a protocol fixes it as a
// fingerprint, e.g. the WebSocket handshake's Sec-WebSocket-Accept
// (RFC 6455 §4.2.2). Freestanding, no heap; 96 bytes of state.

#include <array>
#include <cstddef>
#include <cstdint>

#include "mote/base/bytes.hpp"

namespace mote {

class Sha1 {
 public:
  static constexpr std::size_t kDigestSize = 20;
  using Digest = std::array<std::byte, kDigestSize>;

  // Adds bytes to the message; may be called any number of times.
  void update(ConstByteSpan data);
  // Pads, returns the digest and resets to an empty message.
  Digest finish();

  // The digest of one message.
  static Digest of(ConstByteSpan data) {
    Sha1 sha1;
    sha1.update(data);
    return sha1.finish();
  }

 private:
  static constexpr std::size_t kBlockSize = 64;
  void process_block(const std::byte* block);
  void reset();

  std::array<std::uint32_t, 5> state_{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
                                      0xC3D2E1F0u};
  std::uint64_t length_ = 0;  // bytes so far
  std::array<std::byte, kBlockSize> block_{};
  std::size_t block_size_ = 0;
};

}  // namespace mote
