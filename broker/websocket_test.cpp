// MqttWebSocketStream under the broker's serve_connection, over a scripted
// stream on a simulated clock: packets split across frames and several in
// one frame, pings, the client's close, text frames and oversized
// messages. (Real clients over real sockets: broker_interop_test.)

#include "mote/broker/websocket.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/broker/broker.hpp"
#include "mote/broker/core.hpp"
#include "mote/mqtt/codec.hpp"
#include "mote/platform/sim_driver.hpp"
#include "testing/scripted_stream.hpp"

namespace mote::broker {
namespace {

using websocket::Opcode;
using websocket::Role;
using websocket::scripted::DecodedFrame;
using websocket::scripted::make_frame;
using websocket::scripted::ScriptedStream;
using websocket::scripted::ScriptedStreamState;
using websocket::scripted::split_frames;

constexpr std::string_view kRequest =
    "GET /mqtt HTTP/1.1\r\n"
    "Host: broker\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Protocol: foo, mqtt\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (const int value : values) out.push_back(static_cast<std::byte>(value));
  return out;
}

// MQTT 3.1.1 CONNECT (client id "c", keep-alive 60), SUBSCRIBE a/b QoS 1, PINGREQ.
const std::vector<std::byte> kConnect =
    bytes({0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 1, 'c'});
const std::vector<std::byte> kSubscribe = bytes({0x82, 8, 0, 1, 0, 3, 'a', '/', 'b', 1});
const std::vector<std::byte> kPingreq = bytes({0xc0, 0});

struct Harness {
  std::shared_ptr<ScriptedStreamState> state = std::make_shared<ScriptedStreamState>();
  Limits limits;
  AccessPolicy access;
  std::unique_ptr<Core> core = std::make_unique<Core>(CoreOptions{});
  std::size_t response_size = 0;
  Status accepted;

  void send(Opcode opcode, const std::vector<std::byte>& payload) {
    const std::vector<std::byte> frame = make_frame(opcode, payload);
    state->input.insert(state->input.end(), frame.begin(), frame.end());
  }

  static async::Task<void> serve(Harness& h) {
    std::array<http::Header, 16> fields{};
    http::RequestParser parser(fields);
    EXPECT_EQ(parser.parse_head(bytes_of(kRequest)).value_or(0), kRequest.size());
    ScriptedStream tcp(h.state);
    Result<MqttWebSocketStream<ScriptedStream>> stream =
        co_await MqttWebSocketStream<ScriptedStream>::accept(tcp, parser.head(), {},
                                                             h.limits.max_packet_size);
    h.accepted = stream.status();
    if (!stream.ok()) co_return;
    h.response_size = h.state->output.size();
    Connection connection(*h.core, h.limits, h.access);
    co_await serve_connection(*stream, connection, *h.core);
  }

  // Runs the connection over what was sent; returns the server's frames.
  std::vector<DecodedFrame> run() {
    platform::SimDriver driver;
    async::Executor executor(driver);
    auto storage = std::make_unique<async::TaskStorage<32 * 1024>>();
    EXPECT_TRUE(executor.spawn(*storage, serve, std::ref(*this)).ok());
    EXPECT_TRUE(executor.run().ok());
    EXPECT_TRUE(accepted.ok()) << accepted.str();
    return split_frames(ConstByteSpan(state->output).subspan(response_size), Role::client);
  }

