// mqtt_loopback: the MQTT 5 client and codec on bare metal. The client talks
// over an in-memory stream to a small scripted broker (a second task built on
// the same codec), all in static memory on one executor:
//   client   Client::run(): CONNECT, reads, acknowledges, keeps alive
//   app      subscribes, publishes at QoS 1 and QoS 2, waits for both to come
//            back, disconnects
//   broker   answers CONNACK and SUBACK, takes both publishes through their
//            acknowledgement flows and sends each back to the subscriber
//            through the receiving flows (PUBACK; PUBREC, PUBREL, PUBCOMP)
// main checks what the app saw, prints "mqtt_loopback: PASS" and returns 0.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

#define MOTE_LOG_MODULE "mqtt_loopback"
#include "mote/async/event.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/timeout.hpp"
#include "mote/base/log.hpp"
#include "mote/firmware/board.hpp"
#include "mote/firmware/check.hpp"
#include "mote/firmware/semihosting.hpp"
#include "mote/firmware/systick_driver.hpp"
#include "mote/mqtt/client.hpp"

namespace {

using namespace std::chrono_literals;
using mote::ByteSpan;
using mote::ConstByteSpan;
using mote::Result;
using mote::Status;
using mote::async::Task;
using mote::firmware::check;
namespace mqtt = mote::mqtt;

// One direction of the link: a byte ring and an event for each side.
struct Pipe {
  std::array<std::byte, 256> bytes{};
  std::size_t head = 0;
  std::size_t size = 0;
  bool closed = false;
  mote::async::Event readable;
  mote::async::Event writable;
};

class PipeStream {
 public:
  PipeStream() = default;
  PipeStream(Pipe& in, Pipe& out) : in_(&in), out_(&out) {}

  Task<Result<std::size_t>> read(ByteSpan buffer) {
    if (in_ == nullptr) co_return Status::failed_precondition();
    Pipe& in = *in_;
    while (in.size == 0) {
      if (in.closed) co_return std::size_t{0};
      in.readable.reset();
      co_await in.readable.wait();
    }
    std::size_t n = 0;
    for (; n < buffer.size() && in.size > 0; ++n) {
      buffer[n] = in.bytes[in.head];
      in.head = (in.head + 1) % in.bytes.size();
      --in.size;
    }
    in.writable.set();
    co_return n;
  }

  Task<Status> write(ConstByteSpan data) {
    if (out_ == nullptr) co_return Status::failed_precondition();
    Pipe& out = *out_;
    for (std::byte b : data) {
      while (out.size == out.bytes.size()) {
        if (out.closed) co_return Status::aborted();
        out.writable.reset();
        co_await out.writable.wait();
      }
      if (out.closed) co_return Status::aborted();
      out.bytes[(out.head + out.size) % out.bytes.size()] = b;
      ++out.size;
    }
    out.readable.set();
    co_return mote::ok_status();
  }

  Status shutdown_write() {
    if (out_ == nullptr) return Status::failed_precondition();
    out_->closed = true;
    out_->readable.set();
    return mote::ok_status();
  }
  void close() {
    if (out_ == nullptr) return;
    static_cast<void>(shutdown_write());
    in_->closed = true;
    in_->readable.set();
    out_->writable.set();
    in_ = out_ = nullptr;
  }
  [[nodiscard]] Result<mote::io::Endpoint> remote_endpoint() const {
    return mote::io::Endpoint{mote::io::Ipv4Address(10, 0, 0, 1), 1883};
  }

 private:
  Pipe* in_ = nullptr;
  Pipe* out_ = nullptr;
};

Pipe to_broker;
Pipe to_client;

class PipeConnector {
 public:
  using StreamType = PipeStream;
  Task<Result<PipeStream>> connect(mote::io::Endpoint /*remote*/) {
    co_return PipeStream(to_client, to_broker);
  }
};
static_assert(mote::io::Connector<PipeConnector>);

// --- The broker's side ----------------------------------------------------------------

constexpr auto kVersion = mqtt::ProtocolVersion::v5;

class Broker {
 public:
  Broker() : stream_(to_broker, to_client) {}

