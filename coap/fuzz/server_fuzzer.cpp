// Feeds arbitrary datagrams from two peers to a Server (with an observable
// resource, a resource that takes bodies and discovery) over the in-memory
// network under the virtual clock, with time passing between them. Whatever
// arrives, the server answers or drops it without reading out of bounds
// (ASan), undefined behaviour (UBSan) or an assertion, and its replies
// parse as CoAP.
//
// Input: repeated [peer/time byte][length byte][datagram bytes].

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../testing/sim_network.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/coap/server.hpp"
#include "mote/platform/sim_driver.hpp"

namespace {

using namespace std::chrono_literals;
using mote::coap::testing::SimNetwork;
using mote::coap::testing::SimSocket;
using Server = mote::coap::Server<SimSocket, 512, 2, 2>;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "coap server fuzzer: %s\n", what);
    std::abort();
  }
}

struct Store final : mote::coap::Resource {
  Store() : Resource("store", {.resource_type = "x", .observable = true}) {}
  void handle(const mote::coap::ServerRequest& request,
              mote::coap::ResponseBuilder& response) override {
    if (request.message.code() == mote::coap::codes::kGet) {
      response.write(body);
    } else {
      body.assign(reinterpret_cast<const char*>(request.payload.data()), request.payload.size());
      response.set_code(mote::coap::codes::kChanged);
    }
  }
  std::string body = std::string(300, 's');
};

struct Input {
  const std::uint8_t* data;
  std::size_t size;
};

mote::async::Task<mote::Status> drive(Server& server, Store& store, SimSocket& a, SimSocket& b,
                                      Input input, SimSocket& server_socket) {
  std::size_t at = 0;
  while (at + 2 <= input.size) {
    const std::uint8_t control = input.data[at];
    const std::size_t length = std::min<std::size_t>(input.data[at + 1], input.size - at - 2);
    at += 2;
    SimSocket& from = (control & 1) ? b : a;
    MOTE_CO_TRY(co_await from.send_to(
        mote::ConstByteSpan(reinterpret_cast<const std::byte*>(input.data + at), length),
        server_socket.endpoint()));
    at += length;
    if (control & 2) server.notify(store);
    co_await mote::async::sleep_for(std::chrono::milliseconds((control >> 2) * 250));
  }
  co_await mote::async::sleep_for(300s);  // every retransmission ends
  server.stop();
  co_return mote::ok_status();
}

// Reads what the peers got: each must parse.
mote::async::Task<void> drain(SimSocket& socket) {
  std::byte buffer[mote::coap::kMaxMessageSize];
  for (;;) {
    mote::Result<mote::io::Datagram> got = co_await socket.receive_from(buffer);
    if (!got.ok()) co_return;
    check(mote::coap::Message::parse(mote::ConstByteSpan(buffer, got->size)).ok(),
          "the server sent something that does not parse");
  }
}

mote::async::Task<mote::Status> serve(Server& server) { return server.run(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mote::platform::SimDriver driver(mote::async::Instant() + 1000s);
  mote::async::Executor executor(driver);
  SimNetwork network;
  SimSocket server_socket(network, 5683);
  SimSocket a(network, 40000);
  SimSocket b(network, 40001);
  Server server(server_socket, 99);
  Store store;
  server.add(store);
  static mote::async::TaskStorage<16 * 1024> server_task, driver_task, drain_a, drain_b;
  check(executor.spawn(server_task, serve, std::ref(server)).ok(), "spawn");
  check(executor
            .spawn(driver_task, drive, std::ref(server), std::ref(store), std::ref(a), std::ref(b),
                   Input{data, size}, std::ref(server_socket))
            .ok(),
        "spawn");
  check(executor.spawn(drain_a, drain, std::ref(a)).ok(), "spawn");
  check(executor.spawn(drain_b, drain, std::ref(b)).ok(), "spawn");
  static_cast<void>(executor.run_for(10000s));
  check(server_task.state() == mote::async::TaskState::finished, "server still running");
  check(server_task.exit_status().ok(), "server failed");
  drain_a.cancel();
  drain_b.cancel();
  static_cast<void>(executor.run_until_stalled());
  return 0;
}
