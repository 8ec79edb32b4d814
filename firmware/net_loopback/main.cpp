// net_loopback: mote's IP stack on bare metal. An Interface on a loopback
// link (bare IPv4, MTU 576) run by its Stack task, a UDP echo server task
// and a client task that sends kCount datagrams and checks every echo,
// all on the SysTick executor with static storage only. Prints
// "net_loopback: PASS" and returns 0 (QEMU's exit status).

#include <array>
#include <cstdint>
#include <functional>

#define MOTE_LOG_MODULE "net_loopback"
#include "mote/async/executor.hpp"
#include "mote/base/log.hpp"
#include "mote/firmware/board.hpp"
#include "mote/firmware/check.hpp"
#include "mote/firmware/semihosting.hpp"
#include "mote/firmware/systick_driver.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/phy/loopback.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/stack.hpp"

namespace {

using mote::async::Task;
using mote::firmware::check;
using mote::io::Endpoint;
using mote::io::Ipv4Address;

constexpr int kCount = 16;
constexpr Ipv4Address kLocalhost(127, 0, 0, 1);

// Sized for a 16 KiB part: 576-byte frames, no ARP (IP medium), one
// reassembly slot.
constexpr mote::net::InterfaceLimits kLimits{.max_frame_len = 576,
                                             .neighbours = 1,
                                             .pending_bytes = 64,
                                             .reassembly_slots = 1,
                                             .reassembly_bytes = 576,
                                             .udp_sockets = 2};

mote::net::StaticLoopback<1280> link({mote::net::Medium::ip, 576});
mote::net::StaticInterface<kLimits> iface(link.capabilities(), {});
mote::net::Stack<mote::net::Loopback> stack(iface, link);
mote::net::StaticUdpSocket<256, 256> server;
mote::net::StaticUdpSocket<256, 256> client;

mote::async::TaskStorage<512> stack_storage;
mote::async::TaskStorage<512> server_storage;
mote::async::TaskStorage<512> client_storage;

int echoed = 0;

Task<void> run_stack() { return stack.run(); }

Task<void> echo_server() {
  std::array<std::byte, 64> buffer{};
  for (;;) {
    mote::Result<mote::io::Datagram> got = co_await server.receive_from(buffer);
    if (!got.ok()) co_return;
    static_cast<void>(
        co_await server.send_to(mote::ConstByteSpan(buffer).first(got->size), got->from));
  }
}

Task<mote::Status> echo_client() {
  std::array<std::byte, 8> sent{};
  std::array<std::byte, 8> received{};
  for (int i = 0; i < kCount; ++i) {
    mote::store_be32(sent.data(), static_cast<std::uint32_t>(i * 7919));
    MOTE_CO_TRY(co_await client.send_to(sent, Endpoint{kLocalhost, 7}));
    MOTE_CO_TRY_ASSIGN(mote::io::Datagram reply, co_await client.receive_from(received));
    if (reply.size != sent.size() || received != sent) co_return mote::Status::data_loss();
    ++echoed;
  }
  // Done: stop the other two so the executor's run() returns.
  server_storage.cancel();
  stack_storage.cancel();
  co_return mote::ok_status();
}

}  // namespace

int main() {
  mote::firmware::SysTickDriver driver(mote::firmware::board::kCoreClockHz);
  mote::async::Executor executor(driver);
  bool ok = check(iface.set_ipv4_address(kLocalhost, 8).ok(), "address set");
  ok &= check(server.bind(iface, 7).ok(), "server bound");
  ok &= check(client.bind(iface, 0).ok(), "client bound");
  ok &= check(executor.spawn(stack_storage, run_stack).ok(), "spawn stack");
  ok &= check(executor.spawn(server_storage, echo_server).ok(), "spawn server");
  ok &= check(executor.spawn(client_storage, echo_client).ok(), "spawn client");
  if (!ok) return 1;

  const mote::Status run = executor.run();
  MOTE_LOG_INFO("%d datagrams echoed; frame bytes used: stack %u, server %u, client %u", echoed,
                static_cast<unsigned>(stack_storage.high_water_mark()),
                static_cast<unsigned>(server_storage.high_water_mark()),
                static_cast<unsigned>(client_storage.high_water_mark()));
  ok &= check(run.ok(), "executor.run() returned ok");
  ok &= check(client_storage.exit_status().ok(), "client finished ok");
  ok &= check(echoed == kCount, "every datagram came back");
  if (!ok) return 1;

  mote::firmware::semihosting::write0("net_loopback: PASS\n");
  return 0;
}
