#include "mote/websocket/utf8.hpp"

#include <gtest/gtest.h>
#include <string>

namespace mote::websocket {
namespace {

bool valid(std::string_view text) { return is_valid_utf8(bytes_of(text)); }

TEST(Utf8Test, AcceptsValidText) {
  EXPECT_TRUE(valid(""));
  EXPECT_TRUE(valid("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"));
  EXPECT_TRUE(valid("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  // κόσμε
  // Boundaries of each length (RFC 3629 §4): U+007F, U+0080, U+07FF, U+0800,
  // U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF.
  for (std::string_view text :
       {"\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_TRUE(valid(text)) << testing::PrintToString(text);
  }
  EXPECT_TRUE(valid(std::string_view("\0", 1)));
}

TEST(Utf8Test, RejectsInvalidText) {
  for (std::string_view text : {
           "\x80",              // lone continuation
           "\xbf",              // lone continuation
           "\xc0\x80",          // overlong NUL
           "\xc1\xbf",          // overlong U+007F
           "\xe0\x80\x80",      // overlong 3-byte
           "\xe0\x9f\xbf",      // overlong U+07FF
           "\xf0\x80\x80\x80",  // overlong 4-byte
           "\xf0\x8f\xbf\xbf",  // overlong U+FFFF
           "\xed\xa0\x80",      // U+D800 surrogate
           "\xed\xbf\xbf",      // U+DFFF surrogate
           "\xf4\x90\x80\x80",  // U+110000
           "\xf5\x80\x80\x80",  // lead byte past U+10FFFF
           "\xff",              // never valid
           "\xfe",              // never valid
           "\xc2",              // truncated
           "\xe1\x80",          // truncated
           "\xf1\x80\x80",      // truncated
           "\xc2\x41",          // continuation expected
           "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
           "edited",
       }) {
    EXPECT_FALSE(valid(text)) << testing::PrintToString(text);
  }
}

TEST(Utf8Test, CharactersSplitAcrossFragments) {
  const std::string_view text =
      "a\xf0\x9f\x98\x80"
      "b\xe2\x82\xac"
      "c";  // 😀 and €
  for (std::size_t split = 0; split <= text.size(); ++split) {
    Utf8Validator validator;
    EXPECT_TRUE(validator.feed(bytes_of(text.substr(0, split))));
    EXPECT_EQ(validator.complete(),
              split != 2 && split != 3 && split != 4 && split != 7 && split != 8);
    EXPECT_TRUE(validator.feed(bytes_of(text.substr(split))));
    EXPECT_TRUE(validator.complete()) << split;
  }
}

TEST(Utf8Test, FailsFastAndStaysFailed) {
  Utf8Validator validator;
  // §8.1 / Autobahn 6.4: the first fragment already cannot be valid.
  EXPECT_FALSE(validator.feed(bytes_of("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90")));
  EXPECT_TRUE(validator.failed());
  EXPECT_FALSE(validator.feed(bytes_of("abc")));
  EXPECT_FALSE(validator.complete());
  validator.reset();
  EXPECT_TRUE(validator.feed(bytes_of("abc")));
  EXPECT_TRUE(validator.complete());
}

// Every 1-, 2- and 3-byte sequence is classified like a reference decoder
// following RFC 3629 by arithmetic (decode, then check the range).
int reference_length(const unsigned char* s, std::size_t n) {
  const unsigned lead = s[0];
  std::size_t len = lead < 0x80         ? 1
                    : (lead >> 5) == 6  ? 2
                    : (lead >> 4) == 14 ? 3
                    : (lead >> 3) == 30 ? 4
                                        : 0;
  if (len == 0 || len > n) return -1;
  std::uint32_t cp = len == 1   ? lead
                     : len == 2 ? (lead & 0x1f)
                     : len == 3 ? (lead & 0x0f)
                                : (lead & 0x07);
  for (std::size_t i = 1; i < len; ++i) {
    if ((s[i] >> 6) != 2) return -1;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  return static_cast<int>(len);
}

bool reference_valid(const unsigned char* s, std::size_t n) {
  for (std::size_t i = 0; i < n;) {
    const int len = reference_length(s + i, n - i);
    if (len < 0) return false;
    i += static_cast<std::size_t>(len);
  }
  return true;
}

TEST(Utf8Test, AgreesWithAReferenceDecoderOnAllShortSequences) {
  unsigned char s[3];
  for (unsigned a = 0; a < 256; ++a) {
    s[0] = static_cast<unsigned char>(a);
    ASSERT_EQ(is_valid_utf8(bytes_of(std::span<const std::uint8_t>(s, 1))), reference_valid(s, 1));
    for (unsigned b = 0; b < 256; ++b) {
      s[1] = static_cast<unsigned char>(b);
      ASSERT_EQ(is_valid_utf8(bytes_of(std::span<const std::uint8_t>(s, 2))),
                reference_valid(s, 2));
      if (a < 0xE0 || a > 0xF4) continue;
      for (unsigned c = 0x70; c < 0xC8; ++c) {
        s[2] = static_cast<unsigned char>(c);
        ASSERT_EQ(is_valid_utf8(bytes_of(std::span<const std::uint8_t>(s, 3))),
                  reference_valid(s, 3))
            << a << " " << b << " " << c;
      }
    }
  }
}

}  // namespace
}  // namespace mote::websocket
