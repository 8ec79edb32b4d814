// Real bytes from python3-websockets 10.4 (testdata/capture.py) and Node's
// ws 8 (testdata/capture_ws.mjs) replayed into mote's connections: their
// clients' masked frames into a server, their servers' frames into a client,
// with and without permessage-deflate.
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/platform/sim_driver.hpp"
#include "mote/websocket/connection.hpp"
#include "mote/websocket/deflate.hpp"
#include "testdata/captures.hpp"
#include "testdata/captures_ws.hpp"
#include "testing/scripted_stream.hpp"

namespace mote::websocket {
namespace {

using scripted::DecodedFrame;
using scripted::ScriptedStream;
using scripted::ScriptedStreamState;

// The RFC's sample nonce for the handshake key, then a fixed mask key.
void sample_random(void* /*context*/, ByteSpan out) {
  static constexpr std::string_view kNonce = "the sample nonce";
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = out.size() == 16 ? static_cast<std::byte>(kNonce[i]) : std::byte{0x11};
  }
}

struct Replay {
  std::vector<std::pair<MessageType, std::string>> messages;
  std::uint16_t close_code = 0;
  std::string close_reason;
  std::vector<DecodedFrame> written;  // after the handshake
  bool compressed = false;
};

template <typename Extension>
async::Task<Status> replay_session(Connection<ScriptedStream, Extension>& ws,
                                   ScriptedStreamState& state, Replay& replay,
                                   ConstByteSpan capture) {
  std::array<http::Header, 16> fields{};
  http::RequestParser parser(fields);
  if (ws.role() == Role::server) {
    Result<std::size_t> head = parser.parse_head(capture);
    if (!head.ok() || *head == 0) co_return Status::data_loss();
    state.input.assign(capture.begin() + static_cast<std::ptrdiff_t>(*head), capture.end());
    MOTE_CO_TRY(co_await ws.accept(parser.head()));
  } else {
    state.input.assign(capture.begin(), capture.end());
    MOTE_CO_TRY(co_await ws.connect(
        {.host = "127.0.0.1", .target = "/chat", .subprotocols = {}, .origin = {}}));
  }
  const std::size_t handshake = state.output.size();
  replay.compressed = ws.extension().active();
  std::vector<std::byte> buffer(1000);
  for (;;) {
    MOTE_CO_TRY_ASSIGN(Message m, co_await ws.receive(buffer));
    if (m.type == MessageType::close) break;
    replay.messages.emplace_back(m.type,
                                 std::string(as_string_view(ConstByteSpan(buffer).first(m.size))));
  }
  replay.close_code = ws.peer_close_code();
  replay.close_reason = std::string(ws.peer_close_reason());
  replay.written = scripted::split_frames(ConstByteSpan(state.output).subspan(handshake),
                                          ws.role() == Role::server ? Role::client : Role::server);
  co_return ok_status();
}

template <typename Extension>
Replay replay(std::span<const std::uint8_t> capture, Role role, Extension extension) {
  auto state = std::make_shared<ScriptedStreamState>();
  state->read_size = 7;  // frames split across reads everywhere
  std::array<std::byte, 512> read{};
  std::array<std::byte, kMinWriteBuffer> write{};
  Connection<ScriptedStream, Extension> ws(ScriptedStream(state), role, {read, write},
                                           RandomSource{nullptr, sample_random},
                                           std::move(extension));
  Replay result;
  platform::SimDriver driver;
  async::Executor executor(driver);
  auto storage = std::make_unique<async::TaskStorage<32 * 1024>>();
  EXPECT_TRUE(executor
                  .spawn(*storage, replay_session<Extension>, std::ref(ws), std::ref(*state),
                         std::ref(result), bytes_of(capture))
                  .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(storage->exit_status(), ok_status()) << (ws.failure() ? ws.failure() : "");
  return result;
}

void expect_script(const Replay& r, std::uint16_t code, std::string_view reason) {
  std::string binary;
  for (int i = 0; i < 300; ++i) binary += static_cast<char>(i % 256);
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0], std::make_pair(MessageType::text, std::string("Hello")));
  EXPECT_EQ(r.messages[1].first, MessageType::binary);
  EXPECT_TRUE(r.messages[1].second == binary);
  EXPECT_EQ(r.messages[2], std::make_pair(MessageType::text, std::string("fragmented")));
  EXPECT_EQ(r.close_code, code);
  EXPECT_EQ(r.close_reason, reason);
  // The ping was answered and the close echoed.
  ASSERT_EQ(r.written.size(), 2u);
  EXPECT_EQ(r.written[0].header.opcode, Opcode::pong);
  EXPECT_EQ(std::string(as_string_view(r.written[0].payload)), "p");
  EXPECT_EQ(r.written[1].header.opcode, Opcode::close);
  EXPECT_EQ(load_be16(r.written[1].payload.data()), code);
}

TEST(CaptureTest, PythonClientFramesIntoMoteServer) {
  const Replay r = replay(captures::kPythonClient, Role::server, NoExtension{});
  expect_script(r, 1000, "bye");
  EXPECT_FALSE(r.compressed);
}

TEST(CaptureTest, PythonServerFramesIntoMoteClient) {
  const Replay r = replay(captures::kPythonServer, Role::client, NoExtension{});
  expect_script(r, 1001, "going away");
  for (const DecodedFrame& frame : r.written) EXPECT_TRUE(frame.header.masked);
}

TEST(CaptureTest, PythonClientDeflatedFramesIntoMoteServer) {
  const Replay r = replay(captures::kPythonClientDeflate, Role::server, PerMessageDeflate());
  EXPECT_TRUE(r.compressed);
  expect_script(r, 1000, "bye");
}

TEST(CaptureTest, PythonServerDeflatedFramesIntoMoteClient) {
  const Replay r = replay(captures::kPythonServerDeflate, Role::client, PerMessageDeflate());
  EXPECT_TRUE(r.compressed);
  expect_script(r, 1001, "going away");
}

TEST(CaptureTest, WsClientFramesIntoMoteServer) {
  expect_script(replay(captures::kWsClient, Role::server, NoExtension{}), 1000, "bye");
}

TEST(CaptureTest, WsServerFramesIntoMoteClient) {
  expect_script(replay(captures::kWsServer, Role::client, NoExtension{}), 1001, "going away");
}

TEST(CaptureTest, WsClientDeflatedFramesIntoMoteServer) {
  const Replay r = replay(captures::kWsClientDeflate, Role::server, PerMessageDeflate());
  EXPECT_TRUE(r.compressed);
  expect_script(r, 1000, "bye");  // fragments of one compressed message, each flushed
}

TEST(CaptureTest, WsServerDeflatedFramesIntoMoteClient) {
  const Replay r = replay(captures::kWsServerDeflate, Role::client, PerMessageDeflate());
  EXPECT_TRUE(r.compressed);
  expect_script(r, 1001, "going away");
}

}  // namespace
}  // namespace mote::websocket
