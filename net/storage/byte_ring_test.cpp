#include "mote/net/storage/byte_ring.hpp"

#include <algorithm>
#include <array>
#include <gtest/gtest.h>
#include <numeric>
#include <vector>

namespace mote::net {
namespace {

std::vector<std::byte> sequence(std::size_t n, int start = 0) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::byte(static_cast<std::uint8_t>(start + i));
  return out;
}

TEST(ByteRingTest, PushAndPopAcrossTheWrap) {
  std::array<std::byte, 8> storage{};
  ByteRing ring(storage);
  const auto first = sequence(6);
  EXPECT_EQ(ring.push(first), 6u);
  std::array<std::byte, 4> out{};
  EXPECT_EQ(ring.pop(out), 4u);
  EXPECT_EQ(out[0], std::byte{0});
  EXPECT_EQ(out[3], std::byte{3});
  // 2 queued at offset 4; 6 more wrap around the end of the storage.
  const auto second = sequence(10, 6);
  EXPECT_EQ(ring.push(second), 6u);
  EXPECT_TRUE(ring.full());
  const ByteRing::Pieces pieces = ring.pieces_at(0, 8);
  EXPECT_EQ(pieces.head.size(), 4u);
  EXPECT_EQ(pieces.tail.size(), 4u);
  std::array<std::byte, 8> all{};
  EXPECT_EQ(ring.pop(all), 8u);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], std::byte(4 + i));
  EXPECT_TRUE(ring.empty());
}

TEST(ByteRingTest, WriteAtPastTheQueueThenCommit) {
  std::array<std::byte, 8> storage{};
  ByteRing ring(storage);
  ring.push(sequence(3));
  ring.consume(3);
  ring.push(sequence(2, 10));         // head moved back to 0 when it emptied
  ring.write_at(4, sequence(3, 14));  // a later piece first: bytes 4..6
  EXPECT_EQ(ring.size(), 2u);
  ring.write_at(2, sequence(2, 12));  // the hole
  ring.commit(5);
  std::array<std::byte, 7> out{};
  ring.read_at(0, out);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], std::byte(10 + i));
  EXPECT_EQ(ring.front_span().size(), 5u);  // from offset 3 to the end of the storage
}

TEST(ByteRingTest, WritableAtIsOnePieceFilledInPlace) {
  std::array<std::byte, 8> storage{};
  ByteRing ring(storage);
  ring.push(sequence(3));
  ring.consume(3);
  ring.push(sequence(2, 10));                   // storage bytes 3 and 4
  EXPECT_TRUE(ring.writable_at(2, 4).empty());  // bytes 5..8 would wrap
  const ByteSpan room = ring.writable_at(2, 3);
  ASSERT_EQ(room.size(), 3u);
  EXPECT_EQ(room.data(), storage.data() + 5);
  const std::vector<std::byte> more = sequence(3, 12);
  std::copy(more.begin(), more.end(), room.begin());
  ring.write_at(2, room);  // already in place: nothing to copy
  ring.commit(3);
  std::array<std::byte, 5> out{};
  ring.read_at(0, out);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], std::byte(10 + i));
}

}  // namespace
}  // namespace mote::net
