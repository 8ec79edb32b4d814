// Two stacks on one Ethernet cable, each run by its Stack task on the
// simulator's clock: ARP, UDP both ways, and the same over a lossy,
// delaying, reordering cable (a seeded FaultInjector on one end).

#include "mote/net/phy/cable.hpp"

#include <gtest/gtest.h>

#include "mote/async/async.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/phy/fault_injector.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/stack.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using async::Task;
using io::Endpoint;
using io::Ipv4Address;

constexpr Ipv4Address kIpA(192, 168, 1, 1);
constexpr Ipv4Address kIpB(192, 168, 1, 2);

InterfaceConfig config_for(std::uint8_t last_octet) {
  InterfaceConfig config;
  config.hardware_address = wire::MacAddress(0x02, 0, 0, 0, 0, last_octet);
  return config;
}

template <typename Link>
Task<void> run_stack(Stack<Link>& stack) {
  return stack.run();
}

Task<void> echo_forever(UdpSocket& socket) {
  std::array<std::byte, 512> buffer{};
  for (;;) {
    Result<io::Datagram> got = co_await socket.receive_from(buffer);
    if (!got.ok()) co_return;
    static_cast<void>(co_await socket.send_to(ConstByteSpan(buffer).first(got->size), got->from));
  }
}

// Sends `count` numbered datagrams `gap` apart, then collects echoes for a
// second; counts the distinct ones that came back.
Task<void> send_numbered(UdpSocket& socket, Endpoint to, int count, async::Duration gap,
                         int& echoed) {
  std::array<std::byte, 64> datagram{};
  for (int i = 0; i < count; ++i) {
    store_be16(datagram.data(), static_cast<std::uint16_t>(i));
    static_cast<void>(co_await socket.send_to(datagram, to));
    co_await async::sleep_for(gap);
  }
  co_await async::sleep_for(1s);
  while (socket.try_receive_from(datagram).ok()) ++echoed;
}

template <typename LinkA>
class TwoStacks {
 public:
  TwoStacks(LinkA& link_a, Cable::End& link_b) : a_(link_a), b_(link_b) {}

  void start(async::Executor& executor) {
    EXPECT_TRUE(iface_a_.set_ipv4_address(kIpA, 24).ok());
    EXPECT_TRUE(iface_b_.set_ipv4_address(kIpB, 24).ok());
    EXPECT_TRUE(executor.spawn(task_a_, run_stack<LinkA>, std::ref(stack_a_)).ok());
    EXPECT_TRUE(executor.spawn(task_b_, run_stack<Cable::End>, std::ref(stack_b_)).ok());
    EXPECT_TRUE(server_.bind(iface_a_, 7).ok());
    EXPECT_TRUE(client_.bind(iface_b_, 0).ok());
    EXPECT_TRUE(executor.spawn(echo_task_, echo_forever, std::ref(server_)).ok());
  }
  ~TwoStacks() {
    echo_task_.cancel();
    task_a_.cancel();
    task_b_.cancel();
  }

  LinkA& a_;
  Cable::End& b_;
  StaticInterface<> iface_a_{a_.capabilities(), config_for(1)};
  StaticInterface<> iface_b_{b_.capabilities(), config_for(2)};
  Stack<LinkA> stack_a_{iface_a_, a_};
  Stack<Cable::End> stack_b_{iface_b_, b_};
  async::TaskStorage<1024> task_a_;
  async::TaskStorage<1024> task_b_;
  async::TaskStorage<2048> echo_task_;
  StaticUdpSocket<4096, 2048> server_;
  StaticUdpSocket<8192, 2048> client_;
};

TEST(CableTest, TwoStacksResolveEachOtherAndExchangeUdp) {
  platform::SimDriver driver;
  async::Executor executor(driver);
  StaticCable<32768> cable;
  TwoStacks<Cable::End> stacks(cable.end_a(), cable.end_b());
  stacks.start(executor);
  async::TaskStorage<2048> client_task;
  int echoed = 0;
  ASSERT_TRUE(executor
                  .spawn(client_task, send_numbered, std::ref(stacks.client_), Endpoint{kIpA, 7},
                         20, 10ms, std::ref(echoed))
                  .ok());
  static_cast<void>(executor.run_for(5s));
  EXPECT_EQ(echoed, 20);
  // One ARP exchange each way at most (b asks for a; a learned b from it).
  EXPECT_EQ(stacks.iface_b_.stats().arp_requests_sent, 2u + 1u);  // 2 announcements + 1
  EXPECT_EQ(stacks.iface_a_.stats().arp_replies_sent, 1u);
}

TEST(CableTest, UdpOverALossyReorderingCable) {
  platform::SimDriver driver;
  async::Executor executor(driver);
  StaticCable<65536> cable;
  FaultConfig faults;
  faults.seed = 2024;
  faults.drop_percent = 15;
  faults.reorder_percent = 20;
  faults.delay = 5ms;
  faults.reorder_delay = 15ms;
  std::array<std::byte, 32768> held{};
  FaultInjector lossy(cable.end_a(), faults, held);
  TwoStacks<FaultInjector<Cable::End>> stacks(lossy, cable.end_b());
  stacks.start(executor);
  async::TaskStorage<2048> client_task;
  int echoed = 0;
  ASSERT_TRUE(executor
                  .spawn(client_task, send_numbered, std::ref(stacks.client_), Endpoint{kIpA, 7},
                         200, 2ms, std::ref(echoed))
                  .ok());
  static_cast<void>(executor.run_for(10s));
  // Each datagram crosses the lossy end twice (request in, echo out):
  // about 0.85^2 = 72% survive. ARP retries get through the loss.
  EXPECT_GT(echoed, 110);
  EXPECT_LT(echoed, 180);
  EXPECT_GT(lossy.stats().dropped, 0u);
  EXPECT_GT(lossy.stats().reordered, 0u);
}

}  // namespace
}  // namespace mote::net
