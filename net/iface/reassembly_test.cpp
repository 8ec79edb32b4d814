#include "mote/net/iface/reassembly.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <numeric>
#include <vector>

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using wire::Ipv4Repr;

class ReassemblerTest : public ::testing::Test {
 protected:
  ReassemblerTest() : reassembler_(slots_, bytes_) {
    data_.resize(1024);
    for (std::size_t i = 0; i < data_.size(); ++i) data_[i] = std::byte(i ^ (i >> 8));
  }
  std::optional<Reassembler::Datagram> add(std::uint16_t offset, std::size_t len, bool more,
                                           std::uint16_t id = 9) {
    Ipv4Repr header{io::Ipv4Address(10, 0, 0, 1), io::Ipv4Address(10, 0, 0, 2),
                    wire::IpProtocol::udp, len};
    header.identification = id;
    header.fragment_offset = offset;
    header.more_fragments = more;
    return reassembler_.add(now_, header, ConstByteSpan(data_).subspan(offset, len), 10s);
  }

  async::Instant now_{};
  std::array<ReassemblySlot, 2> slots_{};
  std::array<std::byte, 4096> bytes_{};
  Reassembler reassembler_;
  std::vector<std::byte> data_;
};

TEST_F(ReassemblerTest, RebuildsFromEightBytePiecesOutOfOrder) {
  // 128 pieces of 8 bytes with each pair swapped: every piece but the
  // last joins or extends a range, and the last (MF=0) arrives early.
  std::vector<std::uint16_t> offsets(128);
  std::iota(offsets.begin(), offsets.end(), 0);
  for (std::size_t i = 0; i + 1 < offsets.size(); i += 2) std::swap(offsets[i], offsets[i + 1]);
  std::optional<Reassembler::Datagram> whole;
  for (std::uint16_t index : offsets) {
    ASSERT_FALSE(whole.has_value());
    whole = add(static_cast<std::uint16_t>(index * 8), 8, index != 127);
  }
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->header.payload_len, 1024u);
  EXPECT_FALSE(whole->header.is_fragment());
  EXPECT_TRUE(std::equal(whole->payload.begin(), whole->payload.end(), data_.begin()));
  EXPECT_EQ(reassembler_.in_use(), 0u);
}

TEST_F(ReassemblerTest, DropsADatagramWithTooManySeparatePieces) {
  // Every other 8-byte block: nine separate ranges > kMaxRanges (8).
  for (std::uint16_t i = 0; i < 9; ++i) EXPECT_FALSE(add(i * 16, 8, true).has_value());
  EXPECT_EQ(reassembler_.stats().dropped, 1u);
  EXPECT_EQ(reassembler_.in_use(), 0u);
}

TEST_F(ReassemblerTest, RejectsContradictingLengths) {
  EXPECT_FALSE(add(0, 512, true).has_value());
  EXPECT_FALSE(add(256, 8, false).has_value());  // ends before data already held
  EXPECT_EQ(reassembler_.stats().dropped, 1u);
  EXPECT_FALSE(add(512, 8, false).has_value());
  EXPECT_FALSE(add(520, 8, false).has_value());  // a second, different end
  EXPECT_EQ(reassembler_.stats().dropped, 2u);
  EXPECT_FALSE(add(512, 8, false).has_value());
  EXPECT_FALSE(add(1000, 8, true).has_value());  // beyond the known end
  EXPECT_EQ(reassembler_.stats().dropped, 3u);
}

TEST_F(ReassemblerTest, ExpiresAfterTheTimeout) {
  EXPECT_FALSE(add(0, 8, true).has_value());
  EXPECT_EQ(reassembler_.next_expiry(), now_ + 10s);
  EXPECT_FALSE(reassembler_.expire(now_ + 9s).has_value());
  now_ += 10s;
  const std::optional<Reassembler::Expired> expired = reassembler_.expire(now_);
  ASSERT_TRUE(expired.has_value());  // fragment zero had arrived: quote it
  EXPECT_EQ(expired->header.identification, 9);
  EXPECT_EQ(expired->data_len, 8u);
  EXPECT_TRUE(std::equal(expired->data.begin(), expired->data.end(), data_.begin()));
  EXPECT_EQ(reassembler_.in_use(), 0u);
  EXPECT_EQ(reassembler_.stats().timed_out, 1u);
  EXPECT_EQ(reassembler_.next_expiry(), async::kNever);
}

}  // namespace
}  // namespace mote::net
