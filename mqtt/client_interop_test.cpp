// The client against a real mosquitto on 127.0.0.1, over the kernel's
// sockets: QoS 0/1/2 in both versions, retained messages, a will published
// when the connection dies, a persistent session that receives what was
// queued while it was away, and mosquitto_sub / mosquitto_pub on the other side.

#include <array>
#include <chrono>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <signal.h>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/timeout.hpp"
#include "mote/mqtt/client.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "mote/testing/process.hpp"

namespace mote::mqtt {
namespace {

using namespace std::chrono_literals;
using async::Task;
using platform::KernelTcpConnector;
using KernelClient = Client<KernelTcpConnector>;

// A broker of our own for one test.
class Mosquitto {
 public:
  Mosquitto() : port_(testing::unused_port(SOCK_STREAM)) {
    config_ =
        dir_.write("mosquitto.conf", "listener " + std::to_string(port_) +
                                         " 127.0.0.1\nallow_anonymous true\npersistence false\n");
    start();
  }
  // Stops it and starts it again on the same port: without persistence,
  // every session is gone.
  void restart() {
    process_->signal(SIGTERM);
    static_cast<void>(process_->wait_for_exit(5s));
    start();
  }
  [[nodiscard]] bool ready() const { return ready_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] io::Endpoint endpoint() const {
    return io::Endpoint{io::Ipv4Address(127, 0, 0, 1), port_};
  }
  [[nodiscard]] std::string describe() const { return process_->describe(); }

 private:
  void start() {
    process_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{"mosquitto", "-c", config_});
    ready_ = process_->started() && testing::wait_for_tcp_listener(port_, 5s);
  }

  testing::TempDir dir_;
  std::string config_;
  std::uint16_t port_;
  std::unique_ptr<testing::ChildProcess> process_;
  bool ready_ = false;
};

struct Received {
  std::string topic;
  std::string payload;
  QoS qos;
  bool retain;
};

struct CollectingHandler final : MessageHandler {
  void on_message(const Message& m) override {
    messages.push_back(
        {std::string(m.topic), std::string(as_string_view(m.payload)), m.qos, m.retain});
    arrived.set();
  }
  void on_connected(const ServerSettings& server) override {
    session_present = server.session_present;
    ++connections;
  }
  std::vector<Received> messages;
  async::Event arrived;
  bool session_present = false;
  int connections = 0;
};

Task<Status> wait_for_messages(CollectingHandler& handler, std::size_t count) {
  while (handler.messages.size() < count) {
    handler.arrived.reset();
    co_await handler.arrived.wait();
  }
  co_return ok_status();
}

// Everything a client needs, with its own buffers.
struct ClientRig {
  ClientRig(KernelTcpConnector& connector, io::Endpoint server, const ClientOptions& options)
      : client(connector, server, ClientBuffers{receive, send, inflight}, options, handler) {}
  std::array<std::byte, 4096> receive{};
  std::array<std::byte, 4096> send{};
  std::array<std::byte, 8192> inflight{};
  CollectingHandler handler;
  KernelClient client;
};

Task<Status> run_client(KernelClient& client) { co_return co_await client.run(); }

ClientOptions options_for(std::string_view id, ProtocolVersion version) {
  ClientOptions options;
  options.client_id = id;
  options.version = version;
  options.keep_alive = 10;
  options.reconnect_delay_min = 100ms;
  return options;
}

OutgoingMessage message(std::string_view topic, std::string_view payload, QoS qos,
                        bool retain = false) {
  OutgoingMessage m;
  m.topic = topic;
  m.payload = bytes_of(payload);
  m.qos = qos;
  m.retain = retain;
  return m;
}

class MqttInterop : public ::testing::TestWithParam<ProtocolVersion> {
 protected:
  void SetUp() override {
    MOTE_SKIP_UNLESS_PROGRAM("mosquitto");
    broker_.emplace();
    ASSERT_TRUE(broker_->ready()) << broker_->describe();
  }
  ~MqttInterop() override {
    for (auto& task : tasks_) task.cancel();
  }

