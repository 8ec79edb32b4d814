#pragma once
// An MQTT 3.1.1 / 5.0 client on the io concepts: the same code runs on the
// kernel's sockets and on mote's own stack. Freestanding: no heap; every
// buffer is the caller's, every table has a capacity fixed by ClientLimits.
//
//   Client<KernelTcpConnector> client(connector, server, buffers, options, handler);
//   executor.spawn(client_storage, run_client, std::ref(client));   // co_await client.run()
//   ... in another task:
//   co_await client.wait_connected();
//   Result<ReasonCode> acked = co_await client.publish({.topic = "t", .payload = p, .qos =
//   QoS::at_least_once});
//
// One task runs run(): it connects, reads and dispatches every packet,
// keeps the connection alive, and reconnects with exponential backoff.
// Other tasks of the same executor publish, subscribe, unsubscribe and
// disconnect; their writes are serialized by a mutex. Incoming messages go
// to a MessageHandler, called from the run() task.
//
// Delivery guarantees:
//   - Outgoing QoS 1/2 messages are stored (encoded) in an in-flight slot
//     until acknowledged. At most min(ClientLimits::max_inflight, the
//     server's Receive Maximum) are unacknowledged at once; the rest wait in
//     order. After a reconnect that resumed the session they are sent again
//     with DUP set (PUBREL for QoS 2 messages past PUBREC), in their
//     original order [MQTT-4.4.0-1]. If the session was lost, messages
//     already sent end with `aborted` (the server may or may not have them)
//     and unsent ones are sent on the new session.
//   - Incoming QoS 1 messages are acknowledged after the handler returns;
//     incoming QoS 2 messages are delivered once: the packet identifier is
//     kept from PUBLISH to PUBREL (§4.3.3 method B), and a retransmitted
//     PUBLISH in between is acknowledged without a second delivery.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <variant>

#include "mote/async/event.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/mutex.hpp"
#include "mote/async/semaphore.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/task.hpp"
#include "mote/async/time.hpp"
#include "mote/async/timeout.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/inline_string.hpp"
#include "mote/base/inline_vector.hpp"
#include "mote/base/log.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/io/address.hpp"
#include "mote/io/concepts.hpp"
#include "mote/mqtt/codec.hpp"
#include "mote/mqtt/packets.hpp"
#include "mote/mqtt/properties.hpp"
#include "mote/mqtt/topic.hpp"
#include "mote/mqtt/types.hpp"

namespace mote::mqtt {

// Capacities fixed at compile time (the client's tables live inside it).
struct ClientLimits {
  // Outgoing QoS 1/2 messages awaiting acknowledgement.
  std::size_t max_inflight = 8;
  // Incoming QoS 2 messages between PUBLISH and PUBREL; sent as the Receive
  // Maximum (MQTT 5). A 3.1.1 server sending more ends the connection.
  // (mosquitto sends up to 20 at once to a 3.1.1 client by default.)
  std::size_t max_incoming_qos2 = 32;
  // SUBSCRIBE / UNSUBSCRIBE requests awaiting their acknowledgement.
  std::size_t max_pending_requests = 4;
  // Topic aliases the server may use (MQTT 5 Topic Alias Maximum), and the
  // longest topic an alias can stand for here.
  std::size_t inbound_topic_aliases = 0;
  std::size_t alias_topic_size = 64;
  // Topic aliases this client may use for QoS 0 publishes (bounded further by
  // the server's Topic Alias Maximum); with ClientOptions::assign_topic_aliases
  // the client picks them itself for topics up to alias_topic_size bytes.
  std::size_t outbound_topic_aliases = 0;
};

// The caller's memory. It must outlive the client.
struct ClientBuffers {
  // Holds one incoming packet; its size is the Maximum Packet Size the
  // client announces (MQTT 5). A larger packet ends the connection
  // (Packet too large).
  ByteSpan receive;
  // Encodes outgoing packets other than stored QoS 1/2 PUBLISHes.
  ByteSpan send;
  // Split into max_inflight equal slots, each holding one encoded QoS 1/2
  // PUBLISH until it is acknowledged: the largest such message is
  // inflight.size() / max_inflight bytes.
  ByteSpan inflight;
};

// Enhanced authentication (MQTT 5 §4.12): the Authentication Method, and
// the Authentication Data of each step of the exchange during CONNECT. The
// views it returns must stay valid until its next call. Called from the
// task running run(). Re-authentication (§4.12.1) is not offered.
class Authenticator {
 public:
  // The Authentication Method sent in CONNECT (a UTF-8 string, not empty).
  virtual std::string_view method() = 0;
  // The Authentication Data for CONNECT; empty: none.
  virtual ConstByteSpan start() = 0;
  // The server's AUTH (Continue authentication) data; the data to answer
  // with. An error ends the attempt: the client sends DISCONNECT Not
  // authorized and closes; run() tries again after its backoff, as after
  // any failed connection (a server's refusal in CONNACK ends run()).
  virtual Result<ConstByteSpan> challenge(ConstByteSpan server_data) = 0;
  // The Authentication Data of the accepting CONNACK (empty if none): not
  // ok ends the connection as above (the server did not prove itself).
  virtual Status finish(ConstByteSpan /*server_data*/) { return ok_status(); }