  // The next packet, decoded into views of `packet_`.
  Task<Result<mqtt::Packet>> next() {
    for (;;) {
      const auto frame =
          mqtt::frame_packet(ConstByteSpan(buffer_).first(received_), buffer_.size());
      if (!frame.ok()) co_return frame.status();
      if (frame->size != 0) {
        for (std::size_t i = 0; i < frame->size; ++i) packet_[i] = buffer_[i];
        for (std::size_t i = frame->size; i < received_; ++i) buffer_[i - frame->size] = buffer_[i];
        received_ -= frame->size;
        const auto packet =
            mqtt::decode_packet(ConstByteSpan(packet_).first(frame->size), kVersion);
        if (!packet.ok()) co_return packet.status();
        co_return *packet;
      }
      Result<std::size_t> n = co_await stream_.read(ByteSpan(buffer_).subspan(received_));
      if (!n.ok()) co_return n.status();
      if (*n == 0) co_return Status::aborted();
      received_ += *n;
    }
  }

  Task<Status> send(mqtt::Packet packet) {
    const Result<std::size_t> size = mqtt::encode_packet(packet, kVersion, out_);
    if (!size.ok()) co_return size.status();
    co_return co_await stream_.write(ConstByteSpan(out_).first(*size));
  }

 private:
  PipeStream stream_;
  std::array<std::byte, 256> buffer_{};
  std::array<std::byte, 256> packet_{};
  std::array<std::byte, 256> out_{};
  std::size_t received_ = 0;
};

template <typename P>
const P* as(const Result<mqtt::Packet>& packet) {
  return packet.ok() ? std::get_if<P>(&*packet) : nullptr;
}

// Takes a PUBLISH from the client through its flow, then sends it back to
// the subscriber at the same QoS and completes that flow too.
Task<Status> relay(Broker& broker, const mqtt::Publish& in) {
  if (in.qos == mqtt::QoS::at_least_once) {
    MOTE_CO_TRY(co_await broker.send(mqtt::Puback{in.packet_id, mqtt::ReasonCode::success, {}}));
  } else {
    MOTE_CO_TRY(co_await broker.send(mqtt::Pubrec{in.packet_id, mqtt::ReasonCode::success, {}}));
    const auto rel = co_await broker.next();
    if (as<mqtt::Pubrel>(rel) == nullptr) co_return Status::data_loss();
    MOTE_CO_TRY(co_await broker.send(mqtt::Pubcomp{in.packet_id, mqtt::ReasonCode::success, {}}));
  }
  mqtt::Publish out = in;
  out.packet_id = static_cast<std::uint16_t>(in.packet_id + 100);
  MOTE_CO_TRY(co_await broker.send(out));
  if (in.qos == mqtt::QoS::at_least_once) {
    const auto ack = co_await broker.next();
    if (as<mqtt::Puback>(ack) == nullptr) co_return Status::data_loss();
  } else {
    const auto rec = co_await broker.next();
    if (as<mqtt::Pubrec>(rec) == nullptr) co_return Status::data_loss();
    MOTE_CO_TRY(co_await broker.send(mqtt::Pubrel{out.packet_id, mqtt::ReasonCode::success, {}}));
    const auto comp = co_await broker.next();
    if (as<mqtt::Pubcomp>(comp) == nullptr) co_return Status::data_loss();
  }
  co_return mote::ok_status();
}

Task<Status> broker_task(Broker& broker) {
  const auto connect = co_await broker.next();
  if (as<mqtt::Connect>(connect) == nullptr) co_return Status::data_loss();
  MOTE_CO_TRY(co_await broker.send(mqtt::Connack{}));
  const auto subscribe = co_await broker.next();
  const auto* sub = as<mqtt::Subscribe>(subscribe);
  if (sub == nullptr) co_return Status::data_loss();
  const std::array<mqtt::ReasonCode, 1> granted = {mqtt::ReasonCode::granted_qos_2};
  MOTE_CO_TRY(co_await broker.send(mqtt::Suback{sub->packet_id, {}, granted}));
  for (int i = 0; i < 2; ++i) {
    const auto publish = co_await broker.next();
    const auto* in = as<mqtt::Publish>(publish);
    if (in == nullptr) co_return Status::data_loss();
    MOTE_CO_TRY(co_await relay(broker, *in));
  }
  co_return mote::ok_status();
}

// --- The client's side ----------------------------------------------------------------

struct Handler final : mqtt::MessageHandler {
  void on_message(const mqtt::Message& m) override {
    if (m.topic == "sensors/t" && m.payload.size() == 4) ++received[static_cast<int>(m.qos)];
    arrived.set();
  }
  int received[3] = {0, 0, 0};
  mote::async::Event arrived;
};

constexpr mqtt::ClientLimits kLimits{.max_inflight = 2,
                                     .max_incoming_qos2 = 2,
                                     .max_pending_requests = 1,
                                     .inbound_topic_aliases = 0,
                                     .alias_topic_size = 1,
                                     .outbound_topic_aliases = 0};
using LoopbackClient = mqtt::Client<PipeConnector, kLimits>;

struct Results {
  Status subscribed = Status::unknown();
  Status acked_qos1 = Status::unknown();
  Status acked_qos2 = Status::unknown();
  Status both_back = Status::unknown();
};

Task<Status> wait_both(Handler& handler) {
  while (handler.received[1] + handler.received[2] < 2) {
    handler.arrived.reset();
    co_await handler.arrived.wait();
  }
  co_return mote::ok_status();
}

Task<Status> run_client(LoopbackClient& client) { co_return co_await client.run(); }

Task<void> app(LoopbackClient& client, Handler& handler, Results& results,
               mote::async::TaskStorageBase& broker) {
  co_await client.wait_connected();
  const std::array<mqtt::Subscription, 1> subscriptions = {
      mqtt::Subscription{"sensors/#", {mqtt::QoS::exactly_once, false, false, {}}}};
  std::array<mqtt::ReasonCode, 1> granted{};
  results.subscribed = co_await client.subscribe(subscriptions, granted);
  mqtt::OutgoingMessage message;
  message.topic = "sensors/t";
  message.payload = mote::bytes_of("21.5");
  message.qos = mqtt::QoS::at_least_once;
  const Result<mqtt::ReasonCode> qos1 = co_await client.publish(message);
  results.acked_qos1 = qos1.status();
  message.qos = mqtt::QoS::exactly_once;
  const Result<mqtt::ReasonCode> qos2 = co_await client.publish(message);
  results.acked_qos2 = qos2.status();
  results.both_back = co_await mote::async::with_timeout(1s, wait_both(handler));
  // The QoS 2 delivery's PUBREL/PUBCOMP may still be under way.
  static_cast<void>(co_await broker.join());
  static_cast<void>(co_await client.disconnect());
}

// Static: frames, buffers and tables live here, not on the stack or a heap.
mote::async::TaskStorage<2560> client_storage;
mote::async::TaskStorage<2048> app_storage;
mote::async::TaskStorage<2560> broker_storage;
std::array<std::byte, 256> rx;
std::array<std::byte, 256> tx;
std::array<std::byte, 256> inflight;
PipeConnector connector;
Handler handler;
Broker broker;
Results results;

}  // namespace

