// Arbitrary bytes as what a client sends to a server Connection after the
// handshake (read in pieces whose size the first byte picks), and again to
// a client Connection (pieces from the second byte). receive() runs until it
// fails or the close handshake ends. Properties checked: no crash or
// sanitizer report; every message fits the buffer and limit; a text
// message is UTF-8; the connection ends closed with a reason for any error;
// everything it wrote parses as frames of the right masking.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>

#include "mote/async/executor.hpp"
#include "mote/platform/sim_driver.hpp"
#include "mote/websocket/connection.hpp"
#include "testing/scripted_stream.hpp"

namespace {

using namespace mote;
using namespace mote::websocket;
using scripted::ScriptedStream;
using scripted::ScriptedStreamState;

void check(bool condition, int line = __builtin_LINE()) {
  if (!condition) {
    std::fprintf(stderr, "check failed at line %d\n", line);
    std::abort();
  }
}

void fixed_random(void* /*context*/, ByteSpan out) {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(0x5a + i);
}

constexpr std::string_view kRequest =
    "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
constexpr std::string_view kResponse =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: ";

struct Session {
  std::shared_ptr<ScriptedStreamState> state = std::make_shared<ScriptedStreamState>();
  std::array<std::byte, 256> read{};  // the client's 101 head must fit
  std::array<std::byte, kMinWriteBuffer> write{};
  std::array<std::byte, 600> message{};
  std::size_t handshake_size = 0;
};

async::Task<Status> drive(Connection<ScriptedStream>& ws, Session& session, Role role) {
  std::array<http::Header, 8> fields{};
  http::RequestParser parser(fields);
  Status handshake;
  if (role == Role::server) {
    check(parser.parse_head(bytes_of(kRequest)).value_or(0) == kRequest.size());
    handshake = co_await ws.accept(parser.head());
  } else {
    handshake = co_await ws.connect({.host = "h", .target = "/", .subprotocols = {}, .origin = {}});
  }
  session.handshake_size = session.state->output.size();
  MOTE_CO_TRY(handshake);
  ws.set_max_message_size(500);
  for (;;) {
    Result<Message> message = co_await ws.receive(session.message);
    if (!message.ok()) {
      check(ws.state() == ConnectionState::closed && ws.failure() != nullptr);
      co_return message.status();
    }
    if (message->type == MessageType::close) {
      check(ws.state() == ConnectionState::closed);
      co_return ok_status();
    }
    check(message->size <= 500);
    if (message->type == MessageType::text) {
      check(is_valid_utf8(ConstByteSpan(session.message).first(message->size)));
    }
  }
}

void run(ConstByteSpan frames, Role role, std::size_t read_size) {
  Session session;
  session.state->read_size = read_size;
  if (role == Role::client) {
    // The server's 101 for the key fixed_random yields, then the frames.
    const ClientKey key = generate_client_key([](ByteSpan out) { fixed_random(nullptr, out); });
    const AcceptKey accept = compute_accept_key(key.view());
    for (std::string_view part : {kResponse, accept.view(), std::string_view("\r\n\r\n")}) {
      const ConstByteSpan bytes = bytes_of(part);
      session.state->input.insert(session.state->input.end(), bytes.begin(), bytes.end());
    }
  }
  session.state->input.insert(session.state->input.end(), frames.begin(), frames.end());
  Connection<ScriptedStream> ws(ScriptedStream(session.state), role, {session.read, session.write},
                                RandomSource{nullptr, fixed_random});
  platform::SimDriver driver;
  async::Executor executor(driver);
  auto storage = std::make_unique<async::TaskStorage<16 * 1024>>();
  check(executor.spawn(*storage, drive, std::ref(ws), std::ref(session), role).ok());
  check(executor.run().ok());
  // What it wrote: whole frames, masked by a client, unmasked by a server.
  ConstByteSpan written = ConstByteSpan(session.state->output).subspan(session.handshake_size);
  const Role reader = role == Role::server ? Role::client : Role::server;
  while (!written.empty()) {
    const FrameParse parse = parse_frame_header(written, FrameRules{reader, 0});
    check(parse.complete());
    check(written.size() - parse.header_size >= parse.header.payload_length);
    written = written.subspan(parse.header_size + parse.header.payload_length);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size < 2) return 0;
  const ConstByteSpan frames = bytes_of(std::span(bytes + 2, size - 2));
  run(frames, Role::server, 1 + bytes[0] % 64);
  run(frames, Role::client, 1 + bytes[1] % 64);
  return 0;
}