  platform::EpollDriver driver_;
  async::Executor executor_{driver_};
  KernelTcpConnector connector_{driver_};
  std::optional<Mosquitto> broker_;
  std::vector<std::string> notes_;
  std::array<async::TaskStorage<32 * 1024>, 4> tasks_;
};

// --- QoS round trips -------------------------------------------------------------

Task<void> round_trip_script(KernelClient& client, CollectingHandler& handler,
                             std::vector<std::string>& notes) {
  co_await client.wait_connected();
  const std::array<Subscription, 1> subscriptions = {
      Subscription{"mote/rt/#", {QoS::exactly_once, false, false, {}}}};
  std::array<ReasonCode, 1> granted{};
  notes.push_back(std::string("subscribe ") +
                  (co_await client.subscribe(subscriptions, granted)).str());
  notes.push_back(to_string(granted[0]));
  for (QoS qos : {QoS::at_most_once, QoS::at_least_once, QoS::exactly_once}) {
    const std::string topic = "mote/rt/q" + std::to_string(static_cast<int>(qos));
    const std::string payload = "payload-" + topic;
    Result<ReasonCode> acked = co_await client.publish(message(topic, payload, qos));
    notes.push_back(acked.ok() ? to_string(*acked) : acked.status().str());
  }
  const Status received = co_await async::with_timeout(5s, wait_for_messages(handler, 3));
  notes.push_back(std::string("received ") + received.str());
  static_cast<void>(co_await client.disconnect());
}

TEST_P(MqttInterop, RoundTripsQos0To2) {
  ClientRig rig(connector_, broker_->endpoint(), options_for("mote-rt", GetParam()));
  ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(rig.client)).ok());
  ASSERT_TRUE(executor_
                  .spawn(tasks_[1], round_trip_script, std::ref(rig.client), std::ref(rig.handler),
                         std::ref(notes_))
                  .ok());
  EXPECT_EQ(executor_.run_for(10s), ok_status());
  EXPECT_EQ(notes_, (std::vector<std::string>{"subscribe ok", "Granted QoS 2", "Success", "Success",
                                              "Success", "received ok"}));
  ASSERT_EQ(rig.handler.messages.size(), 3u);
  for (int q = 0; q < 3; ++q) {
    const Received& m = rig.handler.messages[q];
    EXPECT_EQ(m.topic, "mote/rt/q" + std::to_string(q));
    EXPECT_EQ(m.payload, "payload-mote/rt/q" + std::to_string(q));
    EXPECT_EQ(static_cast<int>(m.qos), q);
    EXPECT_FALSE(m.retain);
  }
  EXPECT_EQ(tasks_[0].exit_status(), ok_status());
}

// --- Retained ----------------------------------------------------------------------

Task<void> retained_script(KernelClient& client, CollectingHandler& handler,
                           std::vector<std::string>& notes) {
  co_await client.wait_connected();
  Result<ReasonCode> acked =
      co_await client.publish(message("mote/retained", "kept", QoS::at_least_once, true));
  notes.push_back(acked.ok() ? "published" : acked.status().str());
  const std::array<Subscription, 1> subscriptions = {
      Subscription{"mote/retained", {QoS::at_least_once, false, false, {}}}};
  std::array<ReasonCode, 1> granted{};
  notes.push_back(std::string("subscribe ") +
                  (co_await client.subscribe(subscriptions, granted)).str());
  const Status received = co_await async::with_timeout(5s, wait_for_messages(handler, 1));
  notes.push_back(std::string("received ") + received.str());
  // Clear it again (an empty retained message).
  static_cast<void>(
      co_await client.publish(message("mote/retained", "", QoS::at_least_once, true)));
  static_cast<void>(co_await client.disconnect());
}

