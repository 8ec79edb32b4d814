#include "mote/base/sha1.hpp"

namespace mote {
namespace {

constexpr std::uint32_t rotate_left(std::uint32_t value, unsigned bits) {
  return (value << bits) | (value >> (32u - bits));
}

}  // namespace

void Sha1::reset() { *this = Sha1(); }

// RFC 3174 §6.1, method 1: an 80-word schedule, four rounds of 20 steps.
void Sha1::process_block(const std::byte* block) {
  std::array<std::uint32_t, 80> w{};
  for (std::size_t t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
  for (std::size_t t = 16; t < 80; ++t) {
    w[t] = rotate_left(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  }
  std::uint32_t a = state_[0];
  std::uint32_t b = state_[1];
  std::uint32_t c = state_[2];
  std::uint32_t d = state_[3];
  std::uint32_t e = state_[4];
  for (std::size_t t = 0; t < 80; ++t) {
    std::uint32_t f = 0;
    std::uint32_t k = 0;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999u;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1u;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDCu;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6u;
    }
    const std::uint32_t temp = rotate_left(a, 5) + f + e + w[t] + k;
    e = d;
    d = c;
    c = rotate_left(b, 30);
    b = a;
    a = temp;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
}

void Sha1::update(ConstByteSpan data) {
  length_ += data.size();
  std::size_t i = 0;
  if (block_size_ > 0) {
    while (i < data.size() && block_size_ < kBlockSize) block_[block_size_++] = data[i++];
    if (block_size_ < kBlockSize) return;
    process_block(block_.data());
    block_size_ = 0;
  }
  for (; data.size() - i >= kBlockSize; i += kBlockSize) process_block(data.data() + i);
  while (i < data.size()) block_[block_size_++] = data[i++];
}

Sha1::Digest Sha1::finish() {
  // RFC 3174 §4: a 1 bit, zeros up to 56 bytes mod 64, the bit length (64-bit big-endian).
  const std::uint64_t bit_length = length_ * 8;
  block_[block_size_++] = std::byte{0x80};
  if (block_size_ > kBlockSize - 8) {
    while (block_size_ < kBlockSize) block_[block_size_++] = std::byte{0};
    process_block(block_.data());
    block_size_ = 0;
  }
  while (block_size_ < kBlockSize - 8) block_[block_size_++] = std::byte{0};
  store_be64(block_.data() + kBlockSize - 8, bit_length);
  process_block(block_.data());
  Digest digest{};
  for (std::size_t i = 0; i < state_.size(); ++i) store_be32(digest.data() + 4 * i, state_[i]);
  reset();
  return digest;
}

}  // namespace mote
