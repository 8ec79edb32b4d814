#pragma once
// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
// complement sum of the data taken as big-endian 16-bit words. IPv4, ICMPv4,
// UDP and TCP all use it; UDP and TCP add the IPv4 pseudo-header.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "mote/base/bytes.hpp"
#include "mote/net/wire/address.hpp"

// x86-64 Linux hosts sum 32 bytes a step with AVX2 when the CPU has it
// (checked once, at run time); everything else takes the portable loops.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define MOTE_NET_CHECKSUM_AVX2 1
#else
#define MOTE_NET_CHECKSUM_AVX2 0
#endif

namespace mote::net::wire {

#if MOTE_NET_CHECKSUM_AVX2
namespace internal {
// Whether the CPU has AVX2, found out as the program starts: a load, not a
// call, per payload. Read before that (from another static initializer) it
// is false, which only means the portable loops.
extern const bool kCpuHasAvx2;
// The native-order 16-bit words of `len` bytes (a multiple of 32), summed
// without folding; the second also copies them to `to`.
std::uint64_t sum_native_words_avx2(const std::byte* data, std::size_t len);
std::uint64_t copy_native_words_avx2(const std::byte* from, std::byte* to, std::size_t len);
}  // namespace internal
#endif

// What a Repr's parse does with a checksum field. `ignore` is for hardware
// that has already checked it and for fuzzing, where a random input almost
// never carries a valid checksum. Emitting always writes a correct checksum.
enum class ChecksumMode : std::uint8_t { verify, ignore };

// An incremental one's complement sum. Data may be added in pieces of any
// length: RFC 1071 §2(A) lets the sum be taken in any order of 16-bit words,
// and a piece of odd length is continued at the right byte of the next word.
class InternetChecksum {
 public:
  constexpr InternetChecksum() = default;

  constexpr void add(ConstByteSpan data) {
    std::size_t i = 0;
    if (odd_ && !data.empty()) {
      sum_ += std::to_integer<std::uint32_t>(data[0]);
      odd_ = false;
      i = 1;
    }
    if (kWideSum && !std::is_constant_evaluated() && data.size() - i >= kWideMin) {
      const std::size_t wide_len = (data.size() - i) & ~std::size_t{3};
      add_folded(sum_native_words(data.data() + i, wide_len));
      i += wide_len;
    }
    // RFC 1071 §4.1 folds the carries once at the end; a 32-bit accumulator
    // is folded every 32 Ki words as well so that it never overflows.
    std::size_t words_since_fold = 0;
    for (; i + 1 < data.size(); i += 2) {
      sum_ += load_be16(data.data() + i);
      if (++words_since_fold == 0x8000) {
        fold();
        words_since_fold = 0;
      }
    }
    if (i < data.size()) {
      // RFC 1071 §4.1: "Add left-over byte, if any" as the high byte of a word.
      sum_ += std::to_integer<std::uint32_t>(data[i]) << 8;
      odd_ = true;
    }
    fold();
  }
  // Copies `from` to `to` (which has room and does not overlap it) and adds
  // it, as add(): on 64-bit hosts in one pass over the bytes, so that a
  // payload taken from a send buffer into a frame is read once (the
  // copy-and-checksum of RFC 1071 §4, "combine the checksum with the copy").
  void add_copy(ConstByteSpan from, std::byte* to) {
    if (kWideSum && !odd_ && from.size() >= kWideMin) {
      const std::size_t wide_len = from.size() & ~std::size_t{3};
      add_folded(copy_native_words(from.data(), to, wide_len));
      from = from.subspan(wide_len);
      to += wide_len;
    }
    if (from.empty()) return;
    std::memcpy(to, from.data(), from.size());
    add(ConstByteSpan(to, from.size()));
  }
  // Adds another sum over data that follows at an even offset.
  constexpr void add_sum(const InternetChecksum& other) { add_u16(other.sum()); }
  // A 16- or 32-bit value in network order, at an even offset.
  constexpr void add_u16(std::uint16_t value) {
    sum_ += value;
    fold();
  }
  constexpr void add_u32(std::uint32_t value) {
    sum_ += value >> 16;
    sum_ += value & 0xffffu;
    fold();
  }
  // The IPv4 pseudo-header of RFC 793 §3.1 / RFC 768: source address,
  // destination address, zero, protocol, and the TCP or UDP length.
  constexpr void add_ipv4_pseudo_header(Ipv4Address source, Ipv4Address destination,
                                        std::uint8_t protocol, std::uint16_t length) {
    add_u32(source.to_u32());
    add_u32(destination.to_u32());
    add_u16(protocol);
    add_u16(length);
  }