TEST_P(MqttInterop, RetainedMessageReachesALaterSubscription) {
  ClientRig rig(connector_, broker_->endpoint(), options_for("mote-retain", GetParam()));
  ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(rig.client)).ok());
  ASSERT_TRUE(executor_
                  .spawn(tasks_[1], retained_script, std::ref(rig.client), std::ref(rig.handler),
                         std::ref(notes_))
                  .ok());
  EXPECT_EQ(executor_.run_for(10s), ok_status());
  EXPECT_EQ(notes_, (std::vector<std::string>{"published", "subscribe ok", "received ok"}));
  ASSERT_GE(rig.handler.messages.size(), 1u);
  EXPECT_EQ(rig.handler.messages[0].payload, "kept");
  EXPECT_TRUE(rig.handler.messages[0].retain);
}

// --- Will ---------------------------------------------------------------------------

Task<void> will_watcher(KernelClient& watcher, CollectingHandler& handler, KernelClient& doomed,
                        async::TaskStorageBase& doomed_task, std::vector<std::string>& notes) {
  co_await watcher.wait_connected();
  const std::array<Subscription, 1> subscriptions = {
      Subscription{"mote/will/+", {QoS::at_least_once, false, false, {}}}};
  std::array<ReasonCode, 1> granted{};
  notes.push_back(std::string("subscribe ") +
                  (co_await watcher.subscribe(subscriptions, granted)).str());
  co_await doomed.wait_connected();
  // Kill the connection: the task ends without DISCONNECT, the socket closes.
  doomed_task.cancel();
  notes.push_back("killed");
  const Status received = co_await async::with_timeout(5s, wait_for_messages(handler, 1));
  notes.push_back(std::string("will ") + received.str());
  static_cast<void>(co_await watcher.disconnect());
}

TEST_P(MqttInterop, WillIsPublishedWhenTheConnectionDies) {
  ClientRig watcher(connector_, broker_->endpoint(), options_for("mote-watcher", GetParam()));
  ClientOptions doomed_options = options_for("mote-doomed", GetParam());
  doomed_options.will = Will{"mote/will/doomed", bytes_of("gone"), QoS::at_least_once, false, {}};
  auto doomed = std::make_unique<ClientRig>(connector_, broker_->endpoint(), doomed_options);
  ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(watcher.client)).ok());
  ASSERT_TRUE(executor_.spawn(tasks_[1], run_client, std::ref(doomed->client)).ok());
  ASSERT_TRUE(executor_
                  .spawn(tasks_[2], will_watcher, std::ref(watcher.client),
                         std::ref(watcher.handler), std::ref(doomed->client), std::ref(tasks_[1]),
                         std::ref(notes_))
                  .ok());
  // Phase 1: until the doomed client's task is cancelled.
  for (int i = 0; i < 100 && tasks_[1].state() != async::TaskState::finished; ++i) {
    static_cast<void>(executor_.run_for(50ms));
  }
  ASSERT_EQ(tasks_[1].exit_status(), Status::cancelled());
  doomed.reset();  // closes its socket
  EXPECT_EQ(executor_.run_for(10s), ok_status());
  EXPECT_EQ(notes_, (std::vector<std::string>{"subscribe ok", "killed", "will ok"}));
  ASSERT_EQ(watcher.handler.messages.size(), 1u);
  EXPECT_EQ(watcher.handler.messages[0].topic, "mote/will/doomed");
  EXPECT_EQ(watcher.handler.messages[0].payload, "gone");
}

// MQTT 5's "Disconnect with Will Message" has the server publish the will on
// a clean DISCONNECT; a 3.1.1 DISCONNECT discards it.
Task<void> leaver(KernelClient& watcher, CollectingHandler& handler, KernelClient& leaving,
                  ProtocolVersion version, std::vector<std::string>& notes) {
  co_await watcher.wait_connected();
  const std::array<Subscription, 1> subscriptions = {
      Subscription{"mote/will/+", {QoS::at_least_once, false, false, {}}}};
  std::array<ReasonCode, 1> granted{};
  notes.push_back(std::string("subscribe ") +
                  (co_await watcher.subscribe(subscriptions, granted)).str());
  co_await leaving.wait_connected();
  const ReasonCode reason = version == ProtocolVersion::v5
                                ? ReasonCode::disconnect_with_will_message
                                : kNormalDisconnection;
  notes.push_back(std::string("disconnect ") + (co_await leaving.disconnect(reason)).str());
  const Status received = co_await async::with_timeout(500ms, wait_for_messages(handler, 1));
  notes.push_back(std::string("will ") + received.str());
  static_cast<void>(co_await watcher.disconnect());
}

