// One UDP echo exchange written once, against io::DatagramSocket, and run
// twice: on the Linux kernel's sockets and on mote's own stack (an
// Interface on a loopback link, run by its Stack task). Both on 127.0.0.1,
// in one executor. Exit status 0 when both round trips come back intact.

#include <array>
#include <chrono>
#include <cstdio>
#include <string_view>

#include "mote/async/async.hpp"
#include "mote/io/concepts.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/phy/loopback.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/stack.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"

using namespace std::chrono_literals;
using mote::ConstByteSpan;
using mote::Status;
using mote::async::Task;
using mote::io::Endpoint;

namespace {

// The protocol code: the same for every stack.
template <mote::io::DatagramSocket Socket>
Task<Status> echo_once(Socket& client, Socket& server, std::string_view message) {
  MOTE_CO_TRY_ASSIGN(Endpoint server_endpoint, server.local_endpoint());
  std::array<std::byte, 512> buffer{};
  MOTE_CO_TRY(co_await client.send_to(mote::bytes_of(message), server_endpoint));
  MOTE_CO_TRY_ASSIGN(mote::io::Datagram request, co_await server.receive_from(buffer));
  MOTE_CO_TRY(co_await server.send_to(ConstByteSpan(buffer).first(request.size), request.from));
  MOTE_CO_TRY_ASSIGN(mote::io::Datagram reply, co_await client.receive_from(buffer));
  const std::string_view echoed = mote::as_string_view(ConstByteSpan(buffer).first(reply.size));
  std::printf("  %u bytes echoed: \"%.*s\"\n", static_cast<unsigned>(reply.size),
              static_cast<int>(echoed.size()), echoed.data());
  co_return echoed == message ? mote::ok_status() : Status::data_loss();
}

Task<Status> on_kernel_sockets(mote::platform::EpollDriver& driver) {
  std::puts("kernel sockets:");
  const Endpoint any{mote::io::Ipv4Address(127, 0, 0, 1), 0};
  MOTE_CO_TRY_ASSIGN(auto client, mote::platform::KernelUdpSocket::bind(driver, any));
  MOTE_CO_TRY_ASSIGN(auto server, mote::platform::KernelUdpSocket::bind(driver, any));
  co_return co_await echo_once(client, server, "hello from the kernel's stack");
}

Task<Status> on_motes_stack(mote::net::Interface& iface) {
  std::puts("mote's stack:");
  mote::net::StaticUdpSocket<1024, 1024> client;
  mote::net::StaticUdpSocket<1024, 1024> server;
  MOTE_CO_TRY(client.bind(iface, 0));
  MOTE_CO_TRY(server.bind(iface, 7));
  co_return co_await echo_once(client, server, "hello from mote's stack");
}

Task<void> run_stack(mote::net::Stack<mote::net::Loopback>& stack) { return stack.run(); }

mote::async::TaskStorage<1024> stack_storage;
mote::async::TaskStorage<8192> app_storage;

Task<Status> both(mote::platform::EpollDriver& driver, mote::net::Interface& iface) {
  Status status = co_await on_kernel_sockets(driver);
  if (status.ok()) status = co_await on_motes_stack(iface);
  stack_storage.cancel();  // the stack task runs until stopped
  co_return status;
}

}  // namespace

int main() {
  mote::platform::EpollDriver driver;
  if (!driver.status().ok()) return 1;
  mote::async::Executor executor(driver);

  mote::net::StaticLoopback<8192> link;
  mote::net::StaticInterface<> iface(link.capabilities(), {});
  if (!iface.set_ipv4_address(mote::io::Ipv4Address(127, 0, 0, 1), 8).ok()) return 1;
  mote::net::Stack<mote::net::Loopback> stack(iface, link);

  if (!executor.spawn(stack_storage, run_stack, std::ref(stack)).ok()) return 1;
  if (!executor.spawn(app_storage, both, std::ref(driver), std::ref(iface)).ok()) return 1;
  if (!executor.run_for(10s).ok()) {
    std::puts("timed out");
    return 1;
  }
  const Status status = app_storage.exit_status();
  std::printf("%s\n", status.ok() ? "both stacks echoed" : status.str());
  return status.ok() ? 0 : 1;
}
