#include "mote/net/wire/tcp.hpp"

#include <gtest/gtest.h>
#include <vector>

#include "testdata/captures.hpp"
#include "testdata/layers.hpp"

namespace mote::net::wire {
namespace {

using testdata::copy_of;
using testdata::transport_of;

constexpr Ipv4Address kClientIp(192, 168, 69, 105);
constexpr Ipv4Address kServerIp(192, 168, 69, 1);

TcpRepr parse(ConstByteSpan bytes, Ipv4Address source, Ipv4Address destination) {
  return TcpRepr::parse(TcpSegment<>::checked(bytes).value(), source, destination).value();
}

// A 20-byte header followed by `options`, for the malformed cases.
std::vector<std::byte> segment_with_options(std::initializer_list<int> options) {
  std::vector<std::byte> bytes(20);
  for (int option : options) bytes.push_back(static_cast<std::byte>(option));
  bytes[12] = static_cast<std::byte>((bytes.size() / 4) << 4);
  return bytes;
}

TEST(TcpRepr, ParsesALinuxSyn) {
  const auto segment = TcpSegment<>::checked(transport_of(testdata::kTcpSyn)).value();
  EXPECT_EQ(segment.header_len(), 40u);
  EXPECT_EQ(segment.segment_len(), 1u);
  const TcpRepr repr = TcpRepr::parse(segment, kClientIp, kServerIp).value();
  EXPECT_EQ(repr.destination_port, 8080);
  EXPECT_EQ(repr.seq_number, 650298842u);
  EXPECT_EQ(repr.flags, TcpFlags(TcpFlags::kSyn));
  EXPECT_EQ(repr.window_len, 64240);
  EXPECT_EQ(repr.max_segment_size, 1460);
  EXPECT_TRUE(repr.sack_permitted);
  EXPECT_EQ(repr.window_scale, 10);
  ASSERT_TRUE(repr.timestamps.has_value());
  EXPECT_EQ(repr.timestamps->value, 1268650u);
  EXPECT_EQ(repr.timestamps->echo_reply, 0u);
  EXPECT_TRUE(repr.sack_blocks.empty());
  EXPECT_TRUE(repr.payload.empty());

  // The options in order: MSS, SACK-permitted, timestamps, NOP, window scale.
  std::vector<std::uint8_t> kinds;
  TcpOptionReader reader(segment.options());
  while (auto option = reader.next()) kinds.push_back(option->kind);
  EXPECT_EQ(kinds, (std::vector<std::uint8_t>{2, 4, 8, 1, 3}));
}

TEST(TcpRepr, ParsesSackBlocksAfterALoss) {
  const TcpRepr repr = parse(transport_of(testdata::kTcpSack), kClientIp, kServerIp);
  EXPECT_TRUE(repr.flags.ack());
  EXPECT_EQ(repr.ack_number, 688593372u);
  ASSERT_EQ(repr.sack_blocks.size(), 2u);
  // tcpdump -S: sack 2 {688604956:688606404}{688594820:688603508}
  EXPECT_EQ(repr.sack_blocks[0], (SackBlock{688604956u, 688606404u}));
  EXPECT_EQ(repr.sack_blocks[1], (SackBlock{688594820u, 688603508u}));
  ASSERT_TRUE(repr.timestamps.has_value());
  EXPECT_EQ(repr.timestamps->value, 4161914251u);
  EXPECT_EQ(repr.timestamps->echo_reply, 3934449153u);
  EXPECT_FALSE(repr.max_segment_size.has_value());
}

TEST(TcpRepr, ParsesData) {
  const TcpRepr repr = parse(transport_of(testdata::kTcpData), kClientIp, kServerIp);
  EXPECT_EQ(repr.flags, TcpFlags(TcpFlags::kPsh | TcpFlags::kAck));
  EXPECT_EQ(as_string_view(repr.payload), "ping\n");
}

TEST(TcpRepr, RoundTripsLinuxSegmentsByteForByte) {
  struct Case {
    std::span<const std::uint8_t> frame;
    Ipv4Address source;
    Ipv4Address destination;
  };
  for (const Case& c : {Case{testdata::kTcpSyn, kClientIp, kServerIp},
                        Case{testdata::kTcpSynAck, kServerIp, kClientIp},
                        Case{testdata::kTcpData, kClientIp, kServerIp},
                        Case{testdata::kTcpSack, kClientIp, kServerIp}}) {
    const ConstByteSpan original = transport_of(c.frame);
    const TcpRepr repr = parse(original, c.source, c.destination);
    ASSERT_EQ(repr.buffer_len(), original.size());
    std::vector<std::byte> out(repr.buffer_len());
    ASSERT_EQ(repr.emit(out, c.source, c.destination).value(), original.size());
    EXPECT_EQ(out, copy_of(original));
  }
}

TEST(TcpRepr, ChecksumIsVerifiedUnlessIgnored) {
  auto bytes = copy_of(transport_of(testdata::kTcpData));
  bytes[bytes.size() - 1] = std::byte{'!'};
  const auto segment = TcpSegment<>::checked(bytes).value();
  EXPECT_EQ(TcpRepr::parse(segment, kClientIp, kServerIp).status(), Status::data_loss());
  EXPECT_TRUE(TcpRepr::parse(segment, kClientIp, kServerIp, ChecksumMode::ignore).ok());
}

TEST(TcpSegment, RejectsBadHeaderLengths) {
  const ConstByteSpan syn = transport_of(testdata::kTcpSyn);
  EXPECT_EQ(TcpSegment<>::checked(syn.first(19)).status(), Status::out_of_range());
  EXPECT_EQ(TcpSegment<>::checked(syn.first(39)).status(), Status::out_of_range());
  auto offset4 = copy_of(syn);
  offset4[12] = std::byte{0x40};
  EXPECT_EQ(TcpSegment<>::checked(offset4).status(), Status::invalid_argument());
  auto offset15 = copy_of(syn);
  offset15[12] = std::byte{0xf0};  // 60 bytes of header in 40
  EXPECT_EQ(TcpSegment<>::checked(offset15).status(), Status::out_of_range());
}

TEST(TcpSegment, RejectsMalformedOptions) {
  auto status = [](std::initializer_list<int> options) {
    return TcpSegment<>::checked(segment_with_options(options)).status();
  };
  EXPECT_EQ(status({2, 4, 5, 0xb4}), Status::ok_status());
  EXPECT_EQ(status({1, 1, 1, 2}), Status::out_of_range());      // MSS kind, no length
  EXPECT_EQ(status({2, 1, 0, 0}), Status::invalid_argument());  // length below 2
  EXPECT_EQ(status({2, 0, 0, 0}), Status::invalid_argument());  // length zero
  EXPECT_EQ(status({1, 1, 30, 6}), Status::out_of_range());     // runs past the header
  EXPECT_EQ(status({2, 3, 5, 0}), Status::invalid_argument());  // MSS of length 3
  EXPECT_EQ(status({3, 4, 7, 0}), Status::invalid_argument());  // window scale of length 4
  EXPECT_EQ(status({4, 3, 0, 0}), Status::invalid_argument());  // SACK-permitted of length 3
  EXPECT_EQ(status({8, 8, 0, 0, 0, 0, 0, 0}), Status::invalid_argument());  // timestamps of 8
  EXPECT_EQ(status({5, 6, 0, 0, 0, 0, 0, 0}), Status::invalid_argument());  // SACK, no block
  EXPECT_EQ(status({1, 5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}), Status::invalid_argument());
  // Anything after End of Option List is not looked at.
  EXPECT_EQ(status({0, 2, 1, 0}), Status::ok_status());
}

TEST(TcpRepr, TimestampsParseTheSameInTheAlignedLayoutAndAnyOther) {
  // RFC 7323 Appendix A's NOP, NOP, TSopt (which parse takes in one step)
  // and the option first, padded after it.
  for (const auto& options : {std::initializer_list<int>{1, 1, 8, 10, 0, 0, 1, 2, 0xff, 0, 0, 3},
                              std::initializer_list<int>{8, 10, 0, 0, 1, 2, 0xff, 0, 0, 3, 1, 1}}) {
    const auto bytes = segment_with_options(options);
    const auto segment = TcpSegment<>::checked(bytes).value();
    const TcpRepr repr =
        TcpRepr::parse(segment, kClientIp, kServerIp, ChecksumMode::ignore).value();
    ASSERT_TRUE(repr.timestamps.has_value());
    EXPECT_EQ(repr.timestamps->value, 0x102u);
    EXPECT_EQ(repr.timestamps->echo_reply, 0xff000003u);
    EXPECT_TRUE(repr.sack_blocks.empty());
    EXPECT_FALSE(repr.max_segment_size.has_value());
  }
}

TEST(TcpRepr, SkipsUnknownOptionsAndClampsTheWindowScale) {
  // An unknown kind 30 of length 6, then window scale 15, then padding.
  auto bytes = segment_with_options({30, 6, 1, 2, 3, 4, 1, 3, 3, 15, 0, 0});
  const TcpRepr repr = TcpRepr::parse(TcpSegment<>::checked(bytes).value(), kClientIp, kServerIp,
                                      ChecksumMode::ignore)
                           .value();
  EXPECT_EQ(repr.window_scale, TcpRepr::kMaxWindowScale);
  EXPECT_FALSE(repr.max_segment_size.has_value());

  auto after_end = segment_with_options({0, 2, 4, 1, 0});
  const TcpRepr ended = TcpRepr::parse(TcpSegment<>::checked(after_end).value(), kClientIp,
                                       kServerIp, ChecksumMode::ignore)
                            .value();
  EXPECT_FALSE(ended.max_segment_size.has_value());
}

TEST(TcpRepr, EmitsEachOptionLayout) {
  TcpRepr repr;
  repr.source_port = 49152;
  repr.destination_port = 1883;
  repr.flags = TcpFlags(TcpFlags::kSyn);
  repr.max_segment_size = 1460;
  repr.window_scale = 0;
  repr.sack_permitted = true;  // without timestamps: NOP NOP SACK-permitted
  EXPECT_EQ(repr.header_len(), 32u);
  std::vector<std::byte> out(repr.buffer_len());
  ASSERT_TRUE(repr.emit(out, kClientIp, kServerIp).ok());
  constexpr auto kOptions = make_bytes(2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 0);
  EXPECT_EQ(copy_of(ConstByteSpan(out).subspan(20)), copy_of(kOptions));
  EXPECT_EQ(parse(out, kClientIp, kServerIp), repr);

  TcpRepr timestamps_only;
  timestamps_only.flags = TcpFlags(TcpFlags::kAck);
  timestamps_only.timestamps = TcpTimestamps{7, 9};
  timestamps_only.sack_blocks.push_back(SackBlock{100, 200});
  std::vector<std::byte> out2(timestamps_only.buffer_len());
  ASSERT_TRUE(timestamps_only.emit(out2, kClientIp, kServerIp).ok());
  EXPECT_EQ(out2.size(), 20u + 12u + 12u);
  EXPECT_EQ(parse(out2, kClientIp, kServerIp), timestamps_only);

  // Twelve bytes of options two ways: NOP NOP TSopt (written a word at a
  // time) and one SACK block alone.
  TcpRepr aligned;
  aligned.flags = TcpFlags(TcpFlags::kAck | TcpFlags::kPsh);
  aligned.timestamps = TcpTimestamps{0x01020304, 0xfffefdfc};
  aligned.payload = bytes_of("data");
  std::vector<std::byte> out3(aligned.buffer_len());
  ASSERT_TRUE(aligned.emit(out3, kClientIp, kServerIp).ok());
  constexpr auto kAligned = make_bytes(1, 1, 8, 10, 1, 2, 3, 4, 0xff, 0xfe, 0xfd, 0xfc);
  EXPECT_EQ(copy_of(ConstByteSpan(out3).subspan(20, 12)), copy_of(kAligned));
  EXPECT_EQ(parse(out3, kClientIp, kServerIp), aligned);  // the checksum verifies
  TcpRepr one_block;
  one_block.flags = TcpFlags(TcpFlags::kAck);
  one_block.sack_blocks.push_back(SackBlock{100, 200});
  std::vector<std::byte> out4(one_block.buffer_len());
  ASSERT_TRUE(one_block.emit(out4, kClientIp, kServerIp).ok());
  EXPECT_EQ(out4.size(), 20u + 12u);
  EXPECT_EQ(parse(out4, kClientIp, kServerIp), one_block);
}

TEST(TcpRepr, EmitRejectsWhatCannotBeSent) {
  TcpRepr repr;
  repr.timestamps = TcpTimestamps{1, 2};
  for (std::uint32_t i = 0; i < 4; ++i) repr.sack_blocks.push_back(SackBlock{i, i + 1});
  std::vector<std::byte> out(100);
  EXPECT_EQ(repr.options_len(), 12u + 36u);
  EXPECT_EQ(repr.emit(out, kClientIp, kServerIp).status(), Status::invalid_argument());
  repr.timestamps.reset();  // four blocks alone fit
  EXPECT_TRUE(repr.emit(out, kClientIp, kServerIp).ok());

  TcpRepr scale;
  scale.window_scale = 15;
  EXPECT_EQ(scale.emit(out, kClientIp, kServerIp).status(), Status::invalid_argument());

  TcpRepr fits;
  std::vector<std::byte> small(19);
  EXPECT_EQ(fits.emit(small, kClientIp, kServerIp).status(), Status::resource_exhausted());
}

}  // namespace
}  // namespace mote::net::wire