TEST_P(MqttInterop, WillFollowsTheDisconnectReason) {
  ClientRig watcher(connector_, broker_->endpoint(), options_for("mote-watcher", GetParam()));
  ClientOptions leaving_options = options_for("mote-leaving", GetParam());
  leaving_options.will = Will{"mote/will/leaving", bytes_of("bye"), QoS::at_least_once, false, {}};
  ClientRig leaving(connector_, broker_->endpoint(), leaving_options);
  ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(watcher.client)).ok());
  ASSERT_TRUE(executor_.spawn(tasks_[1], run_client, std::ref(leaving.client)).ok());
  ASSERT_TRUE(executor_
                  .spawn(tasks_[2], leaver, std::ref(watcher.client), std::ref(watcher.handler),
                         std::ref(leaving.client), GetParam(), std::ref(notes_))
                  .ok());
  EXPECT_EQ(executor_.run_for(10s), ok_status());
  const bool v5 = GetParam() == ProtocolVersion::v5;
  EXPECT_EQ(notes_, (std::vector<std::string>{"subscribe ok", "disconnect ok",
                                              v5 ? "will ok" : "will deadline_exceeded"}));
  EXPECT_EQ(watcher.handler.messages.size(), v5 ? 1u : 0u);
  EXPECT_EQ(tasks_[1].exit_status(), ok_status());
}

// --- Persistent session ------------------------------------------------------------

Task<void> subscribe_and_leave(KernelClient& client, std::vector<std::string>& notes) {
  co_await client.wait_connected();
  const std::array<Subscription, 1> subscriptions = {
      Subscription{"mote/session", {QoS::at_least_once, false, false, {}}}};
  std::array<ReasonCode, 1> granted{};
  notes.push_back(std::string("subscribe ") +
                  (co_await client.subscribe(subscriptions, granted)).str());
  static_cast<void>(co_await client.disconnect());
}

Task<void> collect_two(KernelClient& client, CollectingHandler& handler,
                       std::vector<std::string>& notes) {
  co_await client.wait_connected();
  const Status received = co_await async::with_timeout(5s, wait_for_messages(handler, 2));
  notes.push_back(std::string("queued ") + received.str());
  static_cast<void>(co_await client.disconnect());
}

Task<Status> wait_exit(testing::ChildProcess& process) {
  for (int i = 0; i < 250 && process.running(); ++i) co_await async::sleep_for(20ms);
  co_return process.running() ? Status::deadline_exceeded() : ok_status();
}

TEST_P(MqttInterop, PersistentSessionReceivesWhatWasQueuedWhileAway) {
  MOTE_SKIP_UNLESS_PROGRAM("mosquitto_pub");
  ClientOptions options = options_for("mote-session", GetParam());
  options.clean_start = GetParam() == ProtocolVersion::v5;  // 3.1.1: clean session 0 keeps it
  options.session_expiry_interval = 300;
  {
    ClientRig first(connector_, broker_->endpoint(), options);
    ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(first.client)).ok());
    ASSERT_TRUE(
        executor_.spawn(tasks_[1], subscribe_and_leave, std::ref(first.client), std::ref(notes_))
            .ok());
    EXPECT_EQ(executor_.run_for(10s), ok_status());
  }
  for (const char* payload : {"while-away-1", "while-away-2"}) {
    testing::ChildProcess pub({"mosquitto_pub", "-h", "127.0.0.1", "-p",
                               std::to_string(broker_->port()), "-t", "mote/session", "-q", "1",
                               "-m", payload});
    ASSERT_EQ(pub.wait_for_exit(5s), 0) << pub.describe();
  }
  options.clean_start = false;
  ClientRig second(connector_, broker_->endpoint(), options);
  ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(second.client)).ok());
  ASSERT_TRUE(executor_
                  .spawn(tasks_[1], collect_two, std::ref(second.client), std::ref(second.handler),
                         std::ref(notes_))
                  .ok());
  EXPECT_EQ(executor_.run_for(10s), ok_status());
  EXPECT_TRUE(second.handler.session_present);
  EXPECT_EQ(notes_, (std::vector<std::string>{"subscribe ok", "queued ok"}));
  ASSERT_EQ(second.handler.messages.size(), 2u);
  EXPECT_EQ(second.handler.messages[0].payload, "while-away-1");
  EXPECT_EQ(second.handler.messages[1].payload, "while-away-2");
}

