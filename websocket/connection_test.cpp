#include "mote/websocket/connection.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/timeout.hpp"
#include "mote/http/parser.hpp"
#include "mote/platform/sim_driver.hpp"
#include "testing/scripted_stream.hpp"

namespace mote::websocket {
namespace {

using scripted::DecodedFrame;
using scripted::make_frame;
using scripted::ScriptedStream;
using scripted::ScriptedStreamState;
using scripted::split_frames;

// Runs `body(harness)` as a task on a simulated clock to its end; returns
// the task's status.
template <typename Harness, typename Body>
Status run_task(Harness& harness, Body body) {
  platform::SimDriver driver;
  async::Executor executor(driver);
  auto storage = std::make_unique<async::TaskStorage<32 * 1024>>();
  EXPECT_TRUE(executor.spawn(*storage, body, std::ref(harness)).ok());
  EXPECT_TRUE(executor.run().ok());
  return storage->exit_status();
}

// RFC 6455 §1.2's opening handshake, parsed by the http module.
constexpr std::string_view kRfcRequest =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

// A parsed request head; its views point into `text`, which must stay.
struct ParsedRequest {
  explicit ParsedRequest(std::string_view text) : parser(fields) {
    EXPECT_EQ(parser.parse_head(bytes_of(text)).value_or(0), text.size());
  }
  const http::RequestHead& head() const { return parser.head(); }
  std::array<http::Header, 16> fields{};
  http::RequestParser parser;
};

std::string text(ConstByteSpan data) { return std::string(as_string_view(data)); }

void append(std::vector<std::byte>& to, const std::vector<std::byte>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

// A server connection over a scripted stream, accepted with the RFC's request.
struct ServerHarness {
  using Ws = Connection<ScriptedStream>;

  template <typename Body>
  Status run(Body body) {
    return run_task(*this, body);
  }

  static async::Task<Status> accept_and_receive(ServerHarness& t) {
    const std::string_view protocols[] = {"chat"};
    MOTE_CO_TRY(co_await t.ws.accept(t.request.head(), protocols));
    t.response_size = t.state->output.size();
    for (;;) {
      Result<Message> message = co_await t.ws.receive(t.message_buffer);
      if (!message.ok()) co_return message.status();
      t.messages.push_back(*message);
      t.payloads.emplace_back(
          t.message_buffer.begin(),
          t.message_buffer.begin() + static_cast<std::ptrdiff_t>(message->size));
      if (message->type == MessageType::close) co_return ok_status();
    }
  }

  // Frames the server wrote after its handshake response.
  std::vector<DecodedFrame> written_frames() const {
    return split_frames(ConstByteSpan(state->output).subspan(response_size), Role::client);
  }

  ParsedRequest request{kRfcRequest};
  std::shared_ptr<ScriptedStreamState> state = std::make_shared<ScriptedStreamState>();
  std::array<std::byte, kMinReadBuffer> read_buffer{};
  std::array<std::byte, kMinWriteBuffer> write_buffer{};
  std::vector<std::byte> message_buffer = std::vector<std::byte>(1000);
  Ws ws{ScriptedStream(state), Role::server, {read_buffer, write_buffer}};
  std::size_t response_size = 0;
  std::vector<Message> messages;
  std::vector<std::vector<std::byte>> payloads;
};

class ServerConnectionTest : public ::testing::Test, public ServerHarness {};

TEST_F(ServerConnectionTest, AnswersTheHandshakeAndReceivesMaskedText) {
  // RFC 6455 §5.7, a single-frame masked text message, then a close.
  state->input = {std::byte{0x81}, std::byte{0x85}, std::byte{0x37}, std::byte{0xfa},
                  std::byte{0x21}, std::byte{0x3d}, std::byte{0x7f}, std::byte{0x9f},
                  std::byte{0x4d}, std::byte{0x51}, std::byte{0x58}};
  append(state->input, make_frame(Opcode::close, make_bytes(0x03, 0xe8, 'b', 'y', 'e')));
  EXPECT_EQ(run(accept_and_receive), ok_status());
  EXPECT_EQ(text(ConstByteSpan(state->output).first(response_size)),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n\r\n");
  EXPECT_EQ(ws.subprotocol(), "chat");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].type, MessageType::text);
  EXPECT_EQ(text(payloads[0]), "Hello");
  EXPECT_EQ(messages[1].type, MessageType::close);
  EXPECT_EQ(ws.peer_close_code(), 1000);
  EXPECT_EQ(ws.peer_close_reason(), "bye");
  // The close is echoed (§5.5.1), unmasked, and the server closes the stream.
  const std::vector<DecodedFrame> frames = written_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header.opcode, Opcode::close);
  EXPECT_FALSE(frames[0].header.masked);
  constexpr auto kEcho = make_bytes(0x03, 0xe8);
  EXPECT_EQ(frames[0].payload, std::vector<std::byte>(kEcho.begin(), kEcho.end()));
  EXPECT_TRUE(state->closed);
  EXPECT_EQ(ws.state(), ConnectionState::closed);
}

TEST_F(ServerConnectionTest, ReassemblesFragmentsAroundControlFramesAtAnyReadSize) {
  for (std::size_t read_size : {1u, 2u, 3u, 7u, 1000u}) {
    SCOPED_TRACE(read_size);
    auto fresh = std::make_unique<ServerHarness>();
    fresh->state->read_size = read_size;
    std::vector<std::byte>& in = fresh->state->input;
    append(in, make_frame(Opcode::text, bytes_of("Hel"), false));
    append(in, make_frame(Opcode::ping, bytes_of("are you there")));
    append(in, make_frame(Opcode::continuation, bytes_of("lo, w\xc3"), false));
    append(in, make_frame(Opcode::pong, {}));
    append(in, make_frame(Opcode::continuation, bytes_of("\xb6rld"), true));
    append(in, make_frame(Opcode::binary, std::vector<std::byte>(300, std::byte{7})));
    append(in, make_frame(Opcode::close, {}));
    EXPECT_EQ(fresh->run(accept_and_receive), ok_status());
    ASSERT_EQ(fresh->messages.size(), 3u);
    EXPECT_EQ(text(fresh->payloads[0]), "Hello, w\xc3\xb6rld");
    EXPECT_EQ(fresh->payloads[1], std::vector<std::byte>(300, std::byte{7}));
    EXPECT_EQ(fresh->ws.pongs_received(), 1u);
    EXPECT_EQ(fresh->ws.peer_close_code(), kCloseNoStatus);
    const std::vector<DecodedFrame> frames = fresh->written_frames();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].header.opcode, Opcode::pong);
    EXPECT_EQ(text(frames[0].payload), "are you there");
    EXPECT_EQ(frames[1].header.opcode, Opcode::close);
    EXPECT_TRUE(frames[1].payload.empty());  // echoing an empty close
  }
}

