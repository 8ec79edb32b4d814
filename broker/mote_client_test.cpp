// mote's own MQTT client against mote's broker, in one process over the
// kernel's loopback: SCRAM-SHA-1 enhanced authentication end to end (the
// client's ScramSha1Authenticator, the broker's ScramSha1Mechanism and
// scram_file), and re-subscription after the broker restarted without its
// sessions. Also raw sockets against the broker's idle connections, which
// hold no task storage: woken by bytes and by output, closed at their
// keep-alive and CONNECT deadlines.

#include <array>
#include <chrono>
#include <cstring>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <variant>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/timeout.hpp"
#include "mote/broker/broker.hpp"
#include "mote/broker/config.hpp"
#include "mote/broker/scram.hpp"
#include "mote/mqtt/client.hpp"
#include "mote/mqtt/scram.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "mote/testing/process.hpp"

namespace mote::broker {
namespace {

using namespace std::chrono_literals;
using async::Task;
using mqtt::ReasonCode;
using platform::KernelTcpConnector;
using platform::KernelTcpListener;
constexpr mqtt::ClientLimits kLimits{.auth_properties_size = 200};
using Client = mqtt::Client<KernelTcpConnector, kLimits>;
using KernelBroker = Broker<KernelTcpListener>;

void random_bytes(ByteSpan out, void*) {
  std::random_device random;
  for (std::byte& b : out) b = static_cast<std::byte>(random());
}

struct Handler final : mqtt::MessageHandler {
  void on_message(const mqtt::Message& m) override {
    messages.push_back(std::string(m.topic) + "=" + std::string(as_string_view(m.payload)));
    arrived.set();
  }
  void on_connected(const mqtt::ServerSettings& server) override {
    session_present = server.session_present;
    ++connections;
  }
  std::vector<std::string> messages;
  async::Event arrived;
  bool session_present = false;
  int connections = 0;
};

class MoteClientTest : public ::testing::Test {
 protected:
  MoteClientTest() {
    config_.listen = io::Endpoint{io::Ipv4Address(127, 0, 0, 1), testing::unused_port(SOCK_STREAM)};
    config_.sys_interval = std::chrono::seconds(0);
  }
  ~MoteClientTest() override {
    for (auto& task : tasks_) task.cancel();
    broker_.reset();
  }

  ::testing::AssertionResult start_broker() {
    Result<KernelTcpListener> listener = KernelTcpListener::listen(driver_, config_.listen);
    if (!listener.ok()) return ::testing::AssertionFailure() << listener.status().str();
    Result<std::unique_ptr<KernelBroker>> opened =
        KernelBroker::open(config_, std::move(*listener));
    if (!opened.ok()) return ::testing::AssertionFailure() << opened.status().str();
    broker_ = std::move(*opened);
    const Status started = broker_->start(executor_);
    if (!started.ok()) return ::testing::AssertionFailure() << started.str();
    return ::testing::AssertionSuccess();
  }

  // Runs until the client task has finished (bounded: a hang guard).
  Status run_until_client_done(std::chrono::seconds limit) {
    const async::Instant deadline = executor_.now() + limit;
    while (tasks_[0].state() != async::TaskState::finished) {
      if (executor_.now() >= deadline) return Status::deadline_exceeded();
      static_cast<void>(executor_.run_for(20ms));
    }
    return ok_status();
  }

  Client& make_client(const mqtt::ClientOptions& options) {
    client_.emplace(connector_, config_.listen, mqtt::ClientBuffers{receive_, send_, inflight_},
                    options, handler_);
    return *client_;
  }

