#include "mote/net/phy/pcap_writer.hpp"

#include <gtest/gtest.h>
#include <vector>

#include "mote/net/iface/interface.hpp"
#include "mote/net/phy/loopback.hpp"
#include "mote/net/socket/udp_socket.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;

struct MemorySink {
  void write(ConstByteSpan bytes) { data.insert(data.end(), bytes.begin(), bytes.end()); }
  std::vector<std::byte> data;
};

TEST(PcapWriterTest, RecordsEveryFrameBothWaysWithTheInterfacesTime) {
  StaticLoopback<8192> link;
  MemorySink sink;
  PcapWriter<Loopback, MemorySink> capture(link, sink);
  ASSERT_EQ(sink.data.size(), PcapFormat::kFileHeaderLen);
  EXPECT_EQ(load_le32(&sink.data[0]), 0xa1b2c3d4u);
  EXPECT_EQ(load_le16(&sink.data[4]), 2);
  EXPECT_EQ(load_le16(&sink.data[6]), 4);
  EXPECT_EQ(load_le32(&sink.data[20]), PcapFormat::kLinkTypeRaw);

  StaticInterface<> iface(capture.capabilities(), {});
  ASSERT_TRUE(iface.set_ipv4_address(io::Ipv4Address(127, 0, 0, 1), 8).ok());
  StaticUdpSocket<512, 512> socket;
  ASSERT_TRUE(socket.bind(iface, 9).ok());
  ASSERT_TRUE(
      socket.try_send_to(bytes_of("hi"), io::Endpoint{io::Ipv4Address(127, 0, 0, 1), 9}).ok());
  const Instant at = Instant{} + 3s + 250us;
  iface.poll(at, capture);

  // One UDP datagram (30 bytes of IPv4), recorded when sent and again when
  // received back.
  ASSERT_EQ(sink.data.size(), PcapFormat::kFileHeaderLen + 2 * (16 + 30));
  for (std::size_t record = 0; record < 2; ++record) {
    const std::byte* header = &sink.data[24 + record * 46];
    EXPECT_EQ(load_le32(header), 3u);
    EXPECT_EQ(load_le32(header + 4), 250u);
    EXPECT_EQ(load_le32(header + 8), 30u);
    EXPECT_EQ(load_le32(header + 12), 30u);
    EXPECT_EQ(std::to_integer<int>(header[16]), 0x45);  // the IPv4 header starts
  }
  EXPECT_EQ(socket.rx_queued(), 1u);
}

}  // namespace
}  // namespace mote::net
