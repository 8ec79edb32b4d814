// Feeds arbitrary bytes to the client as what the server sends after an
// accepting CONNACK, while the application subscribes and publishes at QoS 1
// and 2, all on the SimDriver's virtual clock. The first byte picks the
// protocol version (odd: 5) and how the bytes are cut into reads.
// Checked: no out-of-bounds access or undefined behaviour (ASan, UBSan), no
// assertion, the connection ends or carries on but the executor never
// deadlocks, and the client's in-flight count stays within its limit.

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "../test_support/memory_stream.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/base/log.hpp"
#include "mote/mqtt/client.hpp"
#include "mote/platform/sim_driver.hpp"

namespace {

using namespace std::chrono_literals;
using namespace mote;
using namespace mote::mqtt;
using async::Task;
using test_support::MemoryConnector;
using test_support::MemoryStream;

constexpr ClientLimits kLimits{.max_inflight = 2,
                               .max_incoming_qos2 = 2,
                               .max_pending_requests = 2,
                               .inbound_topic_aliases = 2,
                               .alias_topic_size = 16,
                               .outbound_topic_aliases = 1};
using FuzzClient = Client<MemoryConnector, kLimits>;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "mqtt client fuzzer: %s\n", what);
    std::abort();
  }
}

struct CountingHandler final : MessageHandler {
  void on_message(const Message& m) override {
    for (char c : m.topic) bytes += static_cast<unsigned char>(c);
    for (std::byte b : m.payload) bytes += std::to_integer<unsigned>(b);
    ++messages;
  }
  unsigned messages = 0;
  unsigned bytes = 0;
};

Task<Status> run_client(FuzzClient& client) { co_return co_await client.run(); }

// The server: accepts once, says CONNACK, then sends the input in chunks.
Task<void> server(MemoryConnector& connector, ConstByteSpan input, ProtocolVersion version,
                  std::size_t chunk) {
  MemoryStream stream = co_await connector.accept();
  connector.set_refuse(true);  // one connection per input
  std::array<std::byte, 8> connack{};
  const Result<std::size_t> size = encode_packet(Connack{}, version, connack);
  if (!size.ok()) co_return;
  static_cast<void>(co_await stream.write(ConstByteSpan(connack).first(*size)));
  // Drain what the client sends, so its writes never pile up.
  while (!input.empty()) {
    const std::size_t n = input.size() < chunk ? input.size() : chunk;
    if (!(co_await stream.write(input.first(n))).ok()) break;
    input = input.subspan(n);
    co_await async::sleep_for(1ms);
  }
  static_cast<void>(stream.shutdown_write());
  std::array<std::byte, 256> sink{};
  for (;;) {
    Result<std::size_t> n = co_await stream.read(sink);
    if (!n.ok() || *n == 0) break;
  }
}

Task<void> application(FuzzClient& client) {
  co_await client.wait_connected();
  const std::array<Subscription, 1> subscriptions = {
      Subscription{"a/#", {QoS::exactly_once, false, false, {}}}};
  std::array<ReasonCode, 1> granted{};
  static_cast<void>(co_await client.subscribe(subscriptions, granted));
  OutgoingMessage message;
  message.topic = "a/b";
  message.payload = bytes_of("x");
  message.qos = QoS::exactly_once;
  static_cast<void>(co_await client.publish(message));
}

Task<void> application_qos1(FuzzClient& client) {
  co_await client.wait_connected();
  OutgoingMessage message;
  message.topic = "a/c";
  message.payload = bytes_of("y");
  message.qos = QoS::at_least_once;
  static_cast<void>(co_await client.publish(message));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  log::set_runtime_level(log::Level::off);  // every input ends a connection: quiet
  const ProtocolVersion version = (data[0] & 1u) != 0 ? ProtocolVersion::v5 : ProtocolVersion::v311;
  const std::size_t chunk = 1 + (data[0] >> 1);
  const ConstByteSpan input = bytes_of(std::span(data + 1, size - 1));

  platform::SimDriver driver;
  async::Executor executor(driver);
  MemoryConnector connector;
  CountingHandler handler;
  std::array<std::byte, 256> rx{};
  std::array<std::byte, 256> tx{};
  std::array<std::byte, 256> inflight{};
  ClientOptions options;
  options.version = version;
  options.client_id = "fuzz";
  options.keep_alive = 5;
  options.session_expiry_interval = 60;
  FuzzClient client(connector, io::Endpoint::parse("192.0.2.1:1883").value(),
                    ClientBuffers{rx, tx, inflight}, options, handler);
  async::TaskStorage<32 * 1024> client_task;
  async::TaskStorage<8 * 1024> server_task;
  async::TaskStorage<4 * 1024> app_task;
  async::TaskStorage<4 * 1024> app_task_qos1;
  check(executor.spawn(client_task, run_client, std::ref(client)).ok(), "spawn client");
  check(executor.spawn(server_task, server, std::ref(connector), input, version, chunk).ok(),
        "spawn server");
  check(executor.spawn(app_task, application, std::ref(client)).ok(), "spawn app");
  check(executor.spawn(app_task_qos1, application_qos1, std::ref(client)).ok(), "spawn app");
  const Status run = executor.run_for(120s);
  check(run.code() == StatusCode::ok || run.code() == StatusCode::deadline_exceeded,
        "the executor deadlocked");
  check(client.inflight() <= kLimits.max_inflight, "more in flight than slots");
  check(client_task.exit_status().code() != StatusCode::resource_exhausted,
        "the client's frames outgrew 32 KiB");
  app_task.cancel();
  app_task_qos1.cancel();
  server_task.cancel();
  client_task.cancel();
  return 0;
}
