// A capture of two stacks talking over a cable, written with PcapFile and
// read back by tcpdump: the format is what real tools expect.

#include "mote/net/linux/pcap_file.hpp"

#include <gtest/gtest.h>

#include "mote/net/iface/interface.hpp"
#include "mote/net/phy/cable.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/testing/process.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using io::Endpoint;
using io::Ipv4Address;

TEST(PcapFileTest, TcpdumpReadsTheCapture) {
  MOTE_SKIP_UNLESS_PROGRAM("tcpdump");
  testing::TempDir dir;
  Result<PcapFile> file = PcapFile::create(dir.file("run.pcap"));
  ASSERT_TRUE(file.ok());

  StaticCable<16384> cable;
  PcapWriter<Cable::End, PcapFile> capture(cable.end_a(), *file);
  InterfaceConfig config_a;
  config_a.hardware_address = wire::MacAddress(0x02, 0, 0, 0, 0, 0x0a);
  InterfaceConfig config_b;
  config_b.hardware_address = wire::MacAddress(0x02, 0, 0, 0, 0, 0x0b);
  config_a.announcements = config_b.announcements = 0;
  StaticInterface<> a(capture.capabilities(), config_a);
  StaticInterface<> b(cable.end_b().capabilities(), config_b);
  ASSERT_TRUE(a.set_ipv4_address(Ipv4Address(10, 1, 0, 1), 24).ok());
  ASSERT_TRUE(b.set_ipv4_address(Ipv4Address(10, 1, 0, 2), 24).ok());
  StaticUdpSocket<1024, 1024> sender;
  ASSERT_TRUE(sender.bind(a, 4000).ok());
  ASSERT_TRUE(sender.try_send_to(bytes_of("hello"), Endpoint{Ipv4Address(10, 1, 0, 2), 7}).ok());
  Instant now = Instant{} + 1s;
  for (int i = 0; i < 4; ++i) {
    a.poll(now, capture);
    b.poll(now, cable.end_b());
    now += 1ms;
  }
  file->close();

  testing::ChildProcess tcpdump({"tcpdump", "-nn", "-r", dir.file("run.pcap")});
  ASSERT_EQ(tcpdump.wait_for_exit(10s), 0) << tcpdump.describe();
  const std::string text = tcpdump.stdout_text();
  EXPECT_NE(text.find("ARP, Request who-has 10.1.0.2 tell 10.1.0.1"), std::string::npos) << text;
  EXPECT_NE(text.find("ARP, Reply 10.1.0.2 is-at 02:00:00:00:00:0b"), std::string::npos) << text;
  EXPECT_NE(text.find("IP 10.1.0.1.4000 > 10.1.0.2.7: UDP, length 5"), std::string::npos) << text;
  // No socket on port 7: b answers with a port unreachable.
  EXPECT_NE(text.find("udp port 7 unreachable"), std::string::npos) << text;
}

}  // namespace
}  // namespace mote::net
