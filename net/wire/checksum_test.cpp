#include "mote/net/wire/checksum.hpp"

#include <algorithm>
#include <cstdint>
#include <gtest/gtest.h>
#include <vector>

#include "testdata/captures.hpp"
#include "testdata/layers.hpp"

namespace mote::net::wire {
namespace {

// RFC 1071 §3, "Numerical Examples": the sum of these bytes is ddf2.
constexpr auto kRfc1071Example = make_bytes(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
static_assert(internet_checksum(kRfc1071Example) == static_cast<std::uint16_t>(~0xddf2u));

// The sum the slow way, for comparison.
std::uint16_t reference_checksum(ConstByteSpan data) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    std::uint64_t word = std::to_integer<std::uint64_t>(data[i]) << 8;
    if (i + 1 < data.size()) word |= std::to_integer<std::uint64_t>(data[i + 1]);
    sum += word;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// Reproducible bytes from a xorshift generator.
std::vector<std::byte> random_bytes(std::size_t len, std::uint32_t state) {
  std::vector<std::byte> bytes(len);
  for (std::byte& b : bytes) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    b = static_cast<std::byte>(state >> 24);
  }
  return bytes;
}

TEST(InternetChecksum, Rfc1071Example) {
  InternetChecksum checksum;
  checksum.add(kRfc1071Example);
  EXPECT_EQ(checksum.sum(), 0xddf2);
  EXPECT_EQ(checksum.checksum(), 0x220d);
}

TEST(InternetChecksum, OddLengthPadsWithZero) {
  constexpr auto kOdd = make_bytes(0x12, 0x34, 0x56);
  EXPECT_EQ(internet_checksum(kOdd), static_cast<std::uint16_t>(~(0x1234u + 0x5600u)));
  EXPECT_EQ(internet_checksum(kOdd), reference_checksum(kOdd));
  EXPECT_EQ(internet_checksum({}), 0xffff);
}

TEST(InternetChecksum, PiecesAtOddBoundariesSumLikeTheWhole) {
  const ConstByteSpan packet = testdata::ipv4_of(testdata::kPingRequest);
  for (std::size_t split = 0; split <= packet.size(); ++split) {
    InternetChecksum pieces;
    pieces.add(packet.first(split));
    pieces.add(packet.subspan(split));
    EXPECT_EQ(pieces.checksum(), reference_checksum(packet)) << split;
  }
  InternetChecksum three;
  three.add(packet.first(7));
  three.add(packet.subspan(7, 13));
  three.add(packet.subspan(20));
  EXPECT_EQ(three.checksum(), reference_checksum(packet));
}

TEST(InternetChecksum, LargeInputDoesNotOverflow) {
  const std::vector<std::byte> ones(200'001, std::byte{0xff});
  EXPECT_EQ(internet_checksum(ones), reference_checksum(ones));
  std::vector<std::byte> ramp(150'000);
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<std::byte>(i * 7);
  EXPECT_EQ(internet_checksum(ramp), reference_checksum(ramp));
}

// The accumulator is folded only when the sum is read (on 64-bit hosts):
// many small additions of the largest words must still sum exactly.
TEST(InternetChecksum, ManySmallAdditionsSumLikeOnePass) {
  const std::vector<std::byte> ones(400'000, std::byte{0xff});
  InternetChecksum words;
  InternetChecksum pieces;
  for (std::size_t i = 0; i < ones.size(); i += 4) {
    words.add_u32(0xffffffffu);
    pieces.add(ConstByteSpan(ones).subspan(i, 2));
    pieces.add_u16(0xffffu);
  }
  EXPECT_EQ(words.checksum(), reference_checksum(ones));
  EXPECT_EQ(pieces.checksum(), reference_checksum(ones));
  const std::vector<std::byte> bytes = random_bytes(300'000, 0x5eed);
  InternetChecksum odd_pieces;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    odd_pieces.add(ConstByteSpan(bytes).subspan(i, 3));
  }
  EXPECT_EQ(odd_pieces.checksum(), reference_checksum(bytes));
}

// Long runs: the vector loop (32 bytes a step on AVX2 hosts) empties its
// 32-bit lanes every MiB; all ones is the largest sum a lane can take.
TEST(InternetChecksum, VeryLongInputsSumAndCopyWithoutOverflow) {
  for (const std::vector<std::byte>& bytes :
       {std::vector<std::byte>((3u << 20) + 7, std::byte{0xff}),
        random_bytes((2u << 20) + 33, 0x1234567)}) {
    for (std::size_t offset = 0; offset < 2; ++offset) {
      const ConstByteSpan data = ConstByteSpan(bytes).subspan(offset);
      ASSERT_EQ(internet_checksum(data), reference_checksum(data)) << offset;
      std::vector<std::byte> out(data.size());
      InternetChecksum copied;
      copied.add_copy(data, out.data());
      ASSERT_EQ(copied.checksum(), reference_checksum(data)) << offset;
      ASSERT_TRUE(std::equal(data.begin(), data.end(), out.begin()));
    }
  }
}

// The wide path (8 bytes at a time in the machine's byte order) against the
// word-by-word sum: every length around its threshold and block size, at
// every alignment, whole and in two pieces split at every point.
TEST(InternetChecksum, WideSumMatchesTheWordSumAtEveryLengthAndAlignment) {
  const std::vector<std::byte> bytes = random_bytes(8 + 300, 0x2545f491);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t len = 0; len <= 300; ++len) {
      const ConstByteSpan data = ConstByteSpan(bytes).subspan(offset, len);
      ASSERT_EQ(internet_checksum(data), reference_checksum(data)) << offset << " " << len;
      for (std::size_t split = 0; split <= len; split += 1 + len / 16) {
        InternetChecksum pieces;
        pieces.add(data.first(split));
        pieces.add(data.subspan(split));
        ASSERT_EQ(pieces.checksum(), reference_checksum(data))
            << offset << " " << len << " " << split;
      }
    }
  }
}

TEST(InternetChecksum, CopyingSumsAndCopiesLikeAddAtEveryLengthAndSplit) {
  const std::vector<std::byte> bytes = random_bytes(8 + 300, 0x9e3779b9);
  for (std::size_t offset = 0; offset < 8; offset += 3) {
    for (std::size_t len = 0; len <= 300; ++len) {
      const ConstByteSpan data = ConstByteSpan(bytes).subspan(offset, len);
      for (std::size_t split = 0; split <= len; split += 1 + len / 8) {
        // The destination at another alignment than the source, with a guard
        // byte after it that must stay untouched.
        std::vector<std::byte> out(1 + len + 1, std::byte{0xa5});
        InternetChecksum copied;
        copied.add_copy(data.first(split), out.data() + 1);
        copied.add_copy(data.subspan(split), out.data() + 1 + split);
        ASSERT_EQ(copied.checksum(), reference_checksum(data))
            << offset << " " << len << " " << split;
        ASSERT_TRUE(std::equal(data.begin(), data.end(), out.begin() + 1));
        ASSERT_EQ(out.front(), std::byte{0xa5});
        ASSERT_EQ(out.back(), std::byte{0xa5});
      }
    }
  }
}

TEST(InternetChecksum, AddSumContinuesAtAnEvenOffset) {
  const auto head = make_bytes(0x45, 0x00, 0x00, 0x73);
  const auto tail = make_bytes(0x12, 0x34, 0xab);
  InternetChecksum tail_sum;
  tail_sum.add(tail);
  InternetChecksum joined;
  joined.add(head);
  joined.add_sum(tail_sum);
  InternetChecksum whole;
  whole.add(head);
  whole.add(tail);
  EXPECT_EQ(joined.checksum(), whole.checksum());
}

TEST(InternetChecksum, CapturedIpv4HeaderVerifies) {
  InternetChecksum header;
  header.add(testdata::ipv4_of(testdata::kPingRequest).first(20));
  EXPECT_TRUE(header.verifies());

  auto corrupted = testdata::copy_of(testdata::ipv4_of(testdata::kPingRequest).first(20));
  corrupted[8] ^= std::byte{0x01};  // TTL
  InternetChecksum bad;
  bad.add(corrupted);
  EXPECT_FALSE(bad.verifies());
}

TEST(InternetChecksum, CapturedUdpVerifiesWithThePseudoHeader) {
  const ConstByteSpan datagram = testdata::transport_of(testdata::kDnsQueryA);
  InternetChecksum sum;
  sum.add_ipv4_pseudo_header(Ipv4Address(192, 168, 69, 105), Ipv4Address(192, 168, 69, 1), 17,
                             static_cast<std::uint16_t>(datagram.size()));
  sum.add(datagram);
  EXPECT_TRUE(sum.verifies());

  InternetChecksum wrong_address;
  wrong_address.add_ipv4_pseudo_header(Ipv4Address(192, 168, 69, 106), Ipv4Address(192, 168, 69, 1),
                                       17, static_cast<std::uint16_t>(datagram.size()));
  wrong_address.add(datagram);
  EXPECT_FALSE(wrong_address.verifies());
}

}  // namespace
}  // namespace mote::net::wire
