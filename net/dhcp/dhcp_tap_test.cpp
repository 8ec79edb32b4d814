// mote's own stack on a TAP device gets a lease from a real dnsmasq, then
// resolves a name at the DNS server the lease named, then releases the
// lease. dnsmasq serves DHCP and DNS inside a network namespace the test
// creates (and deletes); the TAP device is moved into it before it gets an
// address, so nothing leaves the namespace.
//
// The DHCP transport is a plain mote UdpSocket bound to port 68: the
// interface sends from 0.0.0.0 to broadcast while it has no address and
// takes broadcast UDP (net/iface/interface.hpp).

#include <fstream>
#include <gtest/gtest.h>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "../linux/testdata/tap_namespace.hpp"
#include "mote/async/async.hpp"
#include "mote/net/dhcp/async_dhcp_client.hpp"
#include "mote/net/dns/dns_resolver.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/linux/system_random.hpp"
#include "mote/net/linux/tap_device.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/stack.hpp"
#include "mote/testing/process.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using async::Task;
using io::Ipv4Address;

constexpr Ipv4Address kServer(10, 78, 0, 1);
constexpr Ipv4Address kBroker(10, 78, 0, 7);
constexpr wire::MacAddress kMac{0x02, 0x6d, 0x6f, 0x74, 0x65, 0x44};

using DhcpOverMote = AsyncDhcpClient<UdpSocket>;
using ResolverOverMote = DnsResolver<UdpSocket>;

struct Outcome {
  std::optional<DhcpLease> lease;
  std::optional<Result<io::IpAddress>> broker;
  bool reconfigured = false;
};

Task<void> run_stack(Stack<TunTapDevice>& stack) { return stack.run(); }

Task<Status> run_dhcp(DhcpOverMote& dhcp, Interface& iface, Outcome& outcome,
                      std::optional<Ipv4Address> remembered) {
  co_return co_await dhcp.run(
      [&iface, &outcome](const DhcpEvent& event) {
        if (event.kind != DhcpEvent::Kind::acquired) return;
        outcome.reconfigured =
            iface.set_ipv4_address(event.lease.address, event.lease.prefix_len).ok();
        if (event.lease.router) {
          outcome.reconfigured &= iface.set_default_gateway(*event.lease.router).ok();
        }
        outcome.lease = event.lease;
      },
      remembered);
}

Task<void> resolve_broker(ResolverOverMote& resolver, Outcome& outcome) {
  outcome.broker = co_await resolver.resolve("broker.lan");
}

Task<Status> release(DhcpOverMote& dhcp) { co_return co_await dhcp.release(); }

class DhcpTapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MOTE_SKIP_UNLESS_PROGRAM("ip");
    MOTE_SKIP_UNLESS_PROGRAM("/usr/sbin/dnsmasq");
    if (std::optional<std::string> why = namespace_.open(driver_, tap_, "dhcp", "10.78.0.1/24")) {
      GTEST_SKIP() << *why;
    }
    leases_ = dir_.file("dnsmasq.leases");
    dnsmasq_.emplace(
        std::vector<std::string>{"ip",
                                 "netns",
                                 "exec",
                                 namespace_.name(),
                                 "/usr/sbin/dnsmasq",
                                 "--no-daemon",
                                 "--interface=" + tap_.name(),
                                 "--bind-interfaces",
                                 "--except-interface=lo",
                                 "--no-resolv",
                                 "--no-hosts",
                                 "--conf-file=/dev/null",
                                 "--pid-file=",
                                 "--log-facility=-",
                                 "--log-dhcp",
                                 "--no-ping",
                                 "--dhcp-authoritative",
                                 "--dhcp-leasefile=" + leases_,
                                 "--dhcp-range=10.78.0.100,10.78.0.150,255.255.255.0,1h",
                                 "--dhcp-option=option:router,10.78.0.1",
                                 "--dhcp-option=option:dns-server,10.78.0.1",
                                 "--local=/lan/",
                                 "--host-record=broker.lan,10.78.0.7"});
    ASSERT_TRUE(dnsmasq_->wait_for_output("started, version", 5s, true)) << dnsmasq_->describe();

    InterfaceConfig config;
    config.hardware_address = kMac;
    iface_.emplace(tap_.capabilities(), config);  // no address: DHCP gives one
    stack_.emplace(*iface_, tap_);
    ASSERT_TRUE(executor_.spawn(stack_task_, run_stack, std::ref(*stack_)).ok());
  }

  void TearDown() override {
    dhcp_task_.cancel();
    app_task_.cancel();
    release_task_.cancel();
    stack_task_.cancel();
    static_cast<void>(executor_.run_for(1ms));
    if (dnsmasq_) dnsmasq_->stop();
    tap_.close();
    namespace_.close();
  }

  // Runs the executor until `done` or 10 s of real time.
  template <typename Done>
  void run_until(Done done) {
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < give_up) {
      static_cast<void>(executor_.run_for(20ms));
    }
  }

  std::string lease_file() const {
    std::ifstream file(leases_);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }

  testing::TempDir dir_;
  test_support::TapNamespace namespace_;
  std::string leases_;
  std::optional<testing::ChildProcess> dnsmasq_;
  platform::EpollDriver driver_;
  async::Executor executor_{driver_};
  TunTapDevice tap_;
  std::optional<StaticInterface<>> iface_;
  std::optional<Stack<TunTapDevice>> stack_;
  // After the interface: they unbind from it when destroyed.
  StaticUdpSocket<2048, 2048> dhcp_socket_;
  StaticUdpSocket<2048, 2048> dns_socket_;
  SystemRandom random_;
  std::optional<DhcpOverMote> dhcp_;
  std::optional<ResolverOverMote> resolver_;
  async::TaskStorage<2048> stack_task_;
  async::TaskStorage<8192> dhcp_task_;
  async::TaskStorage<8192> app_task_;
  async::TaskStorage<4096> release_task_;
};

