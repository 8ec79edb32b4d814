#include "mote/websocket/deflate.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/platform/sim_driver.hpp"
#include "mote/websocket/connection.hpp"
#include "testing/scripted_stream.hpp"

namespace mote::websocket {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

// A deflater/inflater pair negotiated as server (or client) with `offer`.
PerMessageDeflate server_with(std::string_view offer, DeflateOptions options = {}) {
  PerMessageDeflate deflate(options);
  const std::vector<http::Header> headers = {{"Sec-WebSocket-Extensions", offer}};
  EXPECT_TRUE(deflate.negotiate(http::HeaderList(headers)).ok());
  return deflate;
}

std::string inflate_message(PerMessageDeflate& deflate, const std::vector<std::byte>& payload,
                            std::size_t limit = 1000) {
  std::vector<std::byte> out(limit);
  Result<std::size_t> body = deflate.decompress(payload, out);
  EXPECT_TRUE(body.ok()) << body.status().str();
  Result<std::size_t> tail = deflate.end_message(ByteSpan(out).subspan(body.value_or(0)));
  EXPECT_TRUE(tail.ok()) << tail.status().str();
  return std::string(as_string_view(ConstByteSpan(out).first(body.value_or(0) + tail.value_or(0))));
}

// RFC 7692 §7.2.3.1-§7.2.3.5: the "Hello" examples.
TEST(DeflateTest, Rfc7692Examples) {
  PerMessageDeflate deflate = server_with("permessage-deflate");
  EXPECT_EQ(inflate_message(deflate, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
  // §7.2.3.2: the second message refers back into the shared window.
  EXPECT_EQ(inflate_message(deflate, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello");
  PerMessageDeflate fresh = server_with("permessage-deflate");
  // §7.2.3.3: a stored (uncompressed) block.
  EXPECT_EQ(inflate_message(
                fresh, bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})),
            "Hello");
  // §7.2.3.4: BFINAL set.
  PerMessageDeflate final_block = server_with("permessage-deflate");
  EXPECT_EQ(inflate_message(final_block, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00})),
            "Hello");
  EXPECT_EQ(inflate_message(final_block, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})),
            "Hello");
  // §7.2.3.5: two deflate blocks in one message.
  PerMessageDeflate two = server_with("permessage-deflate");
  EXPECT_EQ(inflate_message(two, bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9,
                                        0xc9, 0x07, 0x00})),
            "Hello");
}