  // The folded one's complement sum.
  [[nodiscard]] constexpr std::uint16_t sum() const {
    Accumulator sum = sum_;
    while (sum > 0xffffu) sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
  }
  // The value for a checksum field: the complement of the sum.
  [[nodiscard]] constexpr std::uint16_t checksum() const {
    return static_cast<std::uint16_t>(~sum());
  }
  // Over data that includes its checksum field: RFC 1071 §1(3), the sum of
  // everything, checksum included, is all ones when nothing was damaged.
  [[nodiscard]] constexpr bool verifies() const { return sum() == 0xffffu; }

 private:
  // The wide sum on 64-bit hosts only: on a Cortex-M0, which has no
  // unaligned word loads, it gains little and costs about 500 bytes of
  // code where it is inlined. Below kWideMin bytes the word loop is as fast.
  static constexpr bool kWideSum = sizeof(std::size_t) >= 8;
  static constexpr std::size_t kWideMin = 16;
  // From this length on the AVX2 loop (when there is one) pays for its call.
  static constexpr std::size_t kVectorMin = 128;

  // A 64-bit accumulator takes 2^48 words before it could overflow, so it
  // is folded once, in sum(); a 32-bit one after every addition, which
  // keeps the loops above short on a Cortex-M0.
  using Accumulator = std::conditional_t<kWideSum, std::uint64_t, std::uint32_t>;
  constexpr void fold() {
    if constexpr (!kWideSum) {
      while (sum_ > 0xffffu) sum_ = (sum_ & 0xffffu) + (sum_ >> 16);
    }
  }
  // Adds a one's complement sum of big-endian words.
  constexpr void add_folded(std::uint16_t sum) {
    sum_ += sum;
    fold();
  }
  // The folded one's complement sum of the big-endian 16-bit words of
  // `len` bytes (a multiple of 4), read 32 bits at a time in the machine's
  // own byte order into a 64-bit accumulator (2^32 additions before it could
  // overflow; compilers vectorize this loop). RFC 1071 §2(B), "Byte order independence": the sum of
  // byte-swapped words is the byte-swapped sum, so on a little-endian
  // machine one swap of the folded result gives the big-endian sum.
  static std::uint16_t sum_native_words(const std::byte* data, std::size_t len) {
    std::uint64_t wide = 0;
    std::size_t i = 0;
#if MOTE_NET_CHECKSUM_AVX2
    if (len >= kVectorMin && internal::kCpuHasAvx2) {
      i = len & ~std::size_t{31};
      wide = internal::sum_native_words_avx2(data, i);
    }
#endif
    for (; i < len; i += 4) {
      std::uint32_t word = 0;
      std::memcpy(&word, data + i, sizeof word);
      wide += word;
    }
    return fold_native(wide);
  }

  // sum_native_words() while copying the bytes to `to`.
  static std::uint16_t copy_native_words(const std::byte* from, std::byte* to, std::size_t len) {
    std::uint64_t wide = 0;
    std::size_t i = 0;
#if MOTE_NET_CHECKSUM_AVX2
    if (len >= kVectorMin && internal::kCpuHasAvx2) {
      i = len & ~std::size_t{31};
      wide = internal::copy_native_words_avx2(from, to, i);
    }
#endif
    for (; i < len; i += 4) {
      std::uint32_t word = 0;
      std::memcpy(&word, from + i, sizeof word);
      std::memcpy(to + i, &word, sizeof word);
      wide += word;
    }
    return fold_native(wide);
  }
  static std::uint16_t fold_native(std::uint64_t wide) {
    while (wide > 0xffffu) wide = (wide & 0xffffu) + (wide >> 16);
    auto sum = static_cast<std::uint16_t>(wide);
    if constexpr (std::endian::native == std::endian::little) {
      sum = static_cast<std::uint16_t>((sum >> 8) | (sum << 8));
    }
    return sum;
  }

  Accumulator sum_ = 0;
  bool odd_ = false;
};

// The checksum of `data` alone.
[[nodiscard]] constexpr std::uint16_t internet_checksum(ConstByteSpan data) {
  InternetChecksum checksum;
  checksum.add(data);
  return checksum.checksum();
}

}  // namespace mote::net::wire
