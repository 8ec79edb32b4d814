// Arbitrary bytes as what a client sends after an MQTT WebSocket handshake
// (with or without permessage-deflate, read in pieces of 1..16 bytes: the
// first byte picks), through MqttWebSocketStream into the broker's
// serve_connection on a simulated clock. Properties: no crash or sanitizer
// report, the connection ends, every byte the broker wrote after the 101
// is whole server frames (unmasked), and the uncompressed binary payloads
// join into whole MQTT packets.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/broker/broker.hpp"
#include "mote/broker/websocket.hpp"
#include "mote/mqtt/codec.hpp"
#include "mote/platform/sim_driver.hpp"
#include "testing/scripted_stream.hpp"

namespace {

using namespace mote;
using websocket::scripted::ScriptedStream;
using websocket::scripted::ScriptedStreamState;

void check(bool condition, int line = __builtin_LINE()) {
  if (!condition) {
    std::fprintf(stderr, "check failed at line %d\n", line);
    std::abort();
  }
}

constexpr std::string_view kRequest =
    "GET /mqtt HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: mqtt\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";
constexpr std::string_view kDeflateRequest =
    "GET /mqtt HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: mqtt\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

struct Run {
  std::shared_ptr<ScriptedStreamState> state = std::make_shared<ScriptedStreamState>();
  std::string_view request;
  broker::Limits limits;
  broker::AccessPolicy access;
  broker::Core core{broker::CoreOptions{}};
  std::size_t response_size = 0;
  bool accepted = false;
};

async::Task<void> serve(Run& run) {
  std::array<http::Header, 16> fields{};
  http::RequestParser parser(fields);
  check(parser.parse_head(bytes_of(run.request)).value_or(0) == run.request.size());
  ScriptedStream tcp(run.state);
  Result<broker::MqttWebSocketStream<ScriptedStream>> stream =
      co_await broker::MqttWebSocketStream<ScriptedStream>::accept(tcp, parser.head(), {},
                                                                   run.limits.max_packet_size);
  check(stream.ok());
  run.accepted = true;
  run.response_size = run.state->output.size();
  broker::Connection connection(run.core, run.limits, run.access);
  co_await broker::serve_connection(*stream, connection, run.core);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Run run;
  run.request = (data[0] & 0x80) != 0 ? kDeflateRequest : kRequest;
  run.limits.max_packet_size = 4096;
  run.state->read_size = 1 + (data[0] & 0x0f);
  const auto input = std::span<const std::uint8_t>(data + 1, size - 1);
  for (const std::uint8_t byte : input) run.state->input.push_back(static_cast<std::byte>(byte));
  {
    platform::SimDriver driver;
    async::Executor executor(driver);
    auto storage = std::make_unique<async::TaskStorage<32 * 1024>>();
    check(executor.spawn(*storage, serve, std::ref(run)).ok());
    check(executor.run().ok());
    check(storage->state() == async::TaskState::finished);
  }
  check(run.accepted);

  // What the broker wrote: whole server frames; uncompressed binary
  // payloads join into whole MQTT packets.
  ConstByteSpan rest = ConstByteSpan(run.state->output).subspan(run.response_size);
  std::vector<std::byte> packets;
  bool compressed = false;
  while (!rest.empty()) {
    const websocket::FrameParse parse = websocket::parse_frame_header(
        rest, websocket::FrameRules{websocket::Role::client, websocket::kRsv1});
    check(parse.complete() && !parse.header.masked);
    check(rest.size() - parse.header_size >= parse.header.payload_length);
    const ConstByteSpan payload =
        rest.subspan(parse.header_size, static_cast<std::size_t>(parse.header.payload_length));
    if (parse.header.opcode == websocket::Opcode::binary) {
      compressed = compressed || (parse.header.rsv & websocket::kRsv1) != 0;
      packets.insert(packets.end(), payload.begin(), payload.end());
    }
    rest = rest.subspan(parse.header_size + payload.size());
  }
  if (!compressed) {
    ConstByteSpan stream(packets);
    while (!stream.empty()) {
      const auto frame = mqtt::frame_packet(stream);
      check(frame.ok() && frame->size != 0);
      stream = stream.subspan(frame->size);
    }
  }
  return 0;
}
