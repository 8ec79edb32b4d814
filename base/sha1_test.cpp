#include "mote/base/sha1.hpp"

#include <gtest/gtest.h>
#include <string>

namespace mote {
namespace {

std::string hex(const Sha1::Digest& digest) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string text;
  for (std::byte b : digest) {
    text += kDigits[std::to_integer<unsigned>(b) >> 4];
    text += kDigits[std::to_integer<unsigned>(b) & 0xf];
  }
  return text;
}

// RFC 3174 §7.3, TEST1..TEST4.
TEST(Sha1Test, Rfc3174Vectors) {
  EXPECT_EQ(hex(Sha1::of(bytes_of("abc"))), "A9993E364706816ABA3E25717850C26C9CD0D89D");
  EXPECT_EQ(hex(Sha1::of(bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "84983E441C3BD26EBAAE4AA1F95129E5E54670F1");
  Sha1 million;
  const std::string a(1000, 'a');
  for (int i = 0; i < 1000; ++i) million.update(bytes_of(a));
  EXPECT_EQ(hex(million.finish()), "34AA973CD4C4DAA4F61EEB2BDBAD27316534016F");
  Sha1 repeated;
  for (int i = 0; i < 10; ++i) {
    repeated.update(bytes_of("0123456701234567012345670123456701234567012345670123456701234567"));
  }
  EXPECT_EQ(hex(repeated.finish()), "DEA356A2CDDD90C7A7ECEDC5EBB563934F460452");
}

TEST(Sha1Test, EmptyMessageAndPaddingBoundaries) {
  EXPECT_EQ(hex(Sha1::of({})), "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709");
  // 55 bytes fit the length in the same block, 56 need a second one.
  EXPECT_EQ(hex(Sha1::of(bytes_of(std::string(55, 'a')))),
            "C1C8BBDC22796E28C0E15163D20899B65621D65A");
  EXPECT_EQ(hex(Sha1::of(bytes_of(std::string(56, 'a')))),
            "C2DB330F6083854C99D4B5BFB6E8F29F201BE699");
  EXPECT_EQ(hex(Sha1::of(bytes_of(std::string(64, 'a')))),
            "0098BA824B5C16427BD7A1122A5A442A25EC644D");
}

TEST(Sha1Test, SplitUpdatesMatchOneUpdate) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += static_cast<char>('a' + i % 26);
  const Sha1::Digest whole = Sha1::of(bytes_of(text));
  for (std::size_t split : {1u, 63u, 64u, 65u, 129u, 299u}) {
    Sha1 sha1;
    sha1.update(bytes_of(std::string_view(text).substr(0, split)));
    sha1.update(bytes_of(std::string_view(text).substr(split)));
    EXPECT_EQ(sha1.finish(), whole) << split;
  }
}

TEST(Sha1Test, FinishResets) {
  Sha1 sha1;
  sha1.update(bytes_of("garbage"));
  (void)sha1.finish();
  sha1.update(bytes_of("abc"));
  EXPECT_EQ(hex(sha1.finish()), "A9993E364706816ABA3E25717850C26C9CD0D89D");
}

}  // namespace
}  // namespace mote
