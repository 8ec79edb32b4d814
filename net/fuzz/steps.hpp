#pragma once
// What the client fuzzers (DHCP client, DNS lookup) share: the failure
// report, a deterministic RandomSource, and the reader of their input, a
// list of steps that each start with an opcode byte.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

#include "mote/net/random_source.hpp"

namespace mote::net::fuzz {

inline void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "net client fuzzer: %s\n", what);
    std::abort();
  }
}

// A linear congruential generator: the same input always takes the same path.
class LcgRandom final : public RandomSource {
 public:
  explicit LcgRandom(std::uint32_t seed) : state_(seed) {}
  std::uint32_t next_u32() override { return state_ = state_ * 1664525u + 1013904223u; }

 private:
  std::uint32_t state_;
};

class StepReader {
 public:
  explicit StepReader(std::span<const std::uint8_t> input) : input_(input) {}

  std::optional<std::uint8_t> opcode() {
    if (input_.empty()) return std::nullopt;
    const std::uint8_t op = input_[0];
    input_ = input_.subspan(1);
    return op;
  }
  // Two bytes, big-endian.
  std::optional<std::uint16_t> u16() {
    if (input_.size() < 2) return std::nullopt;
    const auto value = static_cast<std::uint16_t>((input_[0] << 8) | input_[1]);
    input_ = input_.subspan(2);
    return value;
  }
  // A 2-byte length, then that many bytes (or what is left).
  std::optional<std::vector<std::byte>> message() {
    const std::optional<std::uint16_t> length = u16();
    if (!length) return std::nullopt;
    const std::size_t size = std::min<std::size_t>(*length, input_.size());
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = std::byte{input_[i]};
    input_ = input_.subspan(size);
    return bytes;
  }

 private:
  std::span<const std::uint8_t> input_;
};

}  // namespace mote::net::fuzz
