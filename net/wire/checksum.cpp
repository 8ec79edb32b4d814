#include "mote/net/wire/checksum.hpp"

#if MOTE_NET_CHECKSUM_AVX2
#include <immintrin.h>

namespace mote::net::wire::internal {
namespace {

// The native 16-bit words of `len` bytes (a multiple of 32), 32 bytes a
// step, copied to `to` on the way when kCopy. Each 32-bit lane of a step
// holds two words: their low and high halves go to two accumulators of
// eight 32-bit lanes, which take at most 0xffff a step each, so they are
// emptied into the 64-bit total every 32,768 steps, long before they could
// overflow.
template <bool kCopy>
__attribute__((target("avx2"))) std::uint64_t sum_words(const std::byte* from, std::byte* to,
                                                        std::size_t len) {
  constexpr std::size_t kStep = 32;
  constexpr std::size_t kStepsPerFold = 32768;
  const __m256i low_halves = _mm256_set1_epi32(0xffff);
  std::uint64_t total = 0;
  std::size_t i = 0;
  while (i < len) {
    const std::size_t end = len - i > kStep * kStepsPerFold ? i + kStep * kStepsPerFold : len;
    __m256i low = _mm256_setzero_si256();
    __m256i high = _mm256_setzero_si256();
    for (; i < end; i += kStep) {
      const __m256i words = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(from + i));
      if constexpr (kCopy) _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + i), words);
      low = _mm256_add_epi32(low, _mm256_and_si256(words, low_halves));
      high = _mm256_add_epi32(high, _mm256_srli_epi32(words, 16));
    }
    alignas(32) std::uint32_t lanes[16];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), low);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 8), high);
    for (const std::uint32_t lane : lanes) total += lane;
  }
  return total;
}

bool detect_avx2() {
  // Run as a static initializer, possibly before the one that reads the CPU
  // model (GCC's manual for __builtin_cpu_supports): read it first.
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}

}  // namespace

extern const bool kCpuHasAvx2 = detect_avx2();

std::uint64_t sum_native_words_avx2(const std::byte* data, std::size_t len) {
  return sum_words<false>(data, nullptr, len);
}

std::uint64_t copy_native_words_avx2(const std::byte* from, std::byte* to, std::size_t len) {
  return sum_words<true>(from, to, len);
}

}  // namespace mote::net::wire::internal

#endif