 protected:
  Authenticator() = default;
  Authenticator(const Authenticator&) = default;
  Authenticator& operator=(const Authenticator&) = default;
  ~Authenticator() = default;
};

struct ClientOptions {
  ProtocolVersion version = ProtocolVersion::v5;
  // Empty: MQTT 5 servers assign one (kept for reconnects); 3.1.1 needs clean_start.
  std::string_view client_id;
  // For the first connection. Reconnects resume the session when it
  // outlives a connection (MQTT 5: session_expiry_interval > 0; 3.1.1:
  // clean_start false).
  bool clean_start = true;
  std::uint32_t session_expiry_interval = 0;  // MQTT 5, seconds; 0xffffffff: never expires
  std::uint16_t keep_alive = 60;              // seconds; 0: no keep-alive
  // After a PINGREQ, how long to wait for any packet before giving up.
  async::Duration ping_timeout = std::chrono::seconds(10);
  // TCP connect plus CONNACK.
  async::Duration connect_timeout = std::chrono::seconds(10);
  // Reconnect backoff: doubles from min to max; reset by an accepted CONNACK.
  async::Duration reconnect_delay_min = std::chrono::seconds(1);
  async::Duration reconnect_delay_max = std::chrono::seconds(60);
  std::optional<std::string_view> user_name;
  std::optional<BinaryData> password;
  std::optional<Will> will;
  // MQTT 5: QoS 0 publishes without a topic_alias of their own get one the
  // client assigns, up to min(ClientLimits::outbound_topic_aliases, the
  // server's Topic Alias Maximum): the first publish to a topic on a
  // connection carries topic and alias, later ones the alias only. When all
  // are taken the oldest assignment is given to the new topic (§3.3.2.3.4
  // lets a sender remap an alias). Messages with properties of their own
  // are sent with their topic.
  bool assign_topic_aliases = false;
  // MQTT 5 enhanced authentication; null: none (a server AUTH is then a
  // protocol error). Must outlive the client.
  Authenticator* authenticator = nullptr;
  // More CONNECT properties (MQTT 5): user properties, Request Problem
  // Information... The client adds Session Expiry Interval, Receive Maximum,
  // Maximum Packet Size and Topic Alias Maximum itself (copies of those
  // here are left out).
  Properties connect_properties;
};

// What the server's CONNACK said, with the spec's defaults for what it left out.
struct ServerSettings {
  bool session_present = false;
  std::uint16_t receive_maximum = 65535;
  QoS maximum_qos = QoS::exactly_once;
  bool retain_available = true;
  std::size_t maximum_packet_size = kMaxPacketSize;
  std::uint16_t topic_alias_maximum = 0;
  std::uint16_t keep_alive = 0;  // in effect: the Server Keep Alive or ours
  bool wildcard_subscription_available = true;
  bool subscription_identifiers_available = true;
  bool shared_subscription_available = true;
};

// An incoming application message. Views valid during on_message only.
struct Message {
  std::string_view topic;  // the alias resolved
  BinaryData payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;  // QoS 1/2; 0 for QoS 0
  Properties properties;        // includes Subscription Identifiers, User Properties...
};

// Receives messages and connection news, on the task that runs run().
class MessageHandler {
 public:
  virtual void on_message(const Message& message) = 0;
  // After each accepted CONNACK (before queued messages are resent).
  virtual void on_connected(const ServerSettings& /*server*/) {}

 protected:
  MessageHandler() = default;
  MessageHandler(const MessageHandler&) = default;
  MessageHandler& operator=(const MessageHandler&) = default;
  ~MessageHandler() = default;
};

struct OutgoingMessage {
  std::string_view topic;
  ConstByteSpan payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  // MQTT 5 properties (User Property, Message Expiry, Content Type...).
  // Not Topic Alias: use topic_alias.
  Properties properties;
  // QoS 0, MQTT 5: 1..outbound_topic_aliases. The first publish on a
  // connection sends topic and alias, later ones only the alias. An alias
  // must always stand for the same topic.
  std::uint16_t topic_alias = 0;
};

// The Status for a refused CONNACK: retrying will not help with these.
Status status_of_refusal(ReasonCode reason);
// Whether a CONNACK refusal is worth retrying (server busy, unavailable, ...).
bool is_transient_refusal(ReasonCode reason);

template <io::Connector Connector, ClientLimits kLimits = ClientLimits{}>
class Client {
 public:
  using Stream = typename Connector::StreamType;
  static_assert(kLimits.max_inflight >= 1 && kLimits.max_incoming_qos2 >= 1 &&
                kLimits.max_pending_requests >= 1);
  // Filters one UNSUBSCRIBE can carry.
  static constexpr std::size_t kMaxUnsubscribeFilters = 16;