// The close code the server failed with, and the status receive() gave.
struct Failure {
  Status status;
  std::uint16_t code = 0;
};

Failure fail_with(std::vector<std::byte> input, std::size_t max_message = 1000) {
  ServerHarness t;
  t.state->input = std::move(input);
  t.ws.set_max_message_size(max_message);
  Failure failure{t.run(ServerHarness::accept_and_receive), 0};
  const std::vector<DecodedFrame> frames = t.written_frames();
  if (!frames.empty() && frames.back().header.opcode == Opcode::close &&
      frames.back().payload.size() >= 2) {
    failure.code = load_be16(frames.back().payload.data());
  }
  EXPECT_TRUE(t.state->closed);
  EXPECT_NE(t.ws.failure(), nullptr);
  EXPECT_EQ(t.ws.state(), ConnectionState::closed);
  return failure;
}

TEST_F(ServerConnectionTest, ProtocolErrorsCloseWith1002) {
  const Failure unmasked = fail_with(make_frame(Opcode::text, bytes_of("hi"), true, false));
  EXPECT_EQ(unmasked.status, Status::data_loss());
  EXPECT_EQ(unmasked.code, kCloseProtocolError);
  EXPECT_EQ(fail_with(make_frame(Opcode::continuation, bytes_of("x"))).code, 1002);
  std::vector<std::byte> nested = make_frame(Opcode::text, bytes_of("a"), false);
  append(nested, make_frame(Opcode::text, bytes_of("b")));
  EXPECT_EQ(fail_with(nested).code, 1002);
  EXPECT_EQ(fail_with(make_frame(Opcode::binary, bytes_of("x"), true, true, kRsv1)).code, 1002);
  EXPECT_EQ(fail_with(make_frame(static_cast<Opcode>(0xB), {})).code, 1002);
  EXPECT_EQ(fail_with(make_frame(Opcode::close, make_bytes(0x03))).code, 1002);
  EXPECT_EQ(fail_with(make_frame(Opcode::close, make_bytes(0x03, 0xed))).code, 1002);  // 1005
  std::vector<std::byte> fragmented_ping = make_frame(Opcode::ping, {});
  fragmented_ping[0] = std::byte{0x09};
  EXPECT_EQ(fail_with(fragmented_ping).code, 1002);
}

