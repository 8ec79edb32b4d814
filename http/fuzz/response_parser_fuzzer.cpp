// Parses arbitrary bytes as a stream of responses to one kind of request;
// the same properties as the request fuzzer (see parse_stream.hpp).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "parse_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mote::http;
  if (size == 0) return 0;
  // The first byte picks the request method answered and the limits.
  constexpr Method kMethods[] = {Method::get, Method::head, Method::connect, Method::post};
  const Method method = kMethods[data[0] & 0x03u];
  ParserLimits limits;
  limits.max_head_size = 64 + ((data[0] >> 2) & 0x0fu) * 64;
  limits.max_body_size = (data[0] & 0x40u) != 0 ? 100 : UINT64_MAX;
  std::array<Header, 12> fields;
  ResponseParser parser(std::span(fields).first((data[0] & 0x80u) != 0 ? 3 : 12), method, limits);
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  fuzz::check_split_invariance(input, parser, method, 48);
  return 0;
}