  [[nodiscard]] std::string response() const {
    return std::string(as_string_view(ConstByteSpan(state->output).first(response_size)));
  }
};

// The MQTT packet types in the binary frames' payloads, concatenated.
std::vector<int> packet_types(const std::vector<DecodedFrame>& frames) {
  std::vector<std::byte> stream;
  for (const DecodedFrame& frame : frames) {
    EXPECT_FALSE(frame.header.masked);
    if (frame.header.opcode == Opcode::binary) {
      stream.insert(stream.end(), frame.payload.begin(), frame.payload.end());
    }
  }
  std::vector<int> types;
  ConstByteSpan rest(stream);
  while (!rest.empty()) {
    const auto frame = mqtt::frame_packet(rest);
    if (!frame.ok() || frame->size == 0) {
      ADD_FAILURE() << "a partial or malformed packet from the broker";
      break;
    }
    types.push_back(std::to_integer<int>(rest[0]) >> 4);
    rest = rest.subspan(frame->size);
  }
  return types;
}

// The close code of the server's close frame (0: none sent).
int close_code(const std::vector<DecodedFrame>& frames) {
  for (const DecodedFrame& frame : frames) {
    if (frame.header.opcode == Opcode::close && frame.payload.size() >= 2) {
      return (std::to_integer<int>(frame.payload[0]) << 8) | std::to_integer<int>(frame.payload[1]);
    }
  }
  return 0;
}

TEST(MqttWebSocket, AcceptsTheMqttSubprotocol) {
  Harness h;
  h.run();
  EXPECT_NE(h.response().find("101 Switching Protocols"), std::string::npos) << h.response();
  EXPECT_NE(h.response().find("Sec-WebSocket-Protocol: mqtt\r\n"), std::string::npos)
      << h.response();
}

TEST(MqttWebSocket, PacketsSplitAcrossFramesAndSeveralInOne) {
  Harness h;
  // CONNECT cut in three frames (one of them inside the length), then
  // SUBSCRIBE and PINGREQ together in one frame, a ping between.
  h.send(Opcode::binary, std::vector<std::byte>(kConnect.begin(), kConnect.begin() + 1));
  h.send(Opcode::binary, std::vector<std::byte>(kConnect.begin() + 1, kConnect.begin() + 6));
  h.send(Opcode::ping, bytes({'p'}));
  h.send(Opcode::binary, std::vector<std::byte>(kConnect.begin() + 6, kConnect.end()));
  std::vector<std::byte> both = kSubscribe;
  both.insert(both.end(), kPingreq.begin(), kPingreq.end());
  h.send(Opcode::binary, both);
  // Then the client stays (until the keep-alive ends it, in virtual time).
  h.state->wait_when_empty = true;
  const std::vector<DecodedFrame> frames = h.run();
  EXPECT_EQ(packet_types(frames), (std::vector<int>{2, 9, 13}));  // CONNACK, SUBACK, PINGRESP
  bool ponged = false;
  for (const DecodedFrame& frame : frames) {
    ponged = ponged || (frame.header.opcode == Opcode::pong && frame.payload == bytes({'p'}));
  }
  EXPECT_TRUE(ponged);
}

TEST(MqttWebSocket, TheClientsCloseIsAnsweredAndEndsTheConnection) {
  Harness h;
  h.send(Opcode::binary, kConnect);
  h.send(Opcode::close, bytes({0x03, 0xe8}));
  const std::vector<DecodedFrame> frames = h.run();
  EXPECT_EQ(close_code(frames), 1000);
  EXPECT_TRUE(h.state->closed);
}

TEST(MqttWebSocket, TextFramesAreClosedWith1003) {
  Harness h;
  h.send(Opcode::text, bytes({0x10, 0}));
  const std::vector<DecodedFrame> frames = h.run();
  EXPECT_TRUE(packet_types(frames).empty());
  EXPECT_EQ(close_code(frames), 1003);
}

TEST(MqttWebSocket, MessagesOverThePacketLimitAreClosedWith1009) {
  Harness h;
  h.limits.max_packet_size = 64;
  h.send(Opcode::binary, kConnect);
  h.send(Opcode::binary, std::vector<std::byte>(65, std::byte{0}));
  const std::vector<DecodedFrame> frames = h.run();
  EXPECT_EQ(close_code(frames), 1009);
  EXPECT_TRUE(h.state->closed);
}

TEST(MqttWebSocket, RefusesRequestsWithoutAnMqttSubprotocol) {
  const auto refusal = [](std::string_view request) {
    std::array<http::Header, 16> fields{};
    http::RequestParser parser(fields);
    EXPECT_EQ(parser.parse_head(bytes_of(request)).value_or(0), request.size());
    return !mqtt_websocket_refusal(parser.head()).empty();
  };
  EXPECT_FALSE(refusal(kRequest));
  EXPECT_TRUE(refusal("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_TRUE(refusal("GET / HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Protocol: mqttv5, chat\r\n\r\n"));
  EXPECT_FALSE(refusal("GET / HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Protocol: mqttv3.1\r\n\r\n"));
}

}  // namespace
}  // namespace mote::broker