TEST_F(ServerConnectionTest, BadUtf8ClosesWith1007) {
  const Failure bad = fail_with(make_frame(Opcode::text, bytes_of("\xed\xa0\x80")));
  EXPECT_EQ(bad.status, Status::data_loss());
  EXPECT_EQ(bad.code, kCloseInvalidPayload);
  // Fails on the first fragment already, before the message ends.
  EXPECT_EQ(fail_with(make_frame(Opcode::text, bytes_of("ok\xf5"), false)).code, 1007);
  // A truncated character at the end of the message.
  EXPECT_EQ(fail_with(make_frame(Opcode::text, bytes_of("ok\xc3"))).code, 1007);
  EXPECT_EQ(fail_with(make_frame(Opcode::close, make_bytes(0x03, 0xe8, 0xff))).code, 1007);
}

TEST_F(ServerConnectionTest, OversizedMessagesCloseWith1009) {
  const Failure big = fail_with(make_frame(Opcode::binary, std::vector<std::byte>(101)), 100);
  EXPECT_EQ(big.status, Status::resource_exhausted());
  EXPECT_EQ(big.code, kCloseMessageTooBig);
  std::vector<std::byte> fragments = make_frame(Opcode::binary, std::vector<std::byte>(60), false);
  append(fragments, make_frame(Opcode::continuation, std::vector<std::byte>(60)));
  EXPECT_EQ(fail_with(fragments, 100).code, 1009);
  // Exactly the limit is fine (then the script ends without a close: 1006).
  ServerHarness t;
  t.state->input = make_frame(Opcode::binary, std::vector<std::byte>(100));
  t.ws.set_max_message_size(100);
  EXPECT_EQ(t.run(accept_and_receive), Status::aborted());
  EXPECT_EQ(t.messages.size(), 1u);
  EXPECT_EQ(t.ws.peer_close_code(), kCloseAbnormal);
}

