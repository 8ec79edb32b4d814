// A CoAP server and client written once, against io::DatagramSocket, and run
// on two network stacks in one executor: the Linux kernel's UDP, then mote's
// own stack (an Interface on a loopback link, run by its Stack task). This
// is walk-through 3 of docs/guide.md; ctest runs it (examples.coap_two_stacks).
//
// The client GETs /sensors/temperature and /.well-known/core and checks what
// comes back. Exit status 0 when both stacks carried both exchanges intact.

#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string_view>

#include "mote/async/async.hpp"
#include "mote/coap/client.hpp"
#include "mote/coap/server.hpp"
#include "mote/io/concepts.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/phy/loopback.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/stack.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"

using namespace std::chrono_literals;
using mote::Result;
using mote::Status;
using mote::async::Task;
using mote::io::Endpoint;
namespace coap = mote::coap;

namespace {

// --- The protocol code: the same for every stack ------------------------------

struct Temperature final : coap::Resource {
  Temperature()
      : Resource("sensors/temperature", {.resource_type = "temperature-c", .content_format = 0}) {}
  void handle(const coap::ServerRequest& request, coap::ResponseBuilder& response) override {
    if (request.message.code() != coap::codes::kGet) {
      response.set_code(coap::codes::kMethodNotAllowed);
      return;
    }
    response.set_content_format(coap::ContentFormat::text_plain);
    response.write("21.5");
  }
};

// Runs the server's and the client's loops, makes two requests, stops both.
template <mote::io::DatagramSocket Socket>
Task<Status> serve_and_ask(Socket& server_socket, Socket& client_socket) {
  MOTE_CO_TRY_ASSIGN(const Endpoint server_endpoint, server_socket.local_endpoint());
  Temperature temperature;
  coap::Server<Socket, 1024, 2> server(server_socket, /*seed=*/0x5eed);
  coap::Client<Socket> client(client_socket, /*seed=*/0xc0a9);
  server.add(temperature);

  auto ask = [&]() -> Task<Status> {
    std::array<std::byte, coap::kMaxMessageSize> message{};
    Result<coap::Response> reading =
        co_await client.get(server_endpoint, "sensors/temperature", message);
    MOTE_CO_TRY(reading);
    const std::string_view value = mote::as_string_view(reading->payload);
    std::printf("  GET /sensors/temperature: %.*s\n", static_cast<int>(value.size()), value.data());
    if (reading->code != coap::codes::kContent || value != "21.5") co_return Status::data_loss();

    std::array<std::byte, 512> body{};
    Result<coap::Response> links =
        co_await client.get(server_endpoint, ".well-known/core", message, body);
    MOTE_CO_TRY(links);
    const std::string_view listing = mote::as_string_view(links->payload);
    std::printf("  GET /.well-known/core: %.*s\n", static_cast<int>(listing.size()),
                listing.data());
    if (listing.find("</sensors/temperature>") == std::string_view::npos)
      co_return Status::data_loss();
    co_return mote::ok_status();
  };

  // The loops end when stopped; the requests need them running meanwhile.
  auto requests_then_stop = [&]() -> Task<Status> {
    const Status status = co_await ask();
    client.stop();
    server.stop();
    co_return status;
  };
  auto [asked, served, received] =
      co_await mote::async::join(requests_then_stop(), server.run(), client.run());
  MOTE_CO_TRY(served);
  MOTE_CO_TRY(received);
  co_return asked;
}

// --- Stack one: the kernel's UDP -------------------------------------------------

Task<Status> on_kernel_sockets(mote::platform::EpollDriver& driver) {
  std::puts("kernel sockets:");
  const Endpoint loopback{mote::io::Ipv4Address(127, 0, 0, 1), 0};
  MOTE_CO_TRY_ASSIGN(auto server, mote::platform::KernelUdpSocket::bind(driver, loopback));
  MOTE_CO_TRY_ASSIGN(auto client, mote::platform::KernelUdpSocket::bind(driver, loopback));
  co_return co_await serve_and_ask(server, client);
}

// --- Stack two: mote's own, over a loopback link -----------------------------------

Task<Status> on_motes_stack(mote::net::Interface& iface) {
  std::puts("mote's stack:");
  mote::net::StaticUdpSocket<2048, 2048> server;
  mote::net::StaticUdpSocket<2048, 2048> client;
  MOTE_CO_TRY(server.bind(iface, 5683));
  MOTE_CO_TRY(client.bind(iface, 0));
  co_return co_await serve_and_ask(server, client);
}

Task<void> run_stack(mote::net::Stack<mote::net::Loopback>& stack) { return stack.run(); }

mote::async::TaskStorage<1024> stack_storage;
mote::async::TaskStorage<65536> app_storage;

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
  if (!executor.run_for(20s).ok()) {
    std::puts("timed out");
    return 1;
  }
  const Status status = app_storage.exit_status();
  std::printf("%s\n", status.ok() ? "both stacks carried CoAP" : status.str());
  return status.ok() ? 0 : 1;
}
