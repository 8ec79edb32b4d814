#pragma once
// How the firmware node hands a reading to the gateway, apart from where the
// reading comes from: main.cpp's sampling loop is written against the
// ReadingPublisher concept, with two implementations: CoapReadingPublisher
// (POST to the gateway's CoAP ingest resource) and MqttReadingPublisher
// (PUBLISH at QoS 1 to the gateway's broker), both in the gateway's wire
// format (docs/gateway.md, gateway/reading_format.hpp).
//
//   ReadingPublisher:
//     publish(metric, milli_value, unit)  one reading; ok once the gateway
//                                         has taken it
//     publish_status(text)                "online" / "offline"
//     close()                             after the last one: ends the
//                                         session (MQTT: DISCONNECT)
//   They complete with the gateway's verdict or the transport's error
//   (CoAP: deadline_exceeded while the gateway is away; MQTT: aborted when a
//   connection ended before the PUBACK); the caller decides whether to send
//   again.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/status.hpp"
#include "mote/coap/client.hpp"
#include "mote/gateway/reading_format.hpp"
#include "mote/io/address.hpp"
#include "mote/io/concepts.hpp"
#include "mote/mqtt/client.hpp"

namespace mote::firmware {

template <typename P>
concept ReadingPublisher = requires(P& publisher, std::string_view text, std::int64_t milli) {
  { publisher.publish(text, milli, text) } -> std::same_as<async::Task<Status>>;
  { publisher.publish_status(text) } -> std::same_as<async::Task<Status>>;
  { publisher.close() } -> std::same_as<async::Task<Status>>;
};

// POST /<prefix>/<device>/<metric> with the reading as JSON (Content-Format
// 50), confirmable, through a coap::Client whose run() loop the caller runs.
// The node has no wall clock, so readings carry no time_ms: the gateway
// stamps them on arrival.
template <io::DatagramSocket Socket, std::size_t kExchanges>
class CoapReadingPublisher {
 public:
  static constexpr std::uint16_t kContentFormatJson = 50;  // RFC 7252 §12.3
  static constexpr std::uint16_t kContentFormatText = 0;   // text/plain; charset=utf-8

  // `client` and the names must outlive the publisher.
  CoapReadingPublisher(coap::Client<Socket, kExchanges>& client, io::Endpoint gateway,
                       std::string_view prefix, std::string_view device)
      : client_(client), gateway_(gateway), prefix_(prefix), device_(device) {}

  async::Task<Status> publish(std::string_view metric, std::int64_t milli_value,
                              std::string_view unit) {
    std::byte payload[96];
    MOTE_CO_TRY_ASSIGN(const std::size_t size,
                       gateway::format_reading(payload, milli_value, unit, std::nullopt));
    co_return co_await post(metric, ConstByteSpan(payload, size), kContentFormatJson);
  }

  async::Task<Status> publish_status(std::string_view status) {
    co_return co_await post("status", as_bytes(status), kContentFormatText);
  }

  // CoAP has no session to end.
  async::Task<Status> close() { co_return ok_status(); }

  // The gateway's answer to the last request that got one (2.04 when taken).
  [[nodiscard]] std::optional<coap::Code> last_code() const { return last_code_; }

 private:
  static ConstByteSpan as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
  }

  async::Task<Status> post(std::string_view metric, ConstByteSpan payload,
                           std::uint16_t content_format) {
    char path[3 * 65 + 2];
    MOTE_CO_TRY_ASSIGN(const std::size_t path_len,
                       gateway::format_topic(path, prefix_, device_, metric));
    coap::Request request;
    request.method = coap::codes::kPost;
    request.path = std::string_view(path, path_len);
    request.payload = payload;
    request.content_format = content_format;
    MOTE_CO_TRY_ASSIGN(const coap::Response response,
                       co_await client_.request(gateway_, request, response_));
    last_code_ = response.code;
    // 4.00: the gateway read the reading and refused it (docs/gateway.md);
    // sending it again would not help.
    if (response.code == coap::codes::kBadRequest) co_return Status::invalid_argument();
    if (response.code != coap::codes::kChanged) co_return Status::unavailable();
    co_return ok_status();
  }

  coap::Client<Socket, kExchanges>& client_;
  io::Endpoint gateway_;
  std::string_view prefix_;
  std::string_view device_;
  std::byte response_[256];
  std::optional<coap::Code> last_code_;
};