int main() {
  mote::firmware::SysTickDriver driver(mote::firmware::board::kCoreClockHz);
  mote::async::Executor executor(driver);
  mqtt::ClientOptions options;
  options.client_id = "mote-m0";
  options.keep_alive = 30;
  static LoopbackClient client(connector,
                               mote::io::Endpoint{mote::io::Ipv4Address(10, 0, 0, 1), 1883},
                               mqtt::ClientBuffers{rx, tx, inflight}, options, handler);
  MOTE_LOG_INFO("board %s: MQTT 5 client and broker over a loopback pipe; client object %u bytes",
                mote::firmware::board::kName, static_cast<unsigned>(sizeof(LoopbackClient)));

  bool ok = true;
  ok &= check(executor.spawn(client_storage, run_client, std::ref(client)).ok(), "spawn client");
  ok &= check(executor.spawn(broker_storage, broker_task, std::ref(broker)).ok(), "spawn broker");
  ok &= check(executor
                  .spawn(app_storage, app, std::ref(client), std::ref(handler), std::ref(results),
                         std::ref(broker_storage))
                  .ok(),
              "spawn app");
  if (!ok) return 1;
  const Status run = executor.run_for(5s);

  MOTE_LOG_INFO("frame bytes used: client %u, app %u, broker %u",
                static_cast<unsigned>(client_storage.high_water_mark()),
                static_cast<unsigned>(app_storage.high_water_mark()),
                static_cast<unsigned>(broker_storage.high_water_mark()));
  ok &= check(run.ok(), "every task finished");
  ok &= check(client_storage.exit_status().ok(), "client run() ended ok after disconnect()");
  MOTE_LOG_INFO("broker: %s", broker_storage.exit_status().str());
  ok &= check(broker_storage.exit_status().ok(), "broker script completed");
  ok &= check(results.subscribed.ok(), "subscribed");
  ok &= check(results.acked_qos1.ok(), "QoS 1 publish acknowledged");
  ok &= check(results.acked_qos2.ok(), "QoS 2 publish completed");
  ok &= check(results.both_back.ok(), "both messages came back");
  ok &= check(handler.received[1] == 1 && handler.received[2] == 1, "one delivery at each QoS");
  if (!ok) return 1;

  mote::firmware::semihosting::write0("mqtt_loopback: PASS\n");
  return 0;
}