TEST_F(ServerConnectionTest, RefusesABadUpgradeWith426) {
  const ParsedRequest old_version(
      "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  auto body = [](ServerHarness& t, const http::RequestHead& head) -> async::Task<Status> {
    co_return co_await t.ws.accept(head);
  };
  platform::SimDriver driver;
  async::Executor executor(driver);
  auto storage = std::make_unique<async::TaskStorage<8192>>();
  ASSERT_TRUE(executor
                  .spawn(*storage, body, std::ref(static_cast<ServerHarness&>(*this)),
                         std::cref(old_version.head()))
                  .ok());
  ASSERT_TRUE(executor.run().ok());
  EXPECT_EQ(storage->exit_status(), Status::invalid_argument());
  EXPECT_TRUE(text(state->output).starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
  EXPECT_NE(text(state->output).find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_TRUE(state->closed);
}

TEST_F(ServerConnectionTest, SendsUnmaskedFramesWithEveryLengthForm) {
  auto body = [](ServerHarness& t) -> async::Task<Status> {
    MOTE_CO_TRY(co_await t.ws.accept(t.request.head()));
    t.response_size = t.state->output.size();
    MOTE_CO_TRY(co_await t.ws.send_text("Hello"));
    MOTE_CO_TRY(co_await t.ws.send_binary(std::vector<std::byte>(256, std::byte{1})));
    MOTE_CO_TRY(co_await t.ws.send_binary(std::vector<std::byte>(70000, std::byte{2})));
    MOTE_CO_TRY(co_await t.ws.send_text("fragmented!", 4));
    MOTE_CO_TRY(co_await t.ws.ping(bytes_of("p")));
    if (co_await t.ws.send_text("\xff") != Status::invalid_argument()) co_return Status::internal();
    MOTE_CO_TRY(co_await t.ws.close(kCloseGoingAway, "bye"));
    if (co_await t.ws.send_text("late") != Status::failed_precondition()) {
      co_return Status::internal();
    }
    co_return ok_status();
  };
  EXPECT_EQ(run(body), ok_status());
  const std::vector<DecodedFrame> frames = written_frames();
  ASSERT_EQ(frames.size(), 8u);
  // §5.7: "Hello" unmasked is 0x81 0x05 ...
  EXPECT_EQ(state->output[response_size], std::byte{0x81});
  EXPECT_EQ(state->output[response_size + 1], std::byte{0x05});
  EXPECT_EQ(text(frames[0].payload), "Hello");
  EXPECT_EQ(frames[1].payload.size(), 256u);
  EXPECT_EQ(frames[2].payload, std::vector<std::byte>(70000, std::byte{2}));
  std::string reassembled;
  for (int i = 3; i < 6; ++i) {
    EXPECT_EQ(frames[i].header.opcode, i == 3 ? Opcode::text : Opcode::continuation);
    EXPECT_EQ(frames[i].header.fin, i == 5);
    reassembled += text(frames[i].payload);
  }
  EXPECT_EQ(reassembled, "fragmented!");
  EXPECT_EQ(frames[6].header.opcode, Opcode::ping);
  EXPECT_EQ(frames[7].header.opcode, Opcode::close);
  EXPECT_EQ(text(frames[7].payload), std::string("\x03\xe9") + "bye");
  for (const DecodedFrame& frame : frames) EXPECT_FALSE(frame.header.masked);
  EXPECT_EQ(ws.state(), ConnectionState::closing);
  EXPECT_EQ(ws.close_code_sent(), kCloseGoingAway);
}

TEST_F(ServerConnectionTest, ClosingHandshakeStartedHere) {
  // Data already on its way still arrives; the peer's close ends it.
  append(state->input, make_frame(Opcode::text, bytes_of("late news")));
  append(state->input, make_frame(Opcode::close, make_bytes(0x03, 0xe8)));
  auto body = [](ServerHarness& t) -> async::Task<Status> {
    MOTE_CO_TRY(co_await t.ws.accept(t.request.head()));
    t.response_size = t.state->output.size();
    MOTE_CO_TRY(co_await t.ws.close(kCloseNormal, "done"));
    for (;;) {
      MOTE_CO_TRY_ASSIGN(Message m, co_await t.ws.receive(t.message_buffer));
      t.messages.push_back(m);
      if (m.type == MessageType::close) co_return ok_status();
    }
  };
  EXPECT_EQ(run(body), ok_status());
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].type, MessageType::text);
  const std::vector<DecodedFrame> frames = written_frames();
  ASSERT_EQ(frames.size(), 1u);  // our close only: the peer's is not answered again
  EXPECT_EQ(text(frames[0].payload), std::string("\x03\xe8") + "done");
  EXPECT_EQ(ws.peer_close_code(), 1000);
  EXPECT_TRUE(state->closed);
}

}  // namespace
}  // namespace mote::websocket

namespace mote::websocket {
namespace {

// Random bytes for the client: the RFC's sample nonce first (so the key is
// dGhlIHNhbXBsZSBub25jZQ==), then mask keys 0x37fa213d.
void scripted_random(void* /*context*/, ByteSpan out) {
  static constexpr std::string_view kNonce = "the sample nonce";
  static constexpr auto kMask = make_bytes(0x37, 0xfa, 0x21, 0x3d);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = out.size() == 16 ? static_cast<std::byte>(kNonce[i]) : kMask[i % 4];
  }
}

struct ClientHarness {
  using Ws = Connection<ScriptedStream>;

  template <typename Body>
  Status run(Body body) {
    return run_task(*this, body);
  }

  static async::Task<Status> connect(ClientHarness& t) {
    co_return co_await t.ws.connect({.host = "server.example.com",
                                     .target = "/chat",
                                     .subprotocols = "chat, superchat",
                                     .origin = {}});
  }