// --- mosquitto_sub / mosquitto_pub on the other side -----------------------------------

Task<void> publish_to_cli(KernelClient& client, testing::ChildProcess& sub,
                          std::vector<std::string>& notes) {
  co_await client.wait_connected();
  Result<ReasonCode> acked =
      co_await client.publish(message("mote/cli/in", "hello-cli", QoS::at_least_once));
  notes.push_back(acked.ok() ? "published" : acked.status().str());
  notes.push_back(std::string("sub exited ") + (co_await wait_exit(sub)).str());
  static_cast<void>(co_await client.disconnect());
}

TEST_P(MqttInterop, MosquittoSubReceivesOurPublish) {
  MOTE_SKIP_UNLESS_PROGRAM("mosquitto_sub");
  MOTE_SKIP_UNLESS_PROGRAM("stdbuf");
  const char* version = GetParam() == ProtocolVersion::v5 ? "mqttv5" : "mqttv311";
  // stdbuf: mosquitto_sub's -d lines ("received SUBACK") unbuffered, so the
  // test knows when the subscription stands.
  testing::ChildProcess sub({"stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p",
                             std::to_string(broker_->port()), "-V", version, "-t", "mote/cli/in",
                             "-q", "1", "-C", "1", "-d"});
  ASSERT_TRUE(sub.wait_for_output("SUBACK", 5s)) << sub.describe();
  ClientRig rig(connector_, broker_->endpoint(), options_for("mote-to-cli", GetParam()));
  ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(rig.client)).ok());
  ASSERT_TRUE(
      executor_
          .spawn(tasks_[1], publish_to_cli, std::ref(rig.client), std::ref(sub), std::ref(notes_))
          .ok());
  EXPECT_EQ(executor_.run_for(10s), ok_status());
  EXPECT_EQ(notes_, (std::vector<std::string>{"published", "sub exited ok"}));
  EXPECT_NE(sub.stdout_text().find("hello-cli"), std::string::npos) << sub.describe();
}

Task<void> receive_from_cli(KernelClient& client, CollectingHandler& handler, std::uint16_t port,
                            std::vector<std::string>& notes) {
  co_await client.wait_connected();
  const std::array<Subscription, 1> subscriptions = {
      Subscription{"mote/cli/out", {QoS::exactly_once, false, false, {}}}};
  std::array<ReasonCode, 1> granted{};
  notes.push_back(std::string("subscribe ") +
                  (co_await client.subscribe(subscriptions, granted)).str());
  testing::ChildProcess pub({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(port), "-t",
                             "mote/cli/out", "-q", "2", "-m", "hello-mote"});
  const Status received = co_await async::with_timeout(5s, wait_for_messages(handler, 1));
  notes.push_back(std::string("received ") + received.str());
  static_cast<void>(co_await wait_exit(pub));
  static_cast<void>(co_await client.disconnect());
}