  testing::TempDir dir_;
  BrokerConfig config_;
  platform::EpollDriver driver_;
  async::Executor executor_{driver_};
  KernelTcpConnector connector_{driver_};
  std::unique_ptr<KernelBroker> broker_;
  std::array<std::byte, 2048> receive_{};
  std::array<std::byte, 2048> send_{};
  std::array<std::byte, 4096> inflight_{};
  Handler handler_;
  std::optional<Client> client_;
  std::vector<std::string> notes_;
  std::array<async::TaskStorage<32 * 1024>, 3> tasks_;
};

Task<Status> run_client(Client& client) { co_return co_await client.run(); }

Task<Status> wait_for(async::Event& event) {
  co_await event.wait();
  co_return ok_status();
}

Task<Status> wait_connected(Client& client) {
  co_await client.wait_connected();
  co_return ok_status();
}

// Connected by SCRAM: subscribe, publish to itself, re-authenticate, publish
// again, disconnect.
Task<void> scram_session(Client& client, Handler& handler, std::vector<std::string>& notes) {
  const Status connected = co_await async::with_timeout(5s, wait_connected(client));
  notes.push_back(std::string("connected ") + connected.str());
  if (!connected.ok()) co_return;
  const std::array<mqtt::Subscription, 1> subscriptions = {
      mqtt::Subscription{"scram/#", {mqtt::QoS::at_least_once, false, false, {}}}};
  std::array<ReasonCode, 1> granted{};
  notes.push_back(std::string("subscribe ") +
                  (co_await client.subscribe(subscriptions, granted)).str());
  for (const char* payload : {"before", "after"}) {
    mqtt::OutgoingMessage message;
    message.topic = "scram/t";
    message.payload = bytes_of(payload);
    message.qos = mqtt::QoS::at_least_once;
    const Result<ReasonCode> acked = co_await client.publish(message);
    notes.push_back(acked.ok() ? to_string(*acked) : acked.status().str());
    if (std::string_view(payload) == "before") {
      notes.push_back(std::string("reauthenticate ") + (co_await client.reauthenticate()).str());
    }
  }
  while (handler.messages.size() < 2) {
    handler.arrived.reset();
    if (!(co_await async::with_timeout(5s, wait_for(handler.arrived))).ok()) break;
  }
  static_cast<void>(co_await client.disconnect());
}

TEST_F(MoteClientTest, ScramSha1EndToEndWithReauthentication) {
  const std::array<std::byte, 16> salt{std::byte{9}, std::byte{8}, std::byte{7}, std::byte{6}};
  config_.scram_file =
      dir_.write("scram", scram_sha1_line("alice", "wonderland", salt, 4096) + "\n");
  config_.allow_anonymous = false;
  ASSERT_TRUE(start_broker());
  mqtt::ScramSha1Authenticator scram("alice", "wonderland", random_bytes);
  mqtt::ClientOptions options;
  options.client_id = "scram-client";
  options.authenticator = &scram;
  Client& client = make_client(options);
  ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(client)).ok());
  ASSERT_TRUE(
      executor_
          .spawn(tasks_[1], scram_session, std::ref(client), std::ref(handler_), std::ref(notes_))
          .ok());
  EXPECT_EQ(run_until_client_done(15s), ok_status());
  EXPECT_EQ(notes_, (std::vector<std::string>{"connected ok", "subscribe ok", "Success",
                                              "reauthenticate ok", "Success"}));
  EXPECT_EQ(handler_.messages, (std::vector<std::string>{"scram/t=before", "scram/t=after"}));
  EXPECT_EQ(tasks_[0].exit_status(), ok_status());
}

TEST_F(MoteClientTest, ScramSha1WrongPasswordStopsTheClient) {
  const std::array<std::byte, 16> salt{std::byte{1}};
  config_.scram_file =
      dir_.write("scram", scram_sha1_line("alice", "wonderland", salt, 1000) + "\n");
  ASSERT_TRUE(start_broker());
  mqtt::ScramSha1Authenticator scram("alice", "guess", random_bytes);
  mqtt::ClientOptions options;
  options.client_id = "scram-wrong";
  options.authenticator = &scram;
  Client& client = make_client(options);
  ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(client)).ok());
  EXPECT_EQ(run_until_client_done(10s), ok_status());
  EXPECT_EQ(tasks_[0].exit_status(), Status::unauthenticated());
  EXPECT_EQ(client.last_refusal(), ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(handler_.connections, 0);
}

Task<void> subscribe_once(Client& client, std::vector<std::string>& notes) {
  co_await client.wait_connected();
  const std::array<mqtt::Subscription, 1> subscriptions = {
      mqtt::Subscription{"resub/#", {mqtt::QoS::at_least_once, false, false, {}}}};
  std::array<ReasonCode, 1> granted{};
  notes.push_back(std::string("subscribe ") +
                  (co_await client.subscribe(subscriptions, granted)).str());
}

Task<void> after_restart(Client& client, Handler& handler, std::vector<std::string>& notes) {
  for (int i = 0; i < 250 && handler.connections < 2; ++i) co_await async::sleep_for(20ms);
  notes.push_back(handler.session_present ? "session present" : "no session");
  mqtt::OutgoingMessage message;
  message.topic = "resub/x";
  message.payload = bytes_of("again");
  message.qos = mqtt::QoS::at_least_once;
  const Result<ReasonCode> acked = co_await client.publish(message);
  notes.push_back(acked.ok() ? to_string(*acked) : acked.status().str());
  Status received = ok_status();
  if (handler.messages.empty()) {
    handler.arrived.reset();
    received = co_await async::with_timeout(5s, wait_for(handler.arrived));
  }
  notes.push_back(std::string("received ") + received.str());
  static_cast<void>(co_await client.disconnect());
}

