// Feeds arbitrary bytes to the MQTT codec as a stream: the first byte picks
// the protocol version (odd: 5, even: 3.1.1), the rest is framed packet by
// packet. Checked: no out-of-bounds read (ASan) or undefined behaviour
// (UBSan) whatever the bytes; every packet that decodes encodes to exactly
// encoded_size() bytes, the encoding frames as one packet and decodes to an
// equal packet, and encoding that again gives the same bytes.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

#include "mote/mqtt/codec.hpp"

namespace {

using namespace mote;
using namespace mote::mqtt;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "mqtt codec fuzzer: %s\n", what);
    std::abort();
  }
}

unsigned touch(ConstByteSpan bytes) {
  unsigned sum = 0;
  for (std::byte b : bytes) sum += std::to_integer<unsigned>(b);
  return sum;
}

unsigned touch(std::string_view text) { return touch(bytes_of(text)); }

unsigned touch(const Properties& properties) {
  unsigned sum = 0;
  for (const Property& p : properties)
    sum += p.integer + touch(p.string) + touch(p.value) + touch(p.binary);
  return sum;
}

unsigned touch(const SubscriptionList& list) {
  unsigned sum = 0;
  for (const Subscription& s : list)
    sum += touch(s.filter) + static_cast<unsigned>(s.options.max_qos);
  return sum;
}

unsigned touch(const Packet& packet) {
  return std::visit(
      [](const auto& p) -> unsigned {
        using T = std::decay_t<decltype(p)>;
        unsigned sum = 0;
        if constexpr (requires { p.properties; }) sum += touch(p.properties);
        if constexpr (requires { p.subscriptions; }) sum += touch(p.subscriptions);
        if constexpr (requires { p.reasons; }) sum += touch(p.reasons.bytes());
        if constexpr (std::is_same_v<T, Publish>) sum += touch(p.topic) + touch(p.payload);
        if constexpr (std::is_same_v<T, Connect>) {
          sum += touch(p.client_id);
          if (p.will)
            sum += touch(p.will->topic) + touch(p.will->payload) + touch(p.will->properties);
          if (p.user_name) sum += touch(*p.user_name);
          if (p.password) sum += touch(*p.password);
        }
        return sum;
      },
      packet);
}

void round_trip(ConstByteSpan wire, ProtocolVersion version) {
  const DecodeResult<Packet> decoded = decode_packet(wire, version);
  if (!decoded.ok()) {
    check(decoded.error().reason != ReasonCode::success, "an error without a reason");
    return;
  }
  touch(*decoded);
  const Result<std::size_t> size = encoded_size(*decoded, version);
  check(size.ok(), "a decoded packet does not encode");
  std::vector<std::byte> out(*size);
  const Result<std::size_t> written = encode_packet(*decoded, version, out);
  check(written.ok() && *written == *size, "encode_packet disagrees with encoded_size");
  const DecodeResult<Frame> frame = frame_packet(out);
  check(frame.ok() && frame->size == out.size(), "the encoding does not frame as one packet");
  const DecodeResult<Packet> again = decode_packet(out, version);
  check(again.ok(), "the encoding does not decode");
  check(*again == *decoded, "the packet changed in a round trip");
  std::vector<std::byte> twice(*size);
  check(encode_packet(*again, version, twice).ok() && twice == out, "encoding is not stable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ProtocolVersion version = (data[0] & 1u) != 0 ? ProtocolVersion::v5 : ProtocolVersion::v311;
  ConstByteSpan stream = bytes_of(std::span(data + 1, size - 1));
  // A small limit now and then, so the too-large path runs too.
  const std::size_t limit = (data[0] & 2u) != 0 ? 64 : kMaxPacketSize;
  while (!stream.empty()) {
    const DecodeResult<Frame> frame = frame_packet(stream, limit);
    if (!frame.ok() || frame->size == 0) break;
    round_trip(stream.first(frame->size), version);
    stream = stream.subspan(frame->size);
  }
  return 0;
}
