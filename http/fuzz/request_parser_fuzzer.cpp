// Parses arbitrary bytes as a stream of pipelined requests. Properties:
// the outcome (every message's head and body, the error that stopped the
// stream, the bytes used) is the same whether the bytes arrive at once, cut
// at any one offset, or one byte at a time; bodies match Content-Length;
// every parse_body call makes progress (parse_stream.hpp asserts these).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "parse_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mote::http;
  if (size == 0) return 0;
  // The first byte picks limits small enough for the fuzzer to reach them.
  ParserLimits limits;
  limits.max_head_size = 64 + (data[0] & 0x0fu) * 64;
  limits.max_body_size = (data[0] & 0x10u) != 0 ? 100 : UINT64_MAX;
  limits.max_chunk_line = (data[0] & 0x20u) != 0 ? 16 : 1024;
  limits.max_trailer_size = (data[0] & 0x40u) != 0 ? 32 : 4096;
  std::array<Header, 12> fields;
  RequestParser parser(std::span(fields).first((data[0] & 0x80u) != 0 ? 3 : 12), limits);
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  fuzz::check_split_invariance(input, parser, Method::get, 48);
  return 0;
}
