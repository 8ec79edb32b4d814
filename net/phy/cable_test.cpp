// Two stacks on one Ethernet cable, each run by its Stack task on the
// simulator's clock: ARP, UDP both ways, and the same over a lossy,
// delaying, reordering cable (a seeded FaultInjector on one end).

#include "mote/net/phy/cable.hpp"

#include <gtest/gtest.h>

#include "../testdata/two_stacks.hpp"
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

using test_support::kServerIp;

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

// The two stacks, an echo server on the server's port 7 and a socket on
// the client.
template <typename ServerLink>
struct UdpEcho {
  UdpEcho(ServerLink& server_link, Cable::End& client_link) : stacks(server_link, client_link) {}
  ~UdpEcho() {
    echo_task.cancel();
    stacks.stop();
  }

  void start(async::Executor& executor) {
    stacks.start(executor);
    EXPECT_TRUE(server.bind(stacks.server_iface, 7).ok());
    EXPECT_TRUE(client.bind(stacks.client_iface, 0).ok());
    EXPECT_TRUE(executor.spawn(echo_task, echo_forever, std::ref(server)).ok());
  }

  test_support::TwoStacks<ServerLink, Cable::End> stacks;
  async::TaskStorage<2048> echo_task;
  StaticUdpSocket<4096, 2048> server;
  StaticUdpSocket<8192, 2048> client;
};

TEST(CableTest, TwoStacksResolveEachOtherAndExchangeUdp) {
  platform::SimDriver driver;
  async::Executor executor(driver);
  StaticCable<32768> cable;
  UdpEcho<Cable::End> echo(cable.end_a(), cable.end_b());
  echo.start(executor);
  async::TaskStorage<2048> client_task;
  int echoed = 0;
  ASSERT_TRUE(executor
                  .spawn(client_task, send_numbered, std::ref(echo.client), Endpoint{kServerIp, 7},
                         20, 10ms, std::ref(echoed))
                  .ok());
  static_cast<void>(executor.run_for(5s));
  EXPECT_EQ(echoed, 20);
  // One ARP exchange each way at most (the client asks for the server; the
  // server learned the client from it).
  EXPECT_EQ(echo.stacks.client_iface.stats().arp_requests_sent, 2u + 1u);  // 2 announcements + 1
  EXPECT_EQ(echo.stacks.server_iface.stats().arp_replies_sent, 1u);
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
  UdpEcho<FaultInjector<Cable::End>> echo(lossy, cable.end_b());
  echo.start(executor);
  async::TaskStorage<2048> client_task;
  int echoed = 0;
  ASSERT_TRUE(executor
                  .spawn(client_task, send_numbered, std::ref(echo.client), Endpoint{kServerIp, 7},
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
