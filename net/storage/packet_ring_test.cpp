#include "mote/net/storage/packet_ring.hpp"

#include <deque>
#include <gtest/gtest.h>
#include <random>
#include <vector>

namespace mote::net {
namespace {

TEST(PacketRingTest, QueuesPacketsInOrderWithTheirEndpoints) {
  std::array<std::byte, 64> storage{};
  PacketRing ring(storage);
  EXPECT_TRUE(ring.empty());
  ASSERT_TRUE(ring.enqueue(3, {io::Ipv4Address(10, 0, 0, 1), 53}).ok());
  Result<ByteSpan> second = ring.enqueue(5, {io::Ipv4Address(10, 0, 0, 2), 80});
  ASSERT_TRUE(second.ok());
  (*second)[0] = std::byte{0x42};
  EXPECT_EQ(ring.packet_count(), 2u);
  EXPECT_EQ(ring.peek()->meta, (PacketMeta{io::Ipv4Address(10, 0, 0, 1), 53}));
  EXPECT_EQ(ring.peek()->payload.size(), 3u);
  ring.dequeue();
  EXPECT_EQ(ring.peek()->meta.port, 80);
  EXPECT_EQ(ring.peek()->payload[0], std::byte{0x42});
  ring.dequeue();
  EXPECT_FALSE(ring.peek().has_value());
}

TEST(PacketRingTest, SaysWhetherAPacketCanEverFit) {
  std::array<std::byte, 64> storage{};
  PacketRing ring(storage);
  EXPECT_EQ(ring.enqueue(57, {}).status(), Status::out_of_range());
  ASSERT_TRUE(ring.enqueue(56, {}).ok());  // exactly the whole storage
  EXPECT_EQ(ring.enqueue(0, {}).status(), Status::resource_exhausted());
  EXPECT_FALSE(ring.can_enqueue(0));
}

TEST(PacketRingTest, QueuesAPacketWrittenInPlace) {
  std::array<std::byte, 128> storage{};
  PacketRing ring(storage);
  ASSERT_TRUE(ring.enqueue(20, {}).ok());  // bytes 0..27 with its header
  // Room for up to 30 bytes; 5 of them are queued.
  const ByteSpan room = ring.writable(30);
  ASSERT_EQ(room.size(), 30u);
  for (std::size_t i = 0; i < 5; ++i) room[i] = std::byte(i + 1);
  ASSERT_TRUE(ring.enqueue_written(30, 5, {io::Ipv4Address(10, 0, 0, 9), 7}).ok());
  // The unused 25 bytes went back: 128 - 28 - 13 = 87 bytes are free in one run.
  EXPECT_TRUE(ring.can_enqueue(87 - PacketRing::kHeaderLen));
  ring.dequeue();
  const std::optional<PacketRing::Packet> packet = ring.peek();
  ASSERT_TRUE(packet.has_value());
  EXPECT_EQ(packet->meta, (PacketMeta{io::Ipv4Address(10, 0, 0, 9), 7}));
  ASSERT_EQ(packet->payload.size(), 5u);
  EXPECT_EQ(packet->payload[0], std::byte{1});
  EXPECT_EQ(packet->payload[4], std::byte{5});
  // Too large for the storage: no room. A room asked for and never
  // filled queues nothing.
  EXPECT_TRUE(ring.writable(200).empty());
  EXPECT_FALSE(ring.writable(8).empty());
  EXPECT_EQ(ring.packet_count(), 1u);
}

TEST(PacketRingTest, WrapsAndMatchesAModelUnderRandomUse) {
  // Random sizes in and out, checked against a deque of vectors: every
  // packet comes out whole, in order, and the ring only refuses a packet
  // when it truly has no contiguous room.
  std::array<std::byte, 200> storage{};
  PacketRing ring(storage);
  std::deque<std::vector<std::byte>> model;
  std::mt19937 random(1);
  std::uint8_t fill = 0;
  for (int step = 0; step < 20000; ++step) {
    if (random() % 2 == 0) {
      const std::size_t len = random() % 90;
      const bool could = ring.can_enqueue(len);
      Result<ByteSpan> room =
          ring.enqueue(len, {io::Ipv4Address(), static_cast<std::uint16_t>(len)});
      ASSERT_EQ(room.ok(), could);
      if (!room.ok()) {
        // A refusal means no free run holds it: the free bytes are at most
        // two runs of less than `need` each, plus a skipped tail shorter
        // than the largest record.
        std::size_t used = 0;
        for (const auto& packet : model) used += packet.size() + PacketRing::kHeaderLen;
        const std::size_t need = len + PacketRing::kHeaderLen;
        ASSERT_GT(used + 2 * need + (89 + PacketRing::kHeaderLen), storage.size()) << step;
        continue;
      }
      std::vector<std::byte> packet(len);
      for (auto& byte : packet) byte = std::byte{fill++};
      std::copy(packet.begin(), packet.end(), room->begin());
      model.push_back(packet);
    } else if (!model.empty()) {
      auto packet = ring.peek();
      ASSERT_TRUE(packet.has_value());
      ASSERT_EQ(packet->meta.port, model.front().size());
      ASSERT_TRUE(std::equal(packet->payload.begin(), packet->payload.end(), model.front().begin(),
                             model.front().end()));
      ring.dequeue();
      model.pop_front();
    }
    ASSERT_EQ(ring.packet_count(), model.size());
  }
}

}  // namespace
}  // namespace mote::net
