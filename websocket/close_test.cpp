#include "mote/websocket/close.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace mote::websocket {
namespace {

TEST(CloseTest, WireCodes) {
  for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                             3000, 3999, 4000, 4999}) {
    EXPECT_TRUE(is_valid_wire_close_code(code)) << code;
  }
  // Autobahn 7.9.x plus the never-sent 1005/1006/1015 (§7.4.1).
  for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    EXPECT_FALSE(is_valid_wire_close_code(code)) << code;
  }
}

TEST(CloseTest, ParsesPayloads) {
  CloseParse parse = parse_close_payload({});
  EXPECT_EQ(parse.error, CloseError::none);
  EXPECT_EQ(parse.info.code, kCloseNoStatus);
  constexpr auto kNormal = make_bytes(0x03, 0xe8, 'b', 'y', 'e');
  parse = parse_close_payload(kNormal);
  EXPECT_EQ(parse.error, CloseError::none);
  EXPECT_EQ(parse.info.code, 1000);
  EXPECT_EQ(parse.info.reason, "bye");
  EXPECT_EQ(parse_close_payload(make_bytes(0x03)).error, CloseError::truncated_code);
  EXPECT_EQ(parse_close_payload(make_bytes(0x03, 0xed)).error, CloseError::invalid_code);  // 1005
  EXPECT_EQ(parse_close_payload(make_bytes(0x03, 0xe8, 0xc0, 0x80)).error,
            CloseError::invalid_reason);
  EXPECT_EQ(close_code_for(CloseError::invalid_reason), kCloseInvalidPayload);
  EXPECT_EQ(close_code_for(CloseError::invalid_code), kCloseProtocolError);
  std::vector<std::byte> long_payload(126, std::byte{'a'});
  EXPECT_EQ(parse_close_payload(long_payload).error, CloseError::too_long);
}

TEST(CloseTest, EncodesPayloads) {
  std::byte out[125];
  Result<std::size_t> size = encode_close_payload(1001, "away", out);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 6u);
  EXPECT_EQ(out[0], std::byte{0x03});
  EXPECT_EQ(out[1], std::byte{0xe9});
  EXPECT_EQ(as_string_view(ConstByteSpan(out).subspan(2, 4)), "away");
  EXPECT_EQ(encode_close_payload(kCloseNoStatus, "", out).value_or(99), 0u);
  EXPECT_EQ(encode_close_payload(kCloseNoStatus, "x", out).status(), Status::invalid_argument());
  EXPECT_EQ(encode_close_payload(kCloseAbnormal, "", out).status(), Status::invalid_argument());
  EXPECT_EQ(encode_close_payload(kCloseTlsHandshake, "", out).status(), Status::invalid_argument());
  EXPECT_EQ(encode_close_payload(1000, std::string(124, 'a'), out).status(),
            Status::invalid_argument());
  EXPECT_TRUE(encode_close_payload(1000, std::string(123, 'a'), out).ok());
  EXPECT_EQ(encode_close_payload(1000, "\xff", out).status(), Status::invalid_argument());
  EXPECT_EQ(encode_close_payload(1000, "abc", ByteSpan(out).first(4)).status(),
            Status::resource_exhausted());
}

}  // namespace
}  // namespace mote::websocket