TEST_F(DhcpTapTest, LeaseFromDnsmasqThenDnsThenRelease) {
  ASSERT_TRUE(dhcp_socket_.bind(*iface_, DhcpOverMote::kClientPort).ok());
  DhcpClientConfig config;
  config.host_name = "mote-tap";
  DhcpOverMote& dhcp = dhcp_.emplace(dhcp_socket_, kMac, random_, config);
  Outcome outcome;
  ASSERT_TRUE(executor_
                  .spawn(dhcp_task_, run_dhcp, std::ref(dhcp), std::ref(*iface_), std::ref(outcome),
                         std::optional<Ipv4Address>())
                  .ok());
  run_until([&] { return outcome.lease.has_value(); });
  ASSERT_TRUE(outcome.lease.has_value()) << dnsmasq_->describe();
  const DhcpLease& lease = *outcome.lease;
  EXPECT_TRUE(outcome.reconfigured);
  EXPECT_GE(lease.address, Ipv4Address(10, 78, 0, 100));
  EXPECT_LE(lease.address, Ipv4Address(10, 78, 0, 150));
  EXPECT_EQ(lease.prefix_len, 24);
  EXPECT_EQ(lease.router, kServer);
  ASSERT_EQ(lease.dns_servers.size(), 1u);
  EXPECT_EQ(lease.dns_servers[0], kServer);
  EXPECT_EQ(lease.server, kServer);
  EXPECT_EQ(lease.lease_time, Duration(1h));
  EXPECT_EQ(dhcp.core().state(), DhcpClient::State::bound);
  EXPECT_EQ(iface_->ipv4_address(), lease.address);
  // dnsmasq recorded the lease under mote's hardware address and host name.
  run_until([&] { return lease_file().find("mote-tap") != std::string::npos; });
  EXPECT_NE(lease_file().find("02:6d:6f:74:65:44"), std::string::npos) << lease_file();

  // DNS over mote's UDP, at the server the lease named.
  ASSERT_TRUE(dns_socket_.bind(*iface_, 0).ok());
  ResolverOverMote& resolver = resolver_.emplace(dns_socket_, random_, lease.dns_servers);
  ASSERT_TRUE(
      executor_.spawn(app_task_, resolve_broker, std::ref(resolver), std::ref(outcome)).ok());
  run_until([&] { return outcome.broker.has_value(); });
  ASSERT_TRUE(outcome.broker.has_value()) << dnsmasq_->describe();
  ASSERT_TRUE(outcome.broker->ok()) << outcome.broker->status().str() << dnsmasq_->describe();
  EXPECT_EQ(**outcome.broker, io::IpAddress(kBroker));

  // Stop the client and give the lease back.
  dhcp_task_.cancel();
  static_cast<void>(executor_.run_for(1ms));
  ASSERT_TRUE(executor_.spawn(release_task_, release, std::ref(dhcp)).ok());
  run_until([&] {
    return dnsmasq_->stdout_text().find("DHCPRELEASE") != std::string::npos ||
           dnsmasq_->stderr_text().find("DHCPRELEASE") != std::string::npos;
  });
  EXPECT_TRUE(release_task_.exit_status().ok());
  EXPECT_NE(dnsmasq_->stderr_text().find("DHCPRELEASE"), std::string::npos) << dnsmasq_->describe();
}

// A board that remembered an address from another network asks for it
// (INIT-REBOOT); dnsmasq, authoritative, refuses; the client starts over and
// gets one from the range.
TEST_F(DhcpTapTest, RememberedAddressFromAnotherNetworkIsNakedThenLeased) {
  ASSERT_TRUE(dhcp_socket_.bind(*iface_, DhcpOverMote::kClientPort).ok());
  DhcpOverMote& dhcp = dhcp_.emplace(dhcp_socket_, kMac, random_);
  Outcome outcome;
  ASSERT_TRUE(executor_
                  .spawn(dhcp_task_, run_dhcp, std::ref(dhcp), std::ref(*iface_), std::ref(outcome),
                         std::optional<Ipv4Address>(Ipv4Address(192, 168, 99, 5)))
                  .ok());
  run_until([&] { return outcome.lease.has_value(); });
  ASSERT_TRUE(outcome.lease.has_value()) << dnsmasq_->describe();
  EXPECT_TRUE(Ipv4Address(10, 78, 0, 0).same_subnet(outcome.lease->address, 24));
  const std::string log = dnsmasq_->stderr_text();
  const std::size_t nak = log.find("DHCPNAK(");
  ASSERT_NE(nak, std::string::npos) << log;
  EXPECT_NE(log.find("192.168.99.5"), std::string::npos) << log;
  EXPECT_NE(log.find("DHCPDISCOVER(", nak), std::string::npos) << log;
  EXPECT_NE(log.find("DHCPACK(", nak), std::string::npos) << log;
}

}  // namespace
}  // namespace mote::net
