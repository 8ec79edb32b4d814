#include "mote/base/hmac_sha1.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace mote {
namespace {

std::string hex(ConstByteSpan bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (std::byte b : bytes) {
    text += kDigits[std::to_integer<unsigned>(b) >> 4];
    text += kDigits[std::to_integer<unsigned>(b) & 0xf];
  }
  return text;
}

std::vector<std::byte> repeated(std::uint8_t value, std::size_t count) {
  return std::vector<std::byte>(count, std::byte{value});
}

// RFC 2202 §3, test cases 1-7.
TEST(HmacSha1Test, Rfc2202Vectors) {
  EXPECT_EQ(hex(HmacSha1::of(repeated(0x0b, 20), bytes_of("Hi There"))),
            "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(hex(HmacSha1::of(bytes_of("Jefe"), bytes_of("what do ya want for nothing?"))),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(hex(HmacSha1::of(repeated(0xaa, 20), repeated(0xdd, 50))),
            "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
  std::vector<std::byte> key4;
  for (unsigned i = 1; i <= 25; ++i) key4.push_back(static_cast<std::byte>(i));
  EXPECT_EQ(hex(HmacSha1::of(key4, repeated(0xcd, 50))),
            "4c9007f4026250c6bc8414f9bf50c86c2d7235da");
  EXPECT_EQ(hex(HmacSha1::of(repeated(0x0c, 20), bytes_of("Test With Truncation"))),
            "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04");
  EXPECT_EQ(hex(HmacSha1::of(repeated(0xaa, 80),
                             bytes_of("Test Using Larger Than Block-Size Key - Hash Key First"))),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
  EXPECT_EQ(hex(HmacSha1::of(repeated(0xaa, 80),
                             bytes_of("Test Using Larger Than Block-Size Key and Larger Than "
                                      "One Block-Size Data"))),
            "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
}

TEST(HmacSha1Test, IncrementalEqualsOneShot) {
  HmacSha1 mac(bytes_of("key"));
  mac.update(bytes_of("The quick brown fox "));
  mac.update(bytes_of("jumps over the lazy dog"));
  EXPECT_EQ(hex(mac.finish()), "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9");
}

std::string pbkdf2(std::string_view password, std::string_view salt, std::uint32_t iterations,
                   std::size_t length) {
  std::vector<std::byte> out(length);
  pbkdf2_hmac_sha1(bytes_of(password), bytes_of(salt), iterations, out);
  return hex(out);
}

// RFC 6070 §2 (the 16,777,216-iteration case is left out: minutes of CPU).
TEST(Pbkdf2HmacSha1Test, Rfc6070Vectors) {
  EXPECT_EQ(pbkdf2("password", "salt", 1, 20), "0c60c80f961f0e71f3a9b524af6012062fe037a6");
  EXPECT_EQ(pbkdf2("password", "salt", 2, 20), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
  EXPECT_EQ(pbkdf2("password", "salt", 4096, 20), "4b007901b765489abead49d926f721d065a429c1");
  EXPECT_EQ(pbkdf2("passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25),
            "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038");
  EXPECT_EQ(pbkdf2(std::string_view("pass\0word", 9), std::string_view("sa\0lt", 5), 4096, 16),
            "56fa6aa75548099dcc37d7f03425e0c3");
}

}  // namespace
}  // namespace mote
