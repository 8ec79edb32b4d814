#pragma once
// Two of mote's stacks facing each other: a "server" interface at
// 192.168.1.1/24 and a "client" one at 192.168.1.2/24, each on its own link
// (the two ends of a cable, one maybe behind a FaultInjector) and each run
// by its Stack task. For the tests of what runs between two stacks
// (cable_test, tcp_socket_test). Test-only, header-only.

#include <cstdint>
#include <functional>
#include <gtest/gtest.h>

#include "mote/async/async.hpp"
#include "mote/io/address.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/stack.hpp"

namespace mote::net::test_support {

inline constexpr io::Ipv4Address kServerIp(192, 168, 1, 1);
inline constexpr io::Ipv4Address kClientIp(192, 168, 1, 2);

// A locally administered MAC address ending in `last_octet`.
inline InterfaceConfig config_for(std::uint8_t last_octet) {
  InterfaceConfig config;
  config.hardware_address = wire::MacAddress(0x02, 0, 0, 0, 0, last_octet);
  return config;
}

template <typename Link>
async::Task<void> run_stack(Stack<Link>& stack) {
  return stack.run();
}

template <typename ServerLink, typename ClientLink>
struct TwoStacks {
  TwoStacks(ServerLink& server_link, ClientLink& client_link)
      : server_link(server_link), client_link(client_link) {}
  TwoStacks(const TwoStacks&) = delete;
  TwoStacks& operator=(const TwoStacks&) = delete;
  ~TwoStacks() { stop(); }

  // Gives the interfaces their addresses and starts both stacks' tasks.
  void start(async::Executor& executor) {
    EXPECT_TRUE(server_iface.set_ipv4_address(kServerIp, 24).ok());
    EXPECT_TRUE(client_iface.set_ipv4_address(kClientIp, 24).ok());
    EXPECT_TRUE(executor.spawn(server_task, run_stack<ServerLink>, std::ref(server_stack)).ok());
    EXPECT_TRUE(executor.spawn(client_task, run_stack<ClientLink>, std::ref(client_stack)).ok());
  }
  void stop() {
    server_task.cancel();
    client_task.cancel();
  }

  ServerLink& server_link;
  ClientLink& client_link;
  StaticInterface<> server_iface{server_link.capabilities(), config_for(1)};
  StaticInterface<> client_iface{client_link.capabilities(), config_for(2)};
  Stack<ServerLink> server_stack{server_iface, server_link};
  Stack<ClientLink> client_stack{client_iface, client_link};
  async::TaskStorage<1024> server_task;
  async::TaskStorage<1024> client_task;
};

}  // namespace mote::net::test_support