TEST_P(MqttInterop, OurSubscriptionReceivesMosquittoPub) {
  MOTE_SKIP_UNLESS_PROGRAM("mosquitto_pub");
  ClientRig rig(connector_, broker_->endpoint(), options_for("mote-from-cli", GetParam()));
  ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(rig.client)).ok());
  ASSERT_TRUE(executor_
                  .spawn(tasks_[1], receive_from_cli, std::ref(rig.client), std::ref(rig.handler),
                         broker_->port(), std::ref(notes_))
                  .ok());
  EXPECT_EQ(executor_.run_for(10s), ok_status());
  EXPECT_EQ(notes_, (std::vector<std::string>{"subscribe ok", "received ok"}));
  ASSERT_EQ(rig.handler.messages.size(), 1u);
  EXPECT_EQ(rig.handler.messages[0].payload, "hello-mote");
  EXPECT_EQ(rig.handler.messages[0].qos, QoS::exactly_once);
}

// --- Re-subscription ---------------------------------------------------------------

Task<void> subscribe_for_restart(KernelClient& client, std::vector<std::string>& notes) {
  co_await client.wait_connected();
  const std::array<Subscription, 1> subscriptions = {
      Subscription{"mote/resub/#", {QoS::at_least_once, false, false, {}}}};
  std::array<ReasonCode, 1> granted{};
  notes.push_back(std::string("subscribe ") +
                  (co_await client.subscribe(subscriptions, granted)).str());
}

// After the restart: once reconnected, publish to the old subscription; the
// message comes back only if the client subscribed again by itself.
Task<Status> after_restart(KernelClient& client, CollectingHandler& handler,
                           std::vector<std::string>& notes) {
  while (handler.connections < 2) co_await async::sleep_for(20ms);
  notes.push_back(handler.session_present ? "session present" : "no session");
  Result<ReasonCode> acked =
      co_await client.publish(message("mote/resub/x", "again", QoS::at_least_once));
  notes.push_back(acked.ok() ? to_string(*acked) : acked.status().str());
  notes.push_back(std::string("received ") +
                  (co_await async::with_timeout(5s, wait_for_messages(handler, 1))).str());
  co_return co_await client.disconnect();
}

Task<void> after_restart_bounded(KernelClient& client, CollectingHandler& handler,
                                 std::vector<std::string>& notes) {
  const Status status = co_await async::with_timeout(8s, after_restart(client, handler, notes));
  if (!status.ok()) notes.push_back(std::string("gave up: ") + status.str());
}

TEST_P(MqttInterop, ResubscribesAfterTheServerLostTheSession) {
  ClientOptions options = options_for("mote-resub", GetParam());
  options.session_expiry_interval = 300;                    // 5: ask to resume
  options.clean_start = GetParam() == ProtocolVersion::v5;  // 3.1.1: a persistent session
  ClientRig rig(connector_, broker_->endpoint(), options);
  ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(rig.client)).ok());
  ASSERT_TRUE(
      executor_.spawn(tasks_[1], subscribe_for_restart, std::ref(rig.client), std::ref(notes_))
          .ok());
  EXPECT_EQ(executor_.run_for(1s), Status::deadline_exceeded());
  ASSERT_EQ(notes_, (std::vector<std::string>{"subscribe ok"}));
  broker_->restart();
  ASSERT_TRUE(broker_->ready()) << broker_->describe();
  ASSERT_TRUE(executor_
                  .spawn(tasks_[2], after_restart_bounded, std::ref(rig.client),
                         std::ref(rig.handler), std::ref(notes_))
                  .ok());
  EXPECT_EQ(executor_.run_for(10s), ok_status());
  EXPECT_EQ(notes_,
            (std::vector<std::string>{"subscribe ok", "no session", "Success", "received ok"}));
  ASSERT_EQ(rig.handler.messages.size(), 1u);
  EXPECT_EQ(rig.handler.messages[0].payload, "again");
}

INSTANTIATE_TEST_SUITE_P(Versions, MqttInterop,
                         ::testing::Values(ProtocolVersion::v311, ProtocolVersion::v5),
                         [](const auto& info) {
                           return info.param == ProtocolVersion::v5 ? std::string("v5")
                                                                    : std::string("v311");
                         });

}  // namespace
}  // namespace mote::mqtt