  std::shared_ptr<ScriptedStreamState> state = std::make_shared<ScriptedStreamState>();
  std::array<std::byte, 512> read_buffer{};
  std::array<std::byte, kMinWriteBuffer> write_buffer{};
  std::vector<std::byte> message_buffer = std::vector<std::byte>(1000);
  std::size_t request_size = 0;
  Ws ws{ScriptedStream(state),
        Role::client,
        {read_buffer, write_buffer},
        RandomSource{nullptr, scripted_random}};
};

constexpr std::string_view kRfcResponse =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "Sec-WebSocket-Protocol: chat\r\n"
    "\r\n";

void set_input(ScriptedStreamState& state, std::string_view head,
               const std::vector<std::byte>& frames = {}) {
  const ConstByteSpan bytes = bytes_of(head);
  state.input.assign(bytes.begin(), bytes.end());
  append(state.input, frames);
}

TEST(ClientConnectionTest, HandshakesThenSendsMaskedAndReceivesUnmasked) {
  for (std::size_t read_size : {1u, 5u, 4096u}) {
    SCOPED_TRACE(read_size);
    ClientHarness h;
    h.state->read_size = read_size;
    // The server's first frame arrives in the same read as its head.
    std::vector<std::byte> frames = make_frame(Opcode::text, bytes_of("Hello"), true, false);
    append(frames, make_frame(Opcode::close, make_bytes(0x03, 0xe8), true, false));
    set_input(*h.state, kRfcResponse, frames);
    auto body = [](ClientHarness& t) -> async::Task<Status> {
      MOTE_CO_TRY(co_await ClientHarness::connect(t));
      t.request_size = t.state->output.size();
      MOTE_CO_TRY(co_await t.ws.send_text("Hello"));
      MOTE_CO_TRY(co_await t.ws.send_binary(std::vector<std::byte>(300, std::byte{9}), 128));
      MOTE_CO_TRY_ASSIGN(Message m, co_await t.ws.receive(t.message_buffer));
      if (m.type != MessageType::text || m.size != 5) co_return Status::internal();
      MOTE_CO_TRY_ASSIGN(m, co_await t.ws.receive(t.message_buffer));
      if (m.type != MessageType::close) co_return Status::internal();
      co_return ok_status();
    };
    ASSERT_EQ(h.run(body), ok_status()) << (h.ws.failure() ? h.ws.failure() : "");
    EXPECT_EQ(text(ConstByteSpan(h.state->output).first(h.request_size)),
              "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n");
    EXPECT_EQ(h.ws.subprotocol(), "chat");
    // §5.7's masked "Hello", byte for byte (same key).
    const ConstByteSpan sent = ConstByteSpan(h.state->output).subspan(h.request_size);
    constexpr auto kMaskedHello =
        make_bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
    ASSERT_GE(sent.size(), kMaskedHello.size());
    EXPECT_TRUE(std::equal(kMaskedHello.begin(), kMaskedHello.end(), sent.begin()));
    const std::vector<DecodedFrame> frames_sent = split_frames(sent, Role::server);
    ASSERT_EQ(frames_sent.size(), 5u);  // text, 3 binary fragments, the close echo
    EXPECT_EQ(frames_sent[1].payload.size(), 128u);
    EXPECT_EQ(frames_sent[3].payload.size(), 44u);
    EXPECT_TRUE(frames_sent[3].header.fin);
    EXPECT_EQ(frames_sent[3].payload, std::vector<std::byte>(44, std::byte{9}));
    EXPECT_EQ(frames_sent[4].header.opcode, Opcode::close);
    EXPECT_EQ(h.ws.peer_close_code(), 1000);
  }
}

Status connect_with(std::string_view head, const std::vector<std::byte>& frames = {},
                    const char** failure = nullptr) {
  ClientHarness h;
  set_input(*h.state, head, frames);
  auto body = [](ClientHarness& t) -> async::Task<Status> {
    MOTE_CO_TRY(co_await ClientHarness::connect(t));
    MOTE_CO_TRY_ASSIGN(Message m, co_await t.ws.receive(t.message_buffer));
    (void)m;
    co_return ok_status();
  };
  const Status status = h.run(body);
  if (failure != nullptr) *failure = h.ws.failure();
  return status;
}

TEST(ClientConnectionTest, RefusesBadAnswers) {
  EXPECT_EQ(connect_with("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"),
            Status::unavailable());
  EXPECT_EQ(connect_with("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n"),
            Status::data_loss());
  EXPECT_EQ(connect_with("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                         "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
            Status::data_loss());
  EXPECT_EQ(connect_with("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                         "Sec-WebSocket-Protocol: mqtt\r\n\r\n"),
            Status::data_loss());
  EXPECT_EQ(connect_with("HTTP/1.1 101 Switching"), Status::aborted());
  EXPECT_EQ(connect_with("HTTP/1.1 101 Switching Protocols\r\nBad Header\r\n\r\n"),
            Status::data_loss());
  EXPECT_EQ(connect_with(std::string(600, 'x')), Status::resource_exhausted());
  const char* failure = nullptr;
  EXPECT_EQ(connect_with("HTTP/1.1 101 OK\r\nX: " + std::string(600, 'x'), {}, &failure),
            Status::resource_exhausted());
  // A masked frame from the server is a protocol error (§5.1).
  EXPECT_EQ(
      connect_with(kRfcResponse, make_frame(Opcode::text, bytes_of("x"), true, true), &failure),
      Status::data_loss());
  EXPECT_STREQ(failure, "masked frame from a server");
}

}  // namespace
}  // namespace mote::websocket

namespace mote::websocket {
namespace {

struct GatedHarness {
  ParsedRequest request{kRfcRequest};
  std::shared_ptr<ScriptedStreamState> state = std::make_shared<ScriptedStreamState>();
  std::array<std::byte, kMinReadBuffer> read_buffer{};
  std::array<std::byte, kMinWriteBuffer> write_buffer{};
  std::vector<std::byte> message_buffer = std::vector<std::byte>(100);
  Connection<ScriptedStream> ws{ScriptedStream(state), Role::server, {read_buffer, write_buffer}};
  std::vector<Status> results;
};

TEST(CancellationTest, TimeoutBeforeAFrameStartsLeavesTheConnectionUsable) {
  GatedHarness h;
  h.state->wait_when_empty = true;
  auto body = [](GatedHarness& t) -> async::Task<Status> {
    using namespace std::chrono_literals;
    MOTE_CO_TRY(co_await t.ws.accept(t.request.head()));
    const std::vector<std::byte> frame = make_frame(Opcode::text, bytes_of("Hello"));
    // Nothing arrives: the timeout cancels the receive.
    t.results.push_back(
        (co_await async::with_timeout(1s, t.ws.receive(t.message_buffer))).status());
    // Half a header arrives: still nothing of a frame was taken.
    t.state->input.assign(frame.begin(), frame.begin() + 3);
    t.results.push_back(
        (co_await async::with_timeout(1s, t.ws.receive(t.message_buffer))).status());
    // The rest: the message arrives whole.
    t.state->input.insert(t.state->input.end(), frame.begin() + 3, frame.end());
    Result<Message> hello = co_await async::with_timeout(1s, t.ws.receive(t.message_buffer));
    t.results.push_back(hello.status());
    if (!hello.ok() ||
        as_string_view(ConstByteSpan(t.message_buffer).first(hello->size)) != "Hello") {
      co_return Status::internal();
    }
    // A header and part of its payload, then the timeout: unusable now.
    const std::vector<std::byte> second = make_frame(Opcode::text, bytes_of("World"));
    t.state->input.insert(t.state->input.end(), second.begin(), second.end() - 2);
    t.results.push_back(
        (co_await async::with_timeout(1s, t.ws.receive(t.message_buffer))).status());
    t.results.push_back((co_await t.ws.receive(t.message_buffer)).status());
    co_return ok_status();
  };
  EXPECT_EQ(run_task(h, body), ok_status());
  const std::vector<Status> expected = {Status::deadline_exceeded(), Status::deadline_exceeded(),
                                        ok_status(), Status::deadline_exceeded(),
                                        Status::failed_precondition()};
  EXPECT_EQ(h.results, expected);
  EXPECT_STREQ(h.ws.failure(), "a cancelled receive left a frame half read");
}

}  // namespace
}  // namespace mote::websocket
