#include "mote/websocket/frame.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace mote::websocket {
namespace {

constexpr FrameRules kClientReads{Role::client, 0};
constexpr FrameRules kServerReads{Role::server, 0};

std::vector<std::byte> encode(const FrameHeader& header) {
  std::vector<std::byte> out(kMaxFrameHeaderSize);
  Result<std::size_t> size = encode_frame_header(header, out);
  EXPECT_TRUE(size.ok());
  out.resize(size.value_or(0));
  return out;
}

// RFC 6455 §5.7: "A single-frame unmasked text message".
TEST(FrameTest, Rfc6455UnmaskedText) {
  constexpr auto kFrame = make_bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f);
  const FrameParse parse = parse_frame_header(kFrame, kClientReads);
  ASSERT_TRUE(parse.complete());
  EXPECT_TRUE(parse.header.fin);
  EXPECT_EQ(parse.header.opcode, Opcode::text);
  EXPECT_FALSE(parse.header.masked);
  EXPECT_EQ(parse.header.payload_length, 5u);
  EXPECT_EQ(parse.header_size, 2u);
  EXPECT_EQ(as_string_view(ConstByteSpan(kFrame).subspan(2)), "Hello");
  EXPECT_EQ(encode(parse.header), std::vector<std::byte>(kFrame.begin(), kFrame.begin() + 2));
}

// §5.7: "A single-frame masked text message".
TEST(FrameTest, Rfc6455MaskedText) {
  auto frame = make_bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
  const FrameParse parse = parse_frame_header(frame, kServerReads);
  ASSERT_TRUE(parse.complete());
  EXPECT_TRUE(parse.header.masked);
  EXPECT_EQ(parse.header.mask_key, make_bytes(0x37, 0xfa, 0x21, 0x3d));
  EXPECT_EQ(parse.header_size, 6u);
  ByteSpan payload = ByteSpan(frame).subspan(6);
  apply_mask(payload, parse.header.mask_key);
  EXPECT_EQ(as_string_view(payload), "Hello");
  EXPECT_EQ(encode(parse.header), std::vector<std::byte>(frame.begin(), frame.begin() + 6));
}

// §5.7: "A fragmented unmasked text message".
TEST(FrameTest, Rfc6455Fragments) {
  constexpr auto kFirst = make_bytes(0x01, 0x03, 0x48, 0x65, 0x6c);
  constexpr auto kSecond = make_bytes(0x80, 0x02, 0x6c, 0x6f);
  FrameParse parse = parse_frame_header(kFirst, kClientReads);
  ASSERT_TRUE(parse.complete());
  EXPECT_FALSE(parse.header.fin);
  EXPECT_EQ(parse.header.opcode, Opcode::text);
  EXPECT_EQ(parse.header.payload_length, 3u);
  parse = parse_frame_header(kSecond, kClientReads);
  ASSERT_TRUE(parse.complete());
  EXPECT_TRUE(parse.header.fin);
  EXPECT_EQ(parse.header.opcode, Opcode::continuation);
  EXPECT_EQ(parse.header.payload_length, 2u);
}

// §5.7: unmasked ping, masked pong.
TEST(FrameTest, Rfc6455PingAndPong) {
  constexpr auto kPing = make_bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f);
  FrameParse parse = parse_frame_header(kPing, kClientReads);
  ASSERT_TRUE(parse.complete());
  EXPECT_EQ(parse.header.opcode, Opcode::ping);
  auto pong = make_bytes(0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
  parse = parse_frame_header(pong, kServerReads);
  ASSERT_TRUE(parse.complete());
  EXPECT_EQ(parse.header.opcode, Opcode::pong);
  apply_mask(ByteSpan(pong).subspan(6), parse.header.mask_key);
  EXPECT_EQ(as_string_view(ConstByteSpan(pong).subspan(6)), "Hello");
}

// §5.7: 256 bytes and 64 KiB in a single unmasked binary frame.
TEST(FrameTest, Rfc6455ExtendedLengths) {
  constexpr auto k256 = make_bytes(0x82, 0x7E, 0x01, 0x00);
  FrameParse parse = parse_frame_header(k256, kClientReads);
  ASSERT_TRUE(parse.complete());
  EXPECT_EQ(parse.header.opcode, Opcode::binary);
  EXPECT_EQ(parse.header.payload_length, 256u);
  EXPECT_EQ(encode(parse.header), std::vector<std::byte>(k256.begin(), k256.end()));
  constexpr auto k64k = make_bytes(0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0);
  parse = parse_frame_header(k64k, kClientReads);
  ASSERT_TRUE(parse.complete());
  EXPECT_EQ(parse.header.payload_length, 65536u);
  EXPECT_EQ(parse.header_size, 10u);
  EXPECT_EQ(encode(parse.header), std::vector<std::byte>(k64k.begin(), k64k.end()));
}