TEST_F(MoteClientTest, ResubscribesAfterTheBrokerLostItsSessions) {
  ASSERT_TRUE(start_broker());  // no data directory: sessions live in memory only
  mqtt::ClientOptions options;
  options.client_id = "resub";
  options.session_expiry_interval = 300;
  options.reconnect_delay_min = 100ms;
  Client& client = make_client(options);
  ASSERT_TRUE(executor_.spawn(tasks_[0], run_client, std::ref(client)).ok());
  ASSERT_TRUE(executor_.spawn(tasks_[1], subscribe_once, std::ref(client), std::ref(notes_)).ok());
  static_cast<void>(executor_.run_for(500ms));
  ASSERT_EQ(notes_, (std::vector<std::string>{"subscribe ok"}));
  broker_.reset();
  ASSERT_TRUE(start_broker());
  ASSERT_TRUE(
      executor_
          .spawn(tasks_[2], after_restart, std::ref(client), std::ref(handler_), std::ref(notes_))
          .ok());
  EXPECT_EQ(run_until_client_done(15s), ok_status());
  EXPECT_EQ(notes_,
            (std::vector<std::string>{"subscribe ok", "no session", "Success", "received ok"}));
  EXPECT_EQ(handler_.messages, (std::vector<std::string>{"resub/x=again"}));
}

// A client on a raw kernel socket: whole packets out, whole packets in.
class RawClient {
 public:
  explicit RawClient(platform::KernelTcpStream stream) : stream_(std::move(stream)) {}

  Task<Status> send(const mqtt::Packet& packet) {
    std::vector<std::byte> bytes(mqtt::encoded_size(packet, mqtt::ProtocolVersion::v311).value());
    if (!mqtt::encode_packet(packet, mqtt::ProtocolVersion::v311, bytes).ok()) {
      co_return Status::internal();
    }
    co_return co_await stream_.write(bytes);
  }
  // The next packet's type, or not_found once the broker closed the stream.
  Task<Result<mqtt::PacketType>> receive(std::string* payload = nullptr) {
    for (;;) {
      const auto frame = mqtt::frame_packet(ConstByteSpan(buffer_.data(), used_));
      if (!frame.ok()) co_return Status::data_loss();
      if (frame->size != 0) {
        const auto packet = mqtt::decode_packet(ConstByteSpan(buffer_.data(), frame->size),
                                                mqtt::ProtocolVersion::v311);
        if (!packet.ok()) co_return Status::data_loss();
        if (payload != nullptr) {
          if (const auto* publish = std::get_if<mqtt::Publish>(&*packet)) {
            *payload =
                std::string(publish->topic) + "=" + std::string(as_string_view(publish->payload));
          }
        }
        const mqtt::PacketType type = mqtt::type_of(*packet);
        std::memmove(buffer_.data(), buffer_.data() + frame->size, used_ - frame->size);
        used_ -= frame->size;
        co_return type;
      }
      const Result<std::size_t> n =
          co_await stream_.read(ByteSpan(buffer_.data() + used_, buffer_.size() - used_));
      if (!n.ok() || *n == 0) co_return Status::not_found();
      used_ += *n;
    }
  }
  Task<Status> connect(std::string_view id, std::uint16_t keep_alive) {
    mqtt::Connect connect;
    connect.version = mqtt::ProtocolVersion::v311;
    connect.client_id = id;
    connect.keep_alive = keep_alive;
    MOTE_CO_TRY(co_await send(connect));
    const Result<mqtt::PacketType> connack = co_await receive();
    co_return connack.ok() && *connack == mqtt::PacketType::connack ? ok_status()
                                                                    : Status::aborted();
  }

 private:
  platform::KernelTcpStream stream_;
  std::array<std::byte, 512> buffer_{};
  std::size_t used_ = 0;
};

struct IdleRun {
  std::vector<std::unique_ptr<RawClient>> clients;
  async::Event connected;  // every client has its CONNACK (and the first its SUBACK)
  async::Event publish;    // the test has looked at the idle broker
  std::vector<std::string> notes;
};