  Client(Connector& connector, io::Endpoint server, ClientBuffers buffers,
         const ClientOptions& options, MessageHandler& handler)
      : connector_(connector),
        server_(server),
        buffers_(buffers),
        options_(options),
        handler_(handler),
        slot_size_(buffers.inflight.size() / kLimits.max_inflight) {
    for (std::size_t i = 0; i < kLimits.max_inflight; ++i) {
      slots_[i].storage = buffers.inflight.subspan(i * slot_size_, slot_size_);
    }
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() = default;

  // Runs until disconnect() (then ok) or until a CONNACK refusal retrying
  // cannot fix (bad credentials: unauthenticated; not authorized, banned:
  // permission_denied; unsupported version, client id not valid, bad
  // authentication method: invalid_argument). Every other failure —
  // refused or lost connections, timeouts, protocol errors — is logged and
  // retried after the backoff delay.
  async::Task<Status> run() {
    stop_requested_ = false;
    stop_.reset();
    async::Duration delay = options_.reconnect_delay_min;
    for (;;) {
      const Status status = co_await run_once();
      if (stop_requested_) co_return ok_status();
      if (last_refusal_ && !is_transient_refusal(*last_refusal_)) co_return status;
      if (accepted_once_) delay = options_.reconnect_delay_min;
      accepted_once_ = false;
      MOTE_LOG_INFO("mqtt: connection ended (%s); reconnecting in %lld ms", status.str(),
                    static_cast<long long>(delay.count() / 1000));
      const Status woken = co_await async::with_timeout(delay, wait_stop());
      if (woken.ok() || stop_requested_) co_return ok_status();
      delay = delay * 2 > options_.reconnect_delay_max ? options_.reconnect_delay_max : delay * 2;
    }
  }

  // One connection, from TCP connect to its end; returns why it ended (ok
  // after disconnect()). run() is this in a loop.
  async::Task<Status> run_once() {
    last_refusal_.reset();
    const Status opened = co_await async::with_timeout(options_.connect_timeout, open());
    if (!opened.ok()) {
      co_await close_stream();
      co_return opened;
    }
    const Status served = co_await serve();
    co_await end_connection();
    co_return stop_requested_ ? ok_status() : served;
  }

  // QoS 0: ok once written (unavailable when not connected). QoS 1/2: waits
  // for a slot, then for PUBACK / PUBCOMP (or PUBREC with a failure), across
  // reconnects; the value is the server's reason code (MQTT 5; success in
  // 3.1.1), failures included. Errors: invalid_argument (the packet cannot
  // be encoded: bad topic, properties), resource_exhausted (larger than a
  // slot, the send buffer or the server's Maximum Packet Size),
  // failed_precondition (QoS above the server's Maximum QoS, retain it does
  // not offer, an alias it does not allow), aborted (the session was lost
  // after the message was sent).
  async::Task<Result<ReasonCode>> publish(OutgoingMessage message) {
    if (connected_) MOTE_CO_TRY(check_server_allows(message));
    if (message.qos == QoS::at_most_once) {
      if (!connected_) co_return Status::unavailable();
      co_return co_await publish_qos0(message);
    }
    if (message.topic_alias != 0) co_return Status::failed_precondition();
    co_await slots_free_.acquire();
    Slot* slot = nullptr;
    for (Slot& candidate : slots_) {
      if (candidate.state == SlotState::free) {
        slot = &candidate;
        break;
      }
    }
    MOTE_ASSERT(slot != nullptr);  // the semaphore counts free slots
    SlotClaim claim(*this, *slot);
    Publish packet;
    packet.qos = message.qos;
    packet.retain = message.retain;
    packet.topic = message.topic;
    packet.properties = message.properties;
    packet.payload = message.payload;
    packet.packet_id = next_packet_id();
    const Result<std::size_t> size = encode_packet(packet, options_.version, slot->storage);
    if (!size.ok()) co_return size.status();  // resource_exhausted: larger than a slot
    slot->size = *size;
    slot->packet_id = packet.packet_id;
    slot->qos = message.qos;
    slot->state = SlotState::publish;
    slot->transmitted = false;
    slot->outstanding = false;
    slot->sequence = next_sequence_++;
    slot->done.reset();
    // A failed write ends the connection (the reader sees it); the message
    // stays in its slot and goes out on the next one.
    static_cast<void>(co_await pump());
    co_await slot->done.wait();
    const Status status = slot->status;
    const ReasonCode reason = slot->reason;
    claim.release();
    if (!status.ok()) co_return status;
    co_return reason;
  }

  // Sends SUBSCRIBE and waits for SUBACK; `granted` receives one reason code
  // per subscription (as many as fit). `properties` (MQTT 5): Subscription
  // Identifier, User Properties. Errors: unavailable (not connected),
  // aborted (the connection ended first), invalid_argument (a bad filter or
  // option), resource_exhausted (too many requests pending: see ClientLimits),
  // failed_precondition (a wildcard, shared subscription or Subscription
  // Identifier the server said it does not support).
  async::Task<Status> subscribe(std::span<const Subscription> subscriptions,
                                std::span<ReasonCode> granted, Properties properties = {}) {
    if (connected_) MOTE_CO_TRY(check_server_allows(subscriptions, properties));
    Subscribe packet;
    packet.properties = properties;
    packet.subscriptions = subscriptions;
    co_return co_await request(PacketType::subscribe, packet, granted);
  }

  // Sends UNSUBSCRIBE and waits for UNSUBACK (MQTT 5 reason codes into
  // `results`; nothing in 3.1.1). Errors as subscribe().
  async::Task<Status> unsubscribe(std::span<const std::string_view> filters,
                                  std::span<ReasonCode> results = {}, Properties properties = {}) {
    if (filters.size() > kMaxUnsubscribeFilters) co_return Status::invalid_argument();
    InlineVector<Subscription, kMaxUnsubscribeFilters> list;
    for (std::string_view filter : filters) list.push_back(Subscription{filter, {}});
    Unsubscribe packet;
    packet.properties = properties;
    packet.subscriptions = std::span<const Subscription>(list.data(), list.size());
    co_return co_await request(PacketType::unsubscribe, packet, results);
  }

  // Sends DISCONNECT (with `reason` in MQTT 5; Disconnect with Will Message
  // makes the server publish the will), closes the connection and ends
  // run() with ok. QoS 1/2 messages still in flight stay in their slots
  // (their publishers keep waiting): a later run() resumes them if the
  // session survives.
  async::Task<Status> disconnect(ReasonCode reason = kNormalDisconnection,
                                 Properties properties = {}) {
    stop_requested_ = true;
    stop_.set();
    if (!connected_) co_return ok_status();
    Disconnect packet;
    packet.reason = reason;
    packet.properties = properties;
    const Status sent = co_await send(packet);
    // [MQTT-3.14.4-1]: the sender of DISCONNECT closes the connection. The
    // stream object stays until the reader, woken by the close, is done.
    auto guard = co_await write_mutex_.lock();
    if (stream_) stream_->close();
    co_return sent;
  }

  // Waits until a CONNACK has accepted the connection.
  [[nodiscard]] async::Event::WaitAwaiter wait_connected() { return connected_event_.wait(); }
  [[nodiscard]] bool connected() const { return connected_; }
  [[nodiscard]] const ServerSettings& server() const { return server_settings_; }
  // The last CONNACK refusal, if the last attempt got one.
  [[nodiscard]] std::optional<ReasonCode> last_refusal() const { return last_refusal_; }
  // The client identifier in use (the server's if it assigned one).
  [[nodiscard]] std::string_view client_id() const {
    return assigned_client_id_.size() != 0 ? assigned_client_id_.view() : options_.client_id;
  }
  // Outgoing QoS 1/2 messages not yet completed.
  [[nodiscard]] std::size_t inflight() const {
    std::size_t count = 0;
    for (const Slot& slot : slots_) count += slot.state != SlotState::free ? 1 : 0;
    return count;
  }

 private:
  enum class SlotState : std::uint8_t { free, publish, pubrel };

  struct Slot {
    ByteSpan storage;
    std::size_t size = 0;
    std::uint32_t sequence = 0;
    std::uint16_t packet_id = 0;
    QoS qos = QoS::at_least_once;
    SlotState state = SlotState::free;
    bool transmitted = false;  // PUBLISH sent at least once: resend with DUP
    bool outstanding = false;  // sent on this connection, counts against Receive Maximum
    bool abandoned = false;    // the publisher is gone: free on completion
    Status status;
    ReasonCode reason = ReasonCode::success;
    async::Event done;
  };

  // Frees a slot when the publisher is done with it, or marks it abandoned
  // if the publisher's task is cancelled while the message is in flight.
  class SlotClaim {
   public:
    SlotClaim(Client& client, Slot& slot) : client_(&client), slot_(&slot) {}
    SlotClaim(const SlotClaim&) = delete;
    SlotClaim& operator=(const SlotClaim&) = delete;
    ~SlotClaim() {
      if (slot_ == nullptr) return;
      if (slot_->state == SlotState::free || slot_->done.is_set()) {
        release();
      } else {
        slot_->abandoned = true;
      }
    }
    void release() {
      if (slot_ == nullptr) return;
      client_->free_slot(*std::exchange(slot_, nullptr));
    }

   private:
    Client* client_;
    Slot* slot_;
  };

  struct Request {
    bool used = false;
    std::uint16_t packet_id = 0;
    PacketType expect = PacketType::suback;
    std::span<ReasonCode> results;
    Status status;
    async::Event done;
  };

  // --- Connection life cycle ---------------------------------------------------

  async::Task<Status> wait_stop() {
    co_await stop_.wait();
    co_return ok_status();
  }

  async::Task<Status> open() {
    Result<Stream> stream = co_await connector_.connect(server_);
    if (!stream.ok()) co_return stream.status();
    stream_.emplace(std::move(*stream));
    received_ = 0;
    MOTE_CO_TRY(co_await send_connect());
    // Wait for CONNACK, the first packet the server may send [MQTT-3.2.0-1]
    // but for AUTH during enhanced authentication (§4.12).
    for (;;) {
      for (;;) {
        const DecodeResult<Frame> frame =
            frame_packet(buffers_.receive.first(received_), buffers_.receive.size());
        if (!frame.ok()) co_return frame.status();
        if (frame->size != 0) break;
        if (received_ == buffers_.receive.size()) co_return Status::resource_exhausted();
        Result<std::size_t> n = co_await stream_->read(buffers_.receive.subspan(received_));
        if (!n.ok()) co_return n.status();
        if (*n == 0) co_return Status::aborted();
        received_ += *n;
      }
      const DecodeResult<Frame> frame = frame_packet(buffers_.receive.first(received_));
      const DecodeResult<Packet> packet =
          decode_packet(buffers_.receive.first(frame->size), options_.version);
      if (!packet.ok()) co_return packet.status();
      if (const auto* auth = std::get_if<Auth>(&*packet)) {
        const Status answered = co_await answer_auth(*auth);
        if (!answered.ok()) co_return answered;
        consume(frame->size);
        continue;
      }
      const auto* connack = std::get_if<Connack>(&*packet);
      if (connack == nullptr) co_return Status::data_loss();
      if (connack->reason != ReasonCode::success) {
        last_refusal_ = connack->reason;
        MOTE_LOG_WARN("mqtt: CONNACK refused: %s", to_string(connack->reason));
        co_return status_of_refusal(connack->reason);
      }
      if (options_.authenticator != nullptr) {
        const Status finished = options_.authenticator->finish(auth_data(connack->properties));
        if (!finished.ok()) {
          static_cast<void>(co_await protocol_failure(
              {ReasonCode::not_authorized, "the server's authentication data was refused"}));
          co_return finished;
        }
      }
      accept(*connack);
      consume(frame->size);
      co_return ok_status();
    }
  }

  static ConstByteSpan auth_data(const Properties& properties) {
    const std::optional<Property> data = properties.find(PropertyId::authentication_data);
    return data ? ConstByteSpan(data->binary) : ConstByteSpan();
  }

  // A server AUTH before CONNACK: Continue authentication with our method
  // is answered with the authenticator's data (§4.12); anything else ends
  // the attempt as a Protocol Error.
  async::Task<Status> answer_auth(const Auth& auth) {
    Authenticator* authenticator = options_.authenticator;
    if (authenticator == nullptr || auth.reason != ReasonCode::continue_authentication ||
        auth.properties.string(PropertyId::authentication_method) != authenticator->method()) {
      co_return co_await protocol_failure(
          {ReasonCode::protocol_error, "AUTH without an exchange we started"});
    }
    const Result<ConstByteSpan> answer = authenticator->challenge(auth_data(auth.properties));
    if (!answer.ok()) {
      static_cast<void>(co_await protocol_failure(
          {ReasonCode::not_authorized, "the authenticator refused the server's challenge"}));
      co_return answer.status();
    }
    // The receive buffer past what arrived is free until the next read.
    PropertyBuilder builder(buffers_.receive.subspan(received_));
    builder.add_string(PropertyId::authentication_method, authenticator->method());
    if (!answer->empty()) builder.add_binary(PropertyId::authentication_data, *answer);
    const Result<Properties> properties = builder.properties();
    if (!properties.ok()) co_return properties.status();
    Auth reply;
    reply.reason = ReasonCode::continue_authentication;
    reply.properties = *properties;
    co_return co_await send(reply);
  }

  async::Task<Status> send_connect() {
    Connect connect;
    connect.version = options_.version;
    connect.client_id = client_id();
    connect.clean_start = first_connection_ ? options_.clean_start : !session_resumable();
    connect.keep_alive = options_.keep_alive;
    connect.will = options_.will;
    connect.user_name = options_.user_name;
    connect.password = options_.password;
    if (options_.version == ProtocolVersion::v5) {
      // The receive buffer is idle until CONNACK arrives: build the
      // properties there.
      PropertyBuilder builder(buffers_.receive);
      if (options_.session_expiry_interval != 0) {
        builder.add_integer(PropertyId::session_expiry_interval, options_.session_expiry_interval);
      }
      builder.add_integer(PropertyId::receive_maximum,
                          static_cast<std::uint32_t>(kLimits.max_incoming_qos2));
      builder.add_integer(PropertyId::maximum_packet_size,
                          static_cast<std::uint32_t>(buffers_.receive.size()));
      if (kLimits.inbound_topic_aliases != 0) {
        builder.add_integer(PropertyId::topic_alias_maximum,
                            static_cast<std::uint32_t>(kLimits.inbound_topic_aliases));
      }
      if (options_.authenticator != nullptr) {
        builder.add_string(PropertyId::authentication_method, options_.authenticator->method());
        const ConstByteSpan data = options_.authenticator->start();
        if (!data.empty()) builder.add_binary(PropertyId::authentication_data, data);
      }
      for (const Property& property : options_.connect_properties) {
        // The client's own values stand: they describe its buffers and tables.
        if (property.id == PropertyId::session_expiry_interval ||
            property.id == PropertyId::receive_maximum ||
            property.id == PropertyId::maximum_packet_size ||
            property.id == PropertyId::topic_alias_maximum ||
            (options_.authenticator != nullptr &&
             (property.id == PropertyId::authentication_method ||
              property.id == PropertyId::authentication_data))) {
          continue;
        }
        builder.add(property);
      }
      Result<Properties> properties = builder.properties();
      if (!properties.ok()) co_return properties.status();
      connect.properties = *properties;
    }
    co_return co_await send(connect);
  }

  [[nodiscard]] bool session_resumable() const {
    return options_.version == ProtocolVersion::v5 ? options_.session_expiry_interval != 0
                                                   : !options_.clean_start;
  }

  void accept(const Connack& connack) {
    ServerSettings s;
    s.session_present = connack.session_present;
    s.keep_alive = options_.keep_alive;
    const Properties& p = connack.properties;
    if (auto v = p.integer(PropertyId::receive_maximum))
      s.receive_maximum = static_cast<std::uint16_t>(*v);
    if (auto v = p.integer(PropertyId::maximum_qos)) s.maximum_qos = static_cast<QoS>(*v);
    if (auto v = p.integer(PropertyId::retain_available)) s.retain_available = *v != 0;
    if (auto v = p.integer(PropertyId::maximum_packet_size)) s.maximum_packet_size = *v;
    if (auto v = p.integer(PropertyId::topic_alias_maximum)) {
      s.topic_alias_maximum = static_cast<std::uint16_t>(*v);
    }
    if (auto v = p.integer(PropertyId::server_keep_alive))
      s.keep_alive = static_cast<std::uint16_t>(*v);
    if (auto v = p.integer(PropertyId::wildcard_subscription_available)) {
      s.wildcard_subscription_available = *v != 0;
    }
    if (auto v = p.integer(PropertyId::subscription_identifier_available)) {
      s.subscription_identifiers_available = *v != 0;
    }
    if (auto v = p.integer(PropertyId::shared_subscription_available)) {
      s.shared_subscription_available = *v != 0;
    }
    if (auto id = p.string(PropertyId::assigned_client_identifier)) {
      if (!assigned_client_id_.assign(*id).ok()) {
        MOTE_LOG_WARN("mqtt: assigned client identifier too long to keep");
      }
    }
    server_settings_ = s;
    first_connection_ = false;
    const bool resumed = connack.session_present && had_session_;
    if (!resumed) drop_session_state();
    had_session_ = session_resumable();
    for (Slot& slot : slots_) slot.outstanding = false;
    outstanding_ = 0;
    for (bool& established : outbound_aliases_) established = false;
    for (auto& alias : inbound_aliases_) alias.clear();
    const auto now = async::now();
    last_sent_ = now;
    last_received_ = now;
    ping_outstanding_ = false;
    connected_ = true;
    accepted_once_ = true;
    connected_event_.set();
    handler_.on_connected(server_settings_);
  }

  // [MQTT-4.1.0-?]: without the session, what it held is gone.
  void drop_session_state() {
    incoming_qos2_.clear();
    for (Slot& slot : slots_) {
      if (slot.state == SlotState::free || slot.done.is_set()) continue;
      if (slot.transmitted || slot.state == SlotState::pubrel) {
        complete(slot, Status::aborted(), ReasonCode::unspecified_error);
      }
    }
  }

  async::Task<void> end_connection() {
    connected_ = false;
    connected_event_.reset();
    for (Request& request : requests_) {
      if (request.used && !request.done.is_set()) {
        request.status = Status::aborted();
        request.done.set();
      }
    }
    co_await close_stream();
  }

  async::Task<void> close_stream() {
    // Closing first wakes a writer parked in the stream (a peer that stopped
    // reading) with an error; the object itself goes only under the write
    // mutex, when no writer is inside it.
    if (stream_) stream_->close();
    auto guard = co_await write_mutex_.lock();
    stream_.reset();
  }

  // --- Reading -------------------------------------------------------------------

  async::Task<Result<std::size_t>> read_some() {
    co_return co_await stream_->read(buffers_.receive.subspan(received_));
  }

  [[nodiscard]] async::Instant keep_alive_deadline() const {
    if (ping_outstanding_) return ping_sent_ + options_.ping_timeout;
    if (server_settings_.keep_alive == 0) return async::kNever;
    return last_sent_ + std::chrono::seconds(server_settings_.keep_alive);
  }

  async::Task<Status> serve() {
    MOTE_CO_TRY(co_await pump());
    for (;;) {
      // Everything already buffered first.
      for (;;) {
        const DecodeResult<Frame> frame =
            frame_packet(buffers_.receive.first(received_), buffers_.receive.size());
        if (!frame.ok()) co_return co_await protocol_failure(frame.error());
        if (frame->size == 0) break;
        const DecodeResult<Packet> packet =
            decode_packet(buffers_.receive.first(frame->size), options_.version);
        if (!packet.ok()) co_return co_await protocol_failure(packet.error());
        const Status handled = co_await handle(*packet);
        if (!handled.ok()) co_return handled;
        consume(frame->size);
      }
      const async::Instant deadline = keep_alive_deadline();
      Result<std::size_t> n = Status::unknown();
      if (deadline == async::kNever) {
        n = co_await read_some();
      } else {
        n = co_await async::with_deadline(deadline, read_some());
      }
      if (!n.ok()) {
        if (n.status() != Status::deadline_exceeded()) co_return n.status();
        if (ping_outstanding_) {
          MOTE_LOG_WARN("mqtt: no answer to PINGREQ");
          co_return Status::deadline_exceeded();
        }
        if (async::now() >= keep_alive_deadline()) {
          ping_outstanding_ = true;
          ping_sent_ = async::now();
          // Bounded: a write stuck behind a peer that stopped reading must
          // not stop the keep-alive from ending the connection.
          MOTE_CO_TRY(co_await async::with_timeout(options_.ping_timeout, send(Pingreq{})));
        }
        continue;
      }
      if (*n == 0) co_return stop_requested_ ? ok_status() : Status::aborted();
      received_ += *n;
      last_received_ = async::now();
      ping_outstanding_ = false;
    }
  }

  void consume(std::size_t size) {
    ByteSpan rx = buffers_.receive;
    for (std::size_t i = size; i < received_; ++i) rx[i - size] = rx[i];
    received_ -= size;
  }

  // MQTT 5: tell the server why before closing (§4.13.1).
  async::Task<Status> protocol_failure(DecodeError error) {
    MOTE_LOG_WARN("mqtt: %s (%s)", error.detail, to_string(error.reason));
    if (options_.version == ProtocolVersion::v5) {
      Disconnect packet;
      packet.reason = error.reason;
      static_cast<void>(co_await send(packet));
    }
    co_return status_of(error);
  }

  async::Task<Status> handle(const Packet& packet) {
    switch (type_of(packet)) {
      case PacketType::publish: co_return co_await on_publish(*std::get_if<Publish>(&packet));
      case PacketType::puback: {
        const auto& ack = *std::get_if<Puback>(&packet);
        if (Slot* slot = find_slot(ack.packet_id, SlotState::publish, QoS::at_least_once)) {
          complete(*slot, ok_status(), ack.reason);
          co_return co_await pump();
        }
        co_return ok_status();
      }
      case PacketType::pubrec: co_return co_await on_pubrec(*std::get_if<Pubrec>(&packet));
      case PacketType::pubrel: co_return co_await on_pubrel(*std::get_if<Pubrel>(&packet));
      case PacketType::pubcomp: {
        const auto& ack = *std::get_if<Pubcomp>(&packet);
        if (Slot* slot = find_slot(ack.packet_id, SlotState::pubrel, QoS::exactly_once)) {
          complete(*slot, ok_status(), ack.reason);
          co_return co_await pump();
        }
        co_return ok_status();
      }
      case PacketType::suback: {
        const auto& ack = *std::get_if<Suback>(&packet);
        finish_request(ack.packet_id, PacketType::suback, ack.reasons);
        co_return ok_status();
      }
      case PacketType::unsuback: {
        const auto& ack = *std::get_if<Unsuback>(&packet);
        finish_request(ack.packet_id, PacketType::unsuback, ack.reasons);
        co_return ok_status();
      }
      case PacketType::pingresp: co_return ok_status();
      case PacketType::disconnect: {
        const auto& d = *std::get_if<Disconnect>(&packet);
        MOTE_LOG_WARN("mqtt: server sent DISCONNECT: %s", to_string(d.reason));
        co_return Status::aborted();
      }
      case PacketType::auth:
        // Re-authentication (§4.12.1) is not offered, so a server has no
        // reason to send AUTH after CONNACK.
        co_return co_await protocol_failure(
            {ReasonCode::protocol_error,
             "AUTH after CONNACK (re-authentication is not supported)"});
      default:
        co_return co_await protocol_failure(
            {ReasonCode::protocol_error, "a packet a server does not send"});
    }
  }

  async::Task<Status> on_publish(const Publish& publish) {
    Message message;
    message.topic = publish.topic;
    message.payload = publish.payload;
    message.qos = publish.qos;
    message.retain = publish.retain;
    message.dup = publish.dup;
    message.packet_id = publish.packet_id;
    message.properties = publish.properties;
    if (const auto alias = publish.properties.integer(PropertyId::topic_alias)) {
      if (*alias > kLimits.inbound_topic_aliases) {
        co_return co_await protocol_failure(
            {ReasonCode::topic_alias_invalid, "Topic Alias above our maximum"});
      }
      if constexpr (kLimits.inbound_topic_aliases != 0) {
        auto& entry = inbound_aliases_[*alias - 1];
        if (!publish.topic.empty()) {
          if (!entry.assign(publish.topic).ok()) {
            co_return co_await protocol_failure({ReasonCode::implementation_specific_error,
                                                 "aliased topic longer than alias_topic_size"});
          }
        } else if (entry.size() == 0) {
          co_return co_await protocol_failure(
              {ReasonCode::protocol_error, "Topic Alias not yet defined"});
        }
        message.topic = entry.view();
      }
    }
    switch (publish.qos) {
      case QoS::at_most_once: handler_.on_message(message); co_return ok_status();
      case QoS::at_least_once: {
        handler_.on_message(message);
        Puback ack;
        ack.packet_id = publish.packet_id;
        co_return co_await send(ack);
      }
      case QoS::exactly_once: {
        bool seen = false;
        for (std::uint16_t id : incoming_qos2_) seen = seen || id == publish.packet_id;
        if (!seen) {
          if (incoming_qos2_.full()) {
            co_return co_await protocol_failure(
                {ReasonCode::receive_maximum_exceeded, "too many QoS 2 messages at once"});
          }
          incoming_qos2_.push_back(publish.packet_id);
          handler_.on_message(message);
        }
        Pubrec ack;
        ack.packet_id = publish.packet_id;
        co_return co_await send(ack);
      }
    }
    co_return ok_status();
  }

  async::Task<Status> on_pubrec(const Pubrec& ack) {
    Slot* slot = find_slot(ack.packet_id, SlotState::publish, QoS::exactly_once);
    Pubrel rel;
    rel.packet_id = ack.packet_id;
    if (slot == nullptr &&
        find_slot(ack.packet_id, SlotState::pubrel, QoS::exactly_once) != nullptr) {
      co_return co_await send(rel);  // a repeated PUBREC: release again
    }
    if (slot == nullptr) {
      // A PUBREC for a message we no longer have (§4.3.3): release it anyway.
      if (options_.version == ProtocolVersion::v5) {
        rel.reason = ReasonCode::packet_identifier_not_found;
      }
      co_return co_await send(rel);
    }
    if (is_failure(ack.reason)) {
      complete(*slot, ok_status(), ack.reason);  // the exchange ends here (§4.3.3)
      co_return co_await pump();
    }
    slot->state = SlotState::pubrel;
    co_return co_await send(rel);
  }

  async::Task<Status> on_pubrel(const Pubrel& rel) {
    Pubcomp comp;
    comp.packet_id = rel.packet_id;
    bool found = false;
    for (std::size_t i = 0; i < incoming_qos2_.size(); ++i) {
      if (incoming_qos2_[i] != rel.packet_id) continue;
      incoming_qos2_[i] = incoming_qos2_.back();
      incoming_qos2_.pop_back();
      found = true;
      break;
    }
    if (!found && options_.version == ProtocolVersion::v5) {
      comp.reason = ReasonCode::packet_identifier_not_found;
    }
    co_return co_await send(comp);
  }

  // --- Writing ---------------------------------------------------------------------

  // By value: the packet's views are the caller's, the variant itself lives
  // in this frame.
  async::Task<Status> send(Packet packet) {
    auto guard = co_await write_mutex_.lock();
    co_return co_await send_locked(packet);
  }

  // Precondition: the write mutex is held.
  async::Task<Status> send_locked(const Packet& packet) {
    if (!stream_) co_return Status::unavailable();
    const Result<std::size_t> size = encode_packet(packet, options_.version, buffers_.send);
    if (!size.ok()) co_return size.status();
    if (*size > server_settings_.maximum_packet_size) co_return Status::resource_exhausted();
    co_return co_await write_locked(buffers_.send.first(*size));
  }

  async::Task<Status> write_locked(ConstByteSpan bytes) {
    const Status status = co_await stream_->write(bytes);
    if (status.ok()) last_sent_ = async::now();
    co_return status;
  }

  // What CONNACK said the server does not offer (§3.2.2.3.11-13): the
  // server would end the connection over it.
  Status check_server_allows(std::span<const Subscription> subscriptions,
                             const Properties& properties) const {
    const ServerSettings& s = server_settings_;
    if (!s.subscription_identifiers_available &&
        properties.find(PropertyId::subscription_identifier)) {
      return Status::failed_precondition();
    }
    for (const Subscription& subscription : subscriptions) {
      const std::string_view filter = subscription.filter;
      if (!s.wildcard_subscription_available &&
          filter.find_first_of("+#") != std::string_view::npos) {
        return Status::failed_precondition();
      }
      if (!s.shared_subscription_available && options_.version == ProtocolVersion::v5 &&
          filter.starts_with("$share/")) {
        return Status::failed_precondition();
      }
    }
    return ok_status();
  }

  Status check_server_allows(const OutgoingMessage& message) const {
    if (message.qos > server_settings_.maximum_qos) return Status::failed_precondition();
    if (message.retain && !server_settings_.retain_available) return Status::failed_precondition();
    return ok_status();
  }

  async::Task<Result<ReasonCode>> publish_qos0(OutgoingMessage message) {
    std::array<std::byte, 8> alias_storage{};
    Publish packet;
    packet.retain = message.retain;
    packet.topic = message.topic;
    packet.properties = message.properties;
    packet.payload = message.payload;
    auto guard = co_await write_mutex_.lock();
    bool* established = nullptr;
    if (message.topic_alias == 0 && options_.assign_topic_aliases &&
        options_.version == ProtocolVersion::v5 && message.properties.empty()) {
      message.topic_alias = assign_topic_alias(message.topic);
    }
    if (message.topic_alias != 0) {
      if (message.topic_alias > kLimits.outbound_topic_aliases ||
          message.topic_alias > server_settings_.topic_alias_maximum ||
          !message.properties.empty()) {
        co_return Status::failed_precondition();
      }
      if constexpr (kLimits.outbound_topic_aliases != 0) {
        established = &outbound_aliases_[message.topic_alias - 1];
      }
      PropertyBuilder builder(alias_storage);
      builder.add_integer(PropertyId::topic_alias, message.topic_alias);
      packet.properties = builder.properties().value();
      if (established != nullptr && *established) packet.topic = {};
    }
    const Status status = co_await send_locked(packet);
    if (!status.ok()) co_return status;
    if (established != nullptr) *established = true;
    co_return ReasonCode::success;
  }

  // The alias for `topic` (0: none): its own if it has one, else a free one,
  // else the one assigned longest ago, remapped. An alias that changes topic
  // is no longer established, so the next PUBLISH carries the new topic.
  std::uint16_t assign_topic_alias(std::string_view topic) {
    if constexpr (kLimits.outbound_topic_aliases == 0) {
      return 0;
    } else {
      const std::size_t limit =
          server_settings_.topic_alias_maximum < kLimits.outbound_topic_aliases
              ? server_settings_.topic_alias_maximum
              : kLimits.outbound_topic_aliases;
      if (limit == 0 || topic.empty() || topic.size() > kLimits.alias_topic_size) return 0;
      for (std::size_t i = 0; i < limit; ++i) {
        if (outbound_alias_topics_[i].size() != 0 && outbound_alias_topics_[i].view() == topic) {
          return static_cast<std::uint16_t>(i + 1);
        }
      }
      std::size_t chosen = limit;
      for (std::size_t i = 0; i < limit && chosen == limit; ++i) {
        if (outbound_alias_topics_[i].size() == 0) chosen = i;
      }
      if (chosen == limit) {
        chosen = next_alias_to_remap_ % limit;
        next_alias_to_remap_ = chosen + 1;
      }
      if (!outbound_alias_topics_[chosen].assign(topic).ok()) return 0;
      outbound_aliases_[chosen] = false;
      return static_cast<std::uint16_t>(chosen + 1);
    }
  }

  // Sends what the in-flight slots owe, oldest first: PUBREL for QoS 2
  // messages past PUBREC, PUBLISH (DUP when sent before) while fewer than
  // the Receive Maximum are unacknowledged.
  async::Task<Status> pump() {
    auto guard = co_await write_mutex_.lock();
    if (!stream_ || !connected_) co_return ok_status();
    const std::size_t limit = server_settings_.receive_maximum < kLimits.max_inflight
                                  ? server_settings_.receive_maximum
                                  : kLimits.max_inflight;
    for (;;) {
      Slot* next = nullptr;
      for (Slot& slot : slots_) {
        if (slot.state == SlotState::free || slot.outstanding || slot.done.is_set()) continue;
        if (next == nullptr || slot.sequence < next->sequence) next = &slot;
      }
      if (next == nullptr) co_return ok_status();
      if (next->state == SlotState::publish && outstanding_ >= limit) co_return ok_status();
      if (next->state == SlotState::pubrel) {
        Pubrel rel;
        rel.packet_id = next->packet_id;
        MOTE_CO_TRY(co_await send_locked(rel));
      } else {
        // Queued while disconnected: the server's limits were not known then.
        if (next->size > server_settings_.maximum_packet_size) {
          complete(*next, Status::resource_exhausted(), ReasonCode::packet_too_large);
          continue;
        }
        const bool retain = (next->storage[0] & std::byte{0x01}) != std::byte{0};
        if (next->qos > server_settings_.maximum_qos ||
            (retain && !server_settings_.retain_available)) {
          complete(*next, Status::failed_precondition(), ReasonCode::qos_not_supported);
          continue;
        }
        // [MQTT-3.3.1-1]: DUP on a retransmission.
        if (next->transmitted) next->storage[0] |= std::byte{0x08};
        MOTE_CO_TRY(co_await write_locked(next->storage.first(next->size)));
        next->transmitted = true;
      }
      next->outstanding = true;
      ++outstanding_;
    }
  }

  // --- Tables ----------------------------------------------------------------------

  Slot* find_slot(std::uint16_t packet_id, SlotState state, QoS qos) {
    for (Slot& slot : slots_) {
      if (slot.state == state && slot.packet_id == packet_id && slot.qos == qos &&
          !slot.done.is_set()) {
        return &slot;
      }
    }
    return nullptr;
  }

  void complete(Slot& slot, Status status, ReasonCode reason) {
    if (slot.outstanding && outstanding_ > 0) --outstanding_;
    slot.outstanding = false;
    slot.status = status;
    slot.reason = reason;
    slot.done.set();
    if (slot.abandoned) free_slot(slot);
  }

  void free_slot(Slot& slot) {
    if (slot.outstanding && outstanding_ > 0) --outstanding_;
    slot.size = 0;
    slot.packet_id = 0;
    slot.state = SlotState::free;
    slot.transmitted = false;
    slot.outstanding = false;
    slot.abandoned = false;
    slot.status = ok_status();
    slot.reason = ReasonCode::success;
    slot.done.reset();
    slots_free_.release();
  }

  bool packet_id_in_use(std::uint16_t id) const {
    for (const Slot& slot : slots_) {
      if (slot.state != SlotState::free && slot.packet_id == id) return true;
    }
    for (const Request& request : requests_) {
      if (request.used && request.packet_id == id) return true;
    }
    return false;
  }

  // [MQTT-2.2.1-3]: non-zero, not in use.
  std::uint16_t next_packet_id() {
    for (;;) {
      last_packet_id_ = static_cast<std::uint16_t>(last_packet_id_ + 1);
      if (last_packet_id_ != 0 && !packet_id_in_use(last_packet_id_)) return last_packet_id_;
    }
  }

  template <typename P>
  async::Task<Status> request(PacketType type, P& packet, std::span<ReasonCode> results) {
    if (!connected_) co_return Status::unavailable();
    Request* request = nullptr;
    for (Request& candidate : requests_) {
      if (!candidate.used) {
        request = &candidate;
        break;
      }
    }
    if (request == nullptr) co_return Status::resource_exhausted();
    packet.packet_id = next_packet_id();
    request->used = true;
    request->packet_id = packet.packet_id;
    request->expect = type == PacketType::subscribe ? PacketType::suback : PacketType::unsuback;
    request->results = results;
    request->status = ok_status();
    request->done.reset();
    struct Release {
      Request* request;
      ~Release() {
        request->used = false;
        request->results = {};
      }
    } release{request};
    MOTE_CO_TRY(co_await send(packet));
    co_await request->done.wait();
    co_return request->status;
  }

  void finish_request(std::uint16_t packet_id, PacketType type, const ReasonCodeList& reasons) {
    for (Request& request : requests_) {
      if (!request.used || request.packet_id != packet_id || request.expect != type ||
          request.done.is_set()) {
        continue;
      }
      for (std::size_t i = 0; i < reasons.size() && i < request.results.size(); ++i) {
        request.results[i] = reasons[i];
      }
      request.status = ok_status();
      request.done.set();
      return;
    }
  }

  Connector& connector_;
  io::Endpoint server_;
  ClientBuffers buffers_;
  ClientOptions options_;
  MessageHandler& handler_;
  std::size_t slot_size_;

  std::optional<Stream> stream_;
  std::size_t received_ = 0;
  async::Mutex write_mutex_;
  async::Event connected_event_;
  async::Event stop_;
  ServerSettings server_settings_;
  InlineString<64> assigned_client_id_;
  std::optional<ReasonCode> last_refusal_;
  bool connected_ = false;
  bool stop_requested_ = false;
  bool first_connection_ = true;
  bool had_session_ = false;
  bool accepted_once_ = false;
  bool ping_outstanding_ = false;
  async::Instant last_sent_{};
  async::Instant last_received_{};
  async::Instant ping_sent_{};

  std::array<Slot, kLimits.max_inflight> slots_;
  async::Semaphore slots_free_{kLimits.max_inflight};
  std::size_t outstanding_ = 0;
  std::uint32_t next_sequence_ = 0;
  std::uint16_t last_packet_id_ = 0;
  InlineVector<std::uint16_t, kLimits.max_incoming_qos2> incoming_qos2_;
  std::array<Request, kLimits.max_pending_requests> requests_;
  std::array<InlineString<kLimits.alias_topic_size>, kLimits.inbound_topic_aliases>
      inbound_aliases_;
  std::array<bool, kLimits.outbound_topic_aliases> outbound_aliases_{};
  // The topics assign_topic_aliases gave aliases to (alias i + 1).
  std::array<InlineString<kLimits.alias_topic_size>, kLimits.outbound_topic_aliases>
      outbound_alias_topics_{};
  std::size_t next_alias_to_remap_ = 0;
};

}  // namespace mote::mqtt