TEST(FrameTest, LengthFormBoundaries) {
  for (std::uint64_t length : {0ull, 125ull, 126ull, 65535ull, 65536ull, (1ull << 63) - 1}) {
    FrameHeader header;
    header.payload_length = length;
    header.masked = true;
    header.mask_key = make_bytes(1, 2, 3, 4);
    const std::vector<std::byte> bytes = encode(header);
    EXPECT_EQ(bytes.size(), header.encoded_size());
    const FrameParse parse = parse_frame_header(bytes, kServerReads);
    ASSERT_TRUE(parse.complete()) << length;
    EXPECT_EQ(parse.header.payload_length, length);
    EXPECT_EQ(parse.header.mask_key, header.mask_key);
    EXPECT_EQ(parse.header_size, bytes.size());
  }
}

TEST(FrameTest, IncompleteHeadersSayHowMuchTheyNeed) {
  constexpr auto kFrame = make_bytes(0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 9, 9, 9, 9);
  for (std::size_t size = 0; size < kFrame.size(); ++size) {
    const FrameParse parse = parse_frame_header(ConstByteSpan(kFrame).first(size), kServerReads);
    EXPECT_FALSE(parse.complete()) << size;
    EXPECT_FALSE(parse.failed()) << size;
    EXPECT_EQ(parse.needed, size < 2 ? 2u : 14u) << size;
  }
  EXPECT_EQ(parse_frame_header(kFrame, kServerReads).header_size, 14u);
}

FrameError error_of(std::initializer_list<int> bytes, const FrameRules& rules) {
  std::vector<std::byte> data;
  for (int b : bytes) data.push_back(static_cast<std::byte>(b));
  return parse_frame_header(data, rules).error;
}

TEST(FrameTest, ProtocolErrors) {
  for (int opcode : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    EXPECT_EQ(error_of({0x80 | opcode, 0}, kClientReads), FrameError::reserved_opcode);
  }
  EXPECT_EQ(error_of({0xC1, 0}, kClientReads), FrameError::reserved_bit);
  EXPECT_EQ(error_of({0xA1, 0}, kClientReads), FrameError::reserved_bit);
  EXPECT_EQ(error_of({0x91, 0}, kClientReads), FrameError::reserved_bit);
  EXPECT_EQ(error_of({0xC1, 0}, FrameRules{Role::client, kRsv1}), FrameError::none);
  EXPECT_EQ(error_of({0xE1, 0}, FrameRules{Role::client, kRsv1}), FrameError::reserved_bit);
  EXPECT_EQ(error_of({0x82, 126, 0, 125}, kClientReads), FrameError::non_minimal_length);
  EXPECT_EQ(error_of({0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, kClientReads),
            FrameError::non_minimal_length);
  EXPECT_EQ(error_of({0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, kClientReads),
            FrameError::length_too_large);
  EXPECT_EQ(error_of({0x89, 126}, kClientReads), FrameError::control_too_long);
  EXPECT_EQ(error_of({0x88, 127}, kClientReads), FrameError::control_too_long);
  EXPECT_EQ(error_of({0x09, 0}, kClientReads), FrameError::fragmented_control);
  EXPECT_EQ(error_of({0x81, 0}, kServerReads), FrameError::unmasked_client_frame);
  EXPECT_EQ(error_of({0x81, 0x80, 1, 2, 3, 4}, kClientReads), FrameError::masked_server_frame);
  EXPECT_STREQ(to_string(FrameError::fragmented_control), "fragmented control frame");
}

TEST(FrameTest, EncoderRefusesWhatParsersMustReject) {
  std::byte out[kMaxFrameHeaderSize];
  FrameHeader ping{.fin = false, .opcode = Opcode::ping};
  EXPECT_EQ(encode_frame_header(ping, out).status(), Status::invalid_argument());
  FrameHeader big_close{.opcode = Opcode::close, .payload_length = 126};
  EXPECT_EQ(encode_frame_header(big_close, out).status(), Status::invalid_argument());
  FrameHeader reserved{.opcode = static_cast<Opcode>(3)};
  EXPECT_EQ(encode_frame_header(reserved, out).status(), Status::invalid_argument());
  FrameHeader huge{.payload_length = 1ull << 63};
  EXPECT_EQ(encode_frame_header(huge, out).status(), Status::invalid_argument());
  FrameHeader long_masked{.masked = true, .payload_length = 70000};
  EXPECT_EQ(encode_frame_header(long_masked, ByteSpan(out).first(13)).status(),
            Status::resource_exhausted());
  EXPECT_EQ(encode_frame_header(long_masked, out).value_or(0), 14u);
}

TEST(FrameTest, MaskingInPiecesEqualsMaskingAtOnce) {
  std::vector<std::byte> whole(37);
  for (std::size_t i = 0; i < whole.size(); ++i) whole[i] = static_cast<std::byte>(i * 7);
  std::vector<std::byte> pieces = whole;
  const MaskKey key = make_bytes(0xde, 0xad, 0xbe, 0xef);
  apply_mask(whole, key);
  apply_mask(ByteSpan(pieces).first(5), key, 0);
  apply_mask(ByteSpan(pieces).subspan(5, 10), key, 5);
  apply_mask(ByteSpan(pieces).subspan(15), key, 15);
  EXPECT_EQ(whole, pieces);
  std::vector<std::byte> copy(whole.size());
  copy_masked(whole, copy, key);
  apply_mask(whole, key);
  EXPECT_EQ(copy, whole);  // the original pattern, unmasked again
  EXPECT_EQ(copy[1], std::byte{7});
}

}  // namespace
}  // namespace mote::websocket