Task<void> idle_clients(KernelTcpConnector& connector, io::Endpoint broker, IdleRun& run) {
  constexpr int kClients = 20;
  for (int i = 0; i < kClients; ++i) {
    Result<platform::KernelTcpStream> stream = co_await connector.connect(broker);
    if (!stream.ok()) {
      run.notes.push_back(std::string("connect ") + stream.status().str());
      co_return;
    }
    run.clients.push_back(std::make_unique<RawClient>(std::move(*stream)));
    const Status connected = co_await run.clients.back()->connect("idle-" + std::to_string(i), 0);
    if (!connected.ok()) {
      run.notes.push_back(std::string("CONNECT ") + connected.str());
      co_return;
    }
  }
  RawClient& subscriber = *run.clients[0];
  const std::array subscriptions = {mqtt::Subscription{"idle/t", {}}};
  (void)co_await subscriber.send(mqtt::Subscribe{1, {}, mqtt::SubscriptionList(subscriptions)});
  const Result<mqtt::PacketType> suback = co_await subscriber.receive();
  run.notes.push_back(suback.ok() && *suback == mqtt::PacketType::suback ? "subscribed"
                                                                         : "no SUBACK");
  run.connected.set();
  co_await run.publish.wait();
  // Bytes wake an idle connection: the publisher's PUBLISH, a PINGREQ.
  const std::string payload = "wake";
  (void)co_await run.clients[kClients - 1]->send(
      mqtt::Publish{false, mqtt::QoS::at_most_once, false, "idle/t", 0, {}, bytes_of(payload)});
  (void)co_await run.clients[1]->send(mqtt::Pingreq{});
  const Result<mqtt::PacketType> pong = co_await run.clients[1]->receive();
  run.notes.push_back(pong.ok() && *pong == mqtt::PacketType::pingresp ? "pong" : "no PINGRESP");
  // Output wakes an idle connection: the subscriber's message.
  std::string received;
  const Result<mqtt::PacketType> message = co_await subscriber.receive(&received);
  run.notes.push_back(message.ok() ? received : message.status().str());
}

TEST_F(MoteClientTest, IdleConnectionsHoldNoTaskStorageAndWakeForBytesAndOutput) {
  ASSERT_TRUE(start_broker());
  IdleRun run;
  ASSERT_TRUE(
      executor_.spawn(tasks_[0], idle_clients, std::ref(connector_), config_.listen, std::ref(run))
          .ok());
  for (int i = 0; i < 500 && !run.connected.is_set(); ++i) (void)executor_.run_for(20ms);
  ASSERT_TRUE(run.connected.is_set()) << ::testing::PrintToString(run.notes);
  // Whatever was busy answering the CONNECTs and the SUBSCRIBE goes idle.
  for (int i = 0; i < 100 && broker_->busy_connections() != 0; ++i) (void)executor_.run_for(10ms);
  EXPECT_EQ(broker_->busy_connections(), 0u);
  EXPECT_EQ(broker_->connection_count(), 20u);
  EXPECT_GE(broker_->spare_slots(), 1u);  // the storage they used went back to the pool
  run.publish.set();
  EXPECT_EQ(run_until_client_done(10s), ok_status());
  EXPECT_EQ(run.notes, (std::vector<std::string>{"subscribed", "pong", "idle/t=wake"}));
}

Task<void> wait_for_close(KernelTcpConnector& connector, io::Endpoint broker, bool send_connect,
                          std::vector<std::string>& notes) {
  Result<platform::KernelTcpStream> stream = co_await connector.connect(broker);
  if (!stream.ok()) {
    notes.push_back(std::string("connect ") + stream.status().str());
    co_return;
  }
  RawClient client(std::move(*stream));
  if (send_connect) {
    // Keep-alive 1 s: the broker gives up after 1.5 s of silence (§3.1.2.10).
    notes.push_back(std::string("CONNECT ") + (co_await client.connect("silent", 1)).str());
  }
  const Result<mqtt::PacketType> next = co_await client.receive();
  notes.push_back(next.ok() ? "a packet" : std::string("closed ") + next.status().str());
}

TEST_F(MoteClientTest, AnIdleClientPastItsKeepAliveIsClosed) {
  ASSERT_TRUE(start_broker());
  ASSERT_TRUE(executor_
                  .spawn(tasks_[0], wait_for_close, std::ref(connector_), config_.listen, true,
                         std::ref(notes_))
                  .ok());
  EXPECT_EQ(run_until_client_done(15s), ok_status());  // a hang guard, not a timing
  EXPECT_EQ(notes_, (std::vector<std::string>{"CONNECT ok", "closed not_found"}));
}

TEST_F(MoteClientTest, AConnectionWithoutConnectIsClosedAtTheConnectTimeout) {
  config_.limits.connect_timeout = 1s;
  ASSERT_TRUE(start_broker());
  ASSERT_TRUE(executor_
                  .spawn(tasks_[0], wait_for_close, std::ref(connector_), config_.listen, false,
                         std::ref(notes_))
                  .ok());
  EXPECT_EQ(run_until_client_done(15s), ok_status());
  EXPECT_EQ(notes_, (std::vector<std::string>{"closed not_found"}));
  EXPECT_EQ(broker_->busy_connections(), 0u);
}

}  // namespace
}  // namespace mote::broker