TEST(DeflateTest, CompressesLikeTheRfc) {
  PerMessageDeflate deflate = server_with("permessage-deflate");
  Result<ConstByteSpan> first = deflate.compress(bytes_of("Hello"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(std::vector<std::byte>(first->begin(), first->end()),
            bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
  Result<ConstByteSpan> second = deflate.compress(bytes_of("Hello"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(std::vector<std::byte>(second->begin(), second->end()),
            bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));
  // With server_no_context_takeover every message starts afresh.
  PerMessageDeflate resetting = server_with("permessage-deflate; server_no_context_takeover");
  for (int i = 0; i < 2; ++i) {
    Result<ConstByteSpan> again = resetting.compress(bytes_of("Hello"));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(std::vector<std::byte>(again->begin(), again->end()),
              bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
  }
}

TEST(DeflateTest, RoundTripsLargeAndEmptyMessages) {
  PerMessageDeflate server = server_with("permessage-deflate; client_max_window_bits");
  PerMessageDeflate client;
  client.client_offer();
  const std::vector<http::Header> response = {{"Sec-WebSocket-Extensions", "permessage-deflate"}};
  ASSERT_TRUE(client.accept_response(http::HeaderList(response)).ok());
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i % 97) + "\n";
  for (const std::string& message : {big, std::string(), std::string("x"), big}) {
    Result<ConstByteSpan> packed = server.compress(bytes_of(message));
    ASSERT_TRUE(packed.ok());
    EXPECT_LT(packed->size(), message.size() / 4 + 8);
    EXPECT_TRUE(inflate_message(client, std::vector<std::byte>(packed->begin(), packed->end()),
                                big.size()) == message)
        << message.size();
  }
}

TEST(DeflateTest, DecompressionIsBoundedByTheOutput) {
  PerMessageDeflate sender = server_with("permessage-deflate");
  PerMessageDeflate receiver = server_with("permessage-deflate");
  const std::vector<std::byte> zeros(1 << 20);
  Result<ConstByteSpan> bomb = sender.compress(zeros);
  ASSERT_TRUE(bomb.ok());
  EXPECT_LT(bomb->size(), 2000u);
  std::vector<std::byte> out(1000);
  EXPECT_EQ(receiver.decompress(*bomb, out).status(), Status::resource_exhausted());
  // Exactly fitting output is fine, even when zlib could hold more back.
  PerMessageDeflate exact_sender = server_with("permessage-deflate");
  PerMessageDeflate exact_receiver = server_with("permessage-deflate");
  Result<ConstByteSpan> thousand = exact_sender.compress(ConstByteSpan(zeros).first(1000));
  ASSERT_TRUE(thousand.ok());
  const std::vector<std::byte> packed(thousand->begin(), thousand->end());
  EXPECT_TRUE(inflate_message(exact_receiver, packed, 1000) == std::string(1000, '\0'));
  PerMessageDeflate short_receiver = server_with("permessage-deflate");
  std::vector<std::byte> small(999);
  Result<std::size_t> body = short_receiver.decompress(packed, small);
  Result<std::size_t> tail =
      body.ok() ? short_receiver.end_message(ByteSpan(small).subspan(*body)) : body;
  EXPECT_EQ(tail.status(), Status::resource_exhausted());
}

TEST(DeflateTest, CorruptDataIsDataLoss) {
  PerMessageDeflate deflate = server_with("permessage-deflate");
  std::vector<std::byte> out(100);
  EXPECT_EQ(deflate.decompress(bytes({0xff, 0xff, 0xff, 0xff}), out).status(), Status::data_loss());
}

std::string negotiated(std::vector<std::string_view> offers, DeflateOptions options = {}) {
  std::vector<http::Header> headers;
  for (std::string_view offer : offers) headers.push_back({"Sec-WebSocket-Extensions", offer});
  PerMessageDeflate deflate(options);
  Result<std::string_view> response = deflate.negotiate(http::HeaderList(headers));
  if (!response.ok()) return "<error>";
  EXPECT_EQ(deflate.active(), !response->empty());
  return std::string(*response);
}

TEST(DeflateTest, ServerNegotiation) {
  // What Chrome, Firefox and python websockets 10.4 offer.
  EXPECT_EQ(negotiated({"permessage-deflate; client_max_window_bits"}), "permessage-deflate");
  EXPECT_EQ(
      negotiated({"permessage-deflate; client_max_window_bits"}, {.client_max_window_bits = 12}),
      "permessage-deflate; client_max_window_bits=12");
  EXPECT_EQ(negotiated({"permessage-deflate; server_max_window_bits=10"}),
            "permessage-deflate; server_max_window_bits=10");
  EXPECT_EQ(negotiated({"permessage-deflate; server_no_context_takeover; "
                        "client_no_context_takeover"}),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  EXPECT_EQ(negotiated({"permessage-deflate"}, {.server_no_context_takeover = true}),
            "permessage-deflate; server_no_context_takeover");
  // Declined offers: the next one is taken, or none.
  EXPECT_EQ(negotiated({"permessage-deflate; server_max_window_bits=8, permessage-deflate"}),
            "permessage-deflate");
  // The client's hint is echoed: it will not use more than 9 bits (§7.1.2.2).
  EXPECT_EQ(negotiated({"permessage-deflate; x=1", "permessage-deflate; client_max_window_bits=9"}),
            "permessage-deflate; client_max_window_bits=9");
  EXPECT_EQ(negotiated({"permessage-deflate; server_max_window_bits=16"}), "");
  EXPECT_EQ(negotiated({"permessage-deflate; server_max_window_bits=09"}), "");
  EXPECT_EQ(negotiated({"permessage-deflate; server_no_context_takeover=1"}), "");
  EXPECT_EQ(negotiated({"permessage-deflate; server_no_context_takeover; "
                        "server_no_context_takeover"}),
            "");
  EXPECT_EQ(negotiated({"permessage-deflate; server_max_window_bits"}), "");
  EXPECT_EQ(negotiated({"x-webkit-deflate-frame"}), "");
  EXPECT_EQ(negotiated({}), "");
  EXPECT_EQ(negotiated({"permessage-deflate; ="}), "<error>");
}

Status client_accepts(std::string_view response, DeflateOptions options = {}) {
  PerMessageDeflate deflate(options);
  deflate.client_offer();
  const std::vector<http::Header> headers = {{"Sec-WebSocket-Extensions", response}};
  return deflate.accept_response(http::HeaderList(headers));
}

TEST(DeflateTest, ClientNegotiation) {
  PerMessageDeflate plain;
  EXPECT_EQ(plain.client_offer(), "permessage-deflate; client_max_window_bits");
  PerMessageDeflate limited({.server_no_context_takeover = true,
                             .client_no_context_takeover = false,
                             .server_max_window_bits = 10,
                             .client_max_window_bits = 11});
  EXPECT_EQ(limited.client_offer(),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
            "client_max_window_bits=11");
  EXPECT_TRUE(client_accepts("permessage-deflate").ok());
  EXPECT_TRUE(client_accepts("permessage-deflate; client_max_window_bits=10").ok());
  EXPECT_TRUE(client_accepts("permessage-deflate; server_no_context_takeover").ok());
  EXPECT_FALSE(client_accepts("permessage-deflate; client_max_window_bits=8").ok());
  EXPECT_FALSE(client_accepts("permessage-deflate; client_max_window_bits").ok());
  EXPECT_FALSE(client_accepts("permessage-deflate; foo").ok());
  EXPECT_FALSE(client_accepts("permessage-deflate, permessage-deflate").ok());
  EXPECT_FALSE(client_accepts("x-other").ok());
  EXPECT_FALSE(client_accepts("permessage-deflate; server_max_window_bits=12",
                              {.server_max_window_bits = 10})
                   .ok());
  // The client asked the server to reset its context; the server must agree.
  EXPECT_FALSE(client_accepts("permessage-deflate", {.server_no_context_takeover = true}).ok());
  PerMessageDeflate none;
  none.client_offer();
  EXPECT_TRUE(none.accept_response(http::HeaderList()).ok());
  EXPECT_FALSE(none.active());
}

// --- On a connection -----------------------------------------------------------------

constexpr std::string_view kDeflateRequest =
    "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

struct DeflateServer {
  std::shared_ptr<scripted::ScriptedStreamState> state =
      std::make_shared<scripted::ScriptedStreamState>();
  std::array<std::byte, kMinReadBuffer> read{};
  std::array<std::byte, kMinWriteBuffer> write{};
  std::vector<std::byte> message = std::vector<std::byte>(100);
  Connection<scripted::ScriptedStream, PerMessageDeflate> ws{
      scripted::ScriptedStream(state), Role::server, {read, write}, {}, PerMessageDeflate()};
  std::size_t response_size = 0;
  std::vector<Status> results;
};

async::Task<Status> echo_until_error(DeflateServer& s) {
  std::array<http::Header, 8> fields{};
  http::RequestParser parser(fields);
  if (parser.parse_head(bytes_of(kDeflateRequest)).value_or(0) == 0) co_return Status::internal();
  MOTE_CO_TRY(co_await s.ws.accept(parser.head()));
  s.response_size = s.state->output.size();
  for (;;) {
    Result<Message> m = co_await s.ws.receive(s.message);
    s.results.push_back(m.status());
    if (!m.ok() || m->type == MessageType::close) co_return ok_status();
    MOTE_CO_TRY(co_await s.ws.send(m->type, ConstByteSpan(s.message).first(m->size)));
  }
}

Status run_server(DeflateServer& s) {
  platform::SimDriver driver;
  async::Executor executor(driver);
  auto storage = std::make_unique<async::TaskStorage<32 * 1024>>();
  EXPECT_TRUE(executor.spawn(*storage, echo_until_error, std::ref(s)).ok());
  EXPECT_TRUE(executor.run().ok());
  return storage->exit_status();
}

TEST(DeflateConnectionTest, EchoesRfc7692HelloCompressed) {
  DeflateServer s;
  // §7.2.3.1's "Hello", masked, with RSV1; then a close.
  s.state->input = scripted::make_frame(
      Opcode::text, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), true, true, kRsv1);
  const std::vector<std::byte> close = scripted::make_frame(Opcode::close, {});
  s.state->input.insert(s.state->input.end(), close.begin(), close.end());
  EXPECT_EQ(run_server(s), ok_status());
  EXPECT_NE(std::string(as_string_view(ConstByteSpan(s.state->output).first(s.response_size)))
                .find("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
            std::string::npos);
  const std::vector<scripted::DecodedFrame> frames = scripted::split_frames(
      ConstByteSpan(s.state->output).subspan(s.response_size), Role::client, kRsv1);
  ASSERT_EQ(frames.size(), 2u);
  // The echo: the same bytes the RFC shows, RSV1 set.
  EXPECT_EQ(frames[0].header.rsv, kRsv1);
  EXPECT_EQ(frames[0].payload, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
  EXPECT_EQ(frames[1].header.opcode, Opcode::close);
}

TEST(DeflateConnectionTest, BoundsDecompressedAndCompressedSizes) {
  // 1 MiB of zeros deflates to about a kilobyte; the 100-byte buffer stops it: 1009.
  DeflateServer bomb;
  PerMessageDeflate sender = server_with("permessage-deflate");
  Result<ConstByteSpan> packed = sender.compress(std::vector<std::byte>(1 << 20));
  ASSERT_TRUE(packed.ok());
  bomb.state->input = scripted::make_frame(Opcode::binary, *packed, true, true, kRsv1);
  EXPECT_EQ(run_server(bomb), ok_status());
  EXPECT_EQ(bomb.results, std::vector<Status>{Status::resource_exhausted()});
  // Empty stored blocks inflate to nothing; 3000 bytes of them are still too many.
  DeflateServer empty_blocks;
  std::vector<std::byte> blocks;
  for (int i = 0; i < 600; ++i) {
    for (int b : {0x00, 0x00, 0x00, 0xff, 0xff}) blocks.push_back(static_cast<std::byte>(b));
  }
  empty_blocks.state->input = scripted::make_frame(Opcode::binary, blocks, true, true, kRsv1);
  EXPECT_EQ(run_server(empty_blocks), ok_status());
  EXPECT_EQ(empty_blocks.results, std::vector<Status>{Status::resource_exhausted()});
  EXPECT_STREQ(empty_blocks.ws.failure(), "compressed message larger than the limit");
  // Garbage with RSV1: 1007.
  DeflateServer garbage;
  garbage.state->input =
      scripted::make_frame(Opcode::binary, bytes({0xff, 0xff, 0xff, 0xff}), true, true, kRsv1);
  EXPECT_EQ(run_server(garbage), ok_status());
  EXPECT_EQ(garbage.results, std::vector<Status>{Status::data_loss()});
  const std::vector<scripted::DecodedFrame> frames = scripted::split_frames(
      ConstByteSpan(garbage.state->output).subspan(garbage.response_size), Role::client);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(load_be16(frames[0].payload.data()), kCloseInvalidPayload);
}

}  // namespace
}  // namespace mote::websocket
