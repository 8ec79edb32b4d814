// websocket_proof: mote's WebSocket server connection on bare metal, no
// heap. A client's bytes (RFC 6455 §1.2's opening handshake, then §5.7's
// masked "Hello" as a text message and as a ping, then a close 1000) come
// from flash through an in-memory io::Stream; the server parses the request
// with the http module, answers, echoes the text, answers the ping and the
// close. main compares every byte written with what RFC 6455 says it must
// be, prints "websocket_proof: PASS" and returns 0.

#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
#include <string_view>

#define MOTE_LOG_MODULE "websocket_proof"
#include "mote/async/executor.hpp"
#include "mote/base/assert.hpp"
#include "mote/base/log.hpp"
#include "mote/firmware/board.hpp"
#include "mote/firmware/check.hpp"
#include "mote/firmware/semihosting.hpp"
#include "mote/firmware/systick_driver.hpp"
#include "mote/http/parser.hpp"
#include "mote/websocket/connection.hpp"

namespace {

using mote::ByteSpan;
using mote::ConstByteSpan;
using mote::Result;
using mote::Status;
using mote::async::Task;
using mote::firmware::check;
namespace ws = mote::websocket;

constexpr std::string_view kRequest =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

// §5.7: masked "Hello" (text), the same as a ping, then close 1000, masked.
constexpr auto kClientFrames =
    mote::make_bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,  //
                     0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,  //
                     0x88, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x34, 0x12);

constexpr std::string_view kResponse =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "\r\n";

// §5.7: unmasked "Hello" (the echo), a pong "Hello", the close echoed.
constexpr auto kServerFrames = mote::make_bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f,  //
                                                0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f,  //
                                                0x88, 0x02, 0x03, 0xe8);

// An io::Stream over fixed memory: reads hand out `input` a few bytes at a
// time (frames split across reads), writes append to `output`.
class MemoryStream {
 public:
  MemoryStream(ConstByteSpan input, ByteSpan output) : input_(input), output_(output) {}

  Task<Result<std::size_t>> read(ByteSpan buffer) {
    const std::size_t n = std::min({buffer.size(), input_.size() - read_, std::size_t{5}});
    std::copy_n(input_.begin() + static_cast<std::ptrdiff_t>(read_), n, buffer.begin());
    read_ += n;
    co_return n;
  }
  Task<Status> write(ConstByteSpan data) {
    if (data.size() > output_.size() - written_) co_return Status::resource_exhausted();
    std::copy(data.begin(), data.end(), output_.begin() + static_cast<std::ptrdiff_t>(written_));
    written_ += data.size();
    co_return mote::ok_status();
  }
  Status shutdown_write() { return mote::ok_status(); }
  void close() { closed_ = true; }
  Result<mote::io::Endpoint> remote_endpoint() { return Status::unimplemented(); }

  [[nodiscard]] std::size_t written() const { return written_; }
  [[nodiscard]] bool closed() const { return closed_; }

 private:
  ConstByteSpan input_;
  ByteSpan output_;
  std::size_t read_ = 0;
  std::size_t written_ = 0;
  bool closed_ = false;
};
static_assert(mote::io::Stream<MemoryStream>);

struct Results {
  int messages = 0;
  std::uint16_t peer_close_code = 0;
  std::size_t written = 0;
  bool stream_closed = false;
};

// Static: buffers and frames live here, not on the stack, not on a heap.
std::array<std::byte, 256> input{};
std::array<std::byte, 512> output{};
std::array<std::byte, ws::kMinReadBuffer> read_buffer{};
std::array<std::byte, ws::kMinWriteBuffer> write_buffer{};
std::array<std::byte, 64> message{};
std::array<mote::http::Header, 8> fields{};
mote::async::TaskStorage<2048> server_storage;
Results results;

Task<Status> serve(Results& out) {
  mote::http::RequestParser parser(fields);
  MOTE_CO_TRY_ASSIGN(std::size_t head, parser.parse_head(ConstByteSpan(input)));
  ws::Connection<MemoryStream> connection(
      MemoryStream(ConstByteSpan(input).first(kRequest.size() + kClientFrames.size()), output),
      ws::Role::server, {read_buffer, write_buffer});
  MOTE_CO_TRY(co_await connection.accept(parser.head(), {},
                                         ConstByteSpan(input).subspan(head, kClientFrames.size())));
  for (;;) {
    MOTE_CO_TRY_ASSIGN(ws::Message m, co_await connection.receive(message));
    if (m.type == ws::MessageType::close) break;
    ++out.messages;
    MOTE_CO_TRY(co_await connection.send(m.type, ConstByteSpan(message).first(m.size)));
  }
  out.peer_close_code = connection.peer_close_code();
  out.written = connection.stream().written();
  out.stream_closed = connection.stream().closed();
  co_return mote::ok_status();
}

bool output_is(std::size_t at, ConstByteSpan expected) {
  return results.written >= at + expected.size() &&
         std::equal(expected.begin(), expected.end(),
                    output.begin() + static_cast<std::ptrdiff_t>(at));
}

}  // namespace

int main() {
  mote::firmware::SysTickDriver driver(mote::firmware::board::kCoreClockHz);
  mote::async::Executor executor(driver);
  std::copy(kRequest.begin(), kRequest.end(), reinterpret_cast<char*>(input.data()));
  std::copy(kClientFrames.begin(), kClientFrames.end(), input.begin() + kRequest.size());

  bool ok = check(executor.spawn(server_storage, serve, std::ref(results)).ok(), "spawn server");
  if (!ok) return 1;
  const Status run = executor.run();
  MOTE_LOG_INFO(
      "%d message(s), peer close %u, %u bytes written, frame bytes used %u, connection %u bytes",
      results.messages, results.peer_close_code, static_cast<unsigned>(results.written),
      static_cast<unsigned>(server_storage.high_water_mark()),
      static_cast<unsigned>(sizeof(ws::Connection<MemoryStream>)));

  ok &= check(run.ok(), "executor.run() returned ok");
  ok &= check(server_storage.exit_status().ok(), "server finished ok");
  ok &= check(results.messages == 1, "one message echoed");
  ok &= check(results.peer_close_code == 1000, "the client closed with 1000");
  ok &= check(output_is(0, mote::bytes_of(kResponse)), "the 101 response");
  ok &= check(output_is(kResponse.size(), kServerFrames), "echo, pong and close frames");
  ok &= check(results.written == kResponse.size() + kServerFrames.size(), "nothing else written");
  ok &= check(results.stream_closed, "the server closed the stream");
  if (!ok) return 1;

  mote::firmware::semihosting::write0("websocket_proof: PASS\n");
  return 0;
}
