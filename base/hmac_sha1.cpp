#include "mote/base/hmac_sha1.hpp"

#include <algorithm>

namespace mote {

HmacSha1::HmacSha1(ConstByteSpan key) {
  // RFC 2104 §2: a key longer than the block is hashed first, then padded with zeros.
  std::array<std::byte, kBlockSize> block{};
  if (key.size() > kBlockSize) {
    const Digest hashed = Sha1::of(key);
    std::copy(hashed.begin(), hashed.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<std::byte, kBlockSize> inner_key{};
  for (std::size_t i = 0; i < kBlockSize; ++i) {
    inner_key[i] = block[i] ^ std::byte{0x36};
    outer_key_[i] = block[i] ^ std::byte{0x5c};
  }
  inner_.update(inner_key);
}

HmacSha1::Digest HmacSha1::finish() {
  const Digest inner = inner_.finish();
  Sha1 outer;
  outer.update(outer_key_);
  outer.update(inner);
  return outer.finish();
}

void pbkdf2_hmac_sha1(ConstByteSpan password, ConstByteSpan salt, std::uint32_t iterations,
                      ByteSpan out) {
  // RFC 8018 §5.2: T_i = U_1 ^ U_2 ^ ... ^ U_c, U_1 = PRF(P, S || INT(i)),
  // U_j = PRF(P, U_{j-1}); the output is T_1 || T_2 || ... cut to length.
  std::uint32_t block_index = 1;
  for (std::size_t done = 0; done < out.size(); ++block_index) {
    const std::array<std::byte, 4> index{
        static_cast<std::byte>(block_index >> 24), static_cast<std::byte>(block_index >> 16),
        static_cast<std::byte>(block_index >> 8), static_cast<std::byte>(block_index)};
    HmacSha1 first(password);
    first.update(salt);
    first.update(index);
    HmacSha1::Digest u = first.finish();
    HmacSha1::Digest t = u;
    for (std::uint32_t j = 1; j < iterations; ++j) {
      u = HmacSha1::of(password, u);
      for (std::size_t k = 0; k < t.size(); ++k) t[k] ^= u[k];
    }
    const std::size_t take = std::min(t.size(), out.size() - done);
    std::copy_n(t.begin(), take, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += take;
  }
}

}  // namespace mote