// PUBLISH <prefix>/<device>/<metric> with the reading as JSON at QoS 1
// through an mqtt::Client whose run() loop the caller runs; ok once the
// broker's PUBACK came. The status topic <prefix>/<device>/status carries
// "online" / "offline", retained at QoS 1, and will() is the matching will
// ("offline") for the client's options, so a node that vanishes goes
// offline at once — as `mote sensor` does.
//
// While the gateway is away the client reconnects with backoff and a
// publish waits for it (the message is queued in an in-flight slot). After
// every reconnect the retained status may be the will's "offline", so the
// next publish() first says "online" again.
//
//   MqttReadingPublisher<Client> publisher("mote", device);
//   options.will = publisher.will();
//   Client client(connector, gateway, buffers, options, publisher);
//   publisher.attach(client);
template <typename MqttClient>
class MqttReadingPublisher final : public mqtt::MessageHandler {
 public:
  // The names must outlive the publisher.
  MqttReadingPublisher(std::string_view prefix, std::string_view device)
      : prefix_(prefix), device_(device) {
    const Result<std::size_t> size = gateway::format_topic(status_topic_, prefix, device, "status");
    status_topic_size_ = size.value_or(0);
  }

  // The client must outlive the publisher; it calls on_connected.
  void attach(MqttClient& client) { client_ = &client; }

  // "offline", retained at QoS 1 (empty when the names do not form a topic).
  [[nodiscard]] mqtt::Will will() const {
    mqtt::Will will;
    will.topic = status_topic();
    will.payload = as_bytes(kOffline);
    will.qos = mqtt::QoS::at_least_once;
    will.retain = true;
    return will;
  }

  async::Task<Status> publish(std::string_view metric, std::int64_t milli_value,
                              std::string_view unit) {
    if (online_said_ && online_connection_ != connections_) {
      MOTE_CO_TRY(co_await publish_status(kOnline));
    }
    char topic[3 * 65 + 2];
    MOTE_CO_TRY_ASSIGN(const std::size_t topic_size,
                       gateway::format_topic(topic, prefix_, device_, metric));
    std::byte payload[96];
    MOTE_CO_TRY_ASSIGN(const std::size_t size,
                       gateway::format_reading(payload, milli_value, unit, std::nullopt));
    co_return co_await send(std::string_view(topic, topic_size), ConstByteSpan(payload, size),
                            false);
  }

  async::Task<Status> publish_status(std::string_view status) {
    if (status_topic_size_ == 0) co_return Status::invalid_argument();
    MOTE_CO_TRY(co_await send(status_topic(), as_bytes(status), true));
    if (status == kOnline) {
      // The PUBACK came on the current connection: a message sent on an
      // earlier one whose session was lost ends with aborted instead.
      online_said_ = true;
      online_connection_ = connections_;
    }
    co_return ok_status();
  }

  // DISCONNECT (Normal Disconnection: the broker drops the will); the
  // client's run() then returns ok.
  async::Task<Status> close() {
    if (client_ == nullptr) co_return Status::failed_precondition();
    co_return co_await client_->disconnect();
  }

  void on_message(const mqtt::Message& /*message*/) override {}  // subscribes to nothing
  void on_connected(const mqtt::ServerSettings& /*server*/) override { ++connections_; }

  [[nodiscard]] std::uint32_t connections() const { return connections_; }

 private:
  static constexpr std::string_view kOnline = "online";
  static constexpr std::string_view kOffline = "offline";

  static ConstByteSpan as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
  }
  [[nodiscard]] std::string_view status_topic() const {
    return {status_topic_, status_topic_size_};
  }

  async::Task<Status> send(std::string_view topic, ConstByteSpan payload, bool retain) {
    if (client_ == nullptr) co_return Status::failed_precondition();
    mqtt::OutgoingMessage message;
    message.topic = topic;
    message.payload = payload;
    message.qos = mqtt::QoS::at_least_once;
    message.retain = retain;
    // Waits for a free in-flight slot and the PUBACK, across reconnects.
    MOTE_CO_TRY_ASSIGN(const mqtt::ReasonCode reason, co_await client_->publish(message));
    last_reason_ = reason;
    // The broker read the message and refused it: sending it again would
    // not help.
    if (mqtt::is_failure(reason)) co_return Status::invalid_argument();
    co_return ok_status();
  }

  MqttClient* client_ = nullptr;
  std::string_view prefix_;
  std::string_view device_;
  char status_topic_[3 * 65 + 2] = {};
  std::size_t status_topic_size_ = 0;
  std::uint32_t connections_ = 0;
  std::uint32_t online_connection_ = 0;
  bool online_said_ = false;
  std::optional<mqtt::ReasonCode> last_reason_;
};

}  // namespace mote::firmware
