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
#include "mote/mqtt/authenticator.hpp"
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
  // the server's Topic Alias Maximum).
  std::size_t outbound_topic_aliases = 0;
  // Bytes for the properties of the AUTH packets this client sends
  // (enhanced authentication, §4.12): the method's name and its longest
  // Authentication Data, plus 6. SCRAM-SHA-1 needs about 200. 0: no
  // enhanced authentication (its code is left out; setting an
  // authenticator is then a programming error).
  std::size_t auth_properties_size = 0;
  // Subscriptions remembered for automatic re-subscription
  // (ClientOptions::resubscribe), and the longest filter remembered.
  std::size_t max_subscriptions = 4;
  std::size_t subscription_filter_size = 64;
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
  // More CONNECT properties (MQTT 5): user properties, Request Problem
  // Information... The client adds Session Expiry Interval, Receive Maximum,
  // Maximum Packet Size and Topic Alias Maximum itself (copies of those
  // here are left out).
  Properties connect_properties;
  // MQTT 5 enhanced authentication (§4.12): the method and its exchange
  // (e.g. ScramSha1Authenticator). Must outlive the client. Needs
  // ClientLimits::auth_properties_size for the AUTH packets.
  Authenticator* authenticator = nullptr;
  // After a reconnect on which the server has no session (CONNACK Session
  // Present 0), subscribe again to what subscribe() was granted and
  // unsubscribe() did not remove (up to ClientLimits::max_subscriptions).
  bool resubscribe = true;
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
  // MQTT 5: 1..outbound_topic_aliases, with no other properties. The first
  // PUBLISH with it on a connection sends topic and alias, later ones only
  // the alias. An alias must always stand for the same topic. QoS 1/2
  // messages are stored with their topic; a resend on a new connection
  // (where aliases start over) sends the topic again.
  std::uint16_t topic_alias = 0;
};

// The Status for a refused CONNACK: retrying will not help with these.
Status status_of_refusal(ReasonCode reason);
// Whether a CONNACK refusal is worth retrying (server busy, unavailable, ...).
bool is_transient_refusal(ReasonCode reason);
// Where the 4-byte value of a Message Expiry Interval sits in a block of
// checked property bytes; nullopt when there is none.
std::optional<std::size_t> message_expiry_offset(ConstByteSpan properties);

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
    // An authenticator needs room for its AUTH packets' properties.
    MOTE_ASSERT(options.authenticator == nullptr || kLimits.auth_properties_size != 0);
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
      // The server failed the authenticator's check: retrying cannot fix it.
      if (authentication_failed_) co_return status;
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
    authentication_failed_ = false;
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
    // Aliases carry no other properties (as for QoS 0).
    if (message.topic_alias != 0 &&
        (message.topic_alias > kLimits.outbound_topic_aliases || !message.properties.empty())) {
      co_return Status::failed_precondition();
    }
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
    slot->expiry_offset = 0;
    slot->expiry_interval = 0;
    if (const auto expiry = message.properties.integer(PropertyId::message_expiry_interval)) {
      // Found again in the stored bytes, to count it down when sent (§3.3.2.3.3).
      const DecodeResult<Packet> stored =
          decode_packet(slot->storage.first(*size), options_.version);
      const auto* publish = stored.ok() ? std::get_if<Publish>(&*stored) : nullptr;
      if (publish == nullptr) co_return Status::internal();
      const ConstByteSpan block = publish->properties.bytes();
      const std::optional<std::size_t> offset = message_expiry_offset(block);
      if (!offset) co_return Status::internal();
      slot->expiry_offset = static_cast<std::size_t>(block.data() - slot->storage.data()) + *offset;
      slot->expiry_interval = *expiry;
      slot->stored_at = async::now();
    }
    slot->qos = message.qos;
    slot->topic_alias = message.topic_alias;
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
    MOTE_CO_TRY(co_await request(PacketType::subscribe, packet, granted));
    const std::uint32_t identifier =
        properties.integer(PropertyId::subscription_identifier).value_or(0);
    for (std::size_t i = 0; i < subscriptions.size(); ++i) {
      // Codes beyond `granted` were not seen: assume the grant.
      if (i < granted.size() && is_failure(granted[i])) continue;
      remember(subscriptions[i], identifier);
    }
    co_return ok_status();
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
    MOTE_CO_TRY(co_await request(PacketType::unsubscribe, packet, results));
    for (std::string_view filter : filters) forget(filter);
    co_return ok_status();
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

  // MQTT 5 re-authentication (§4.12.1): AUTH Re-authenticate with a new
  // exchange of options.authenticator, while the connection carries on.
  // ok once the server answered AUTH Success and the authenticator accepted
  // its data. A server that refuses ends the connection (DISCONNECT), and
  // this returns aborted; an authenticator that refuses the server's data
  // ends it too (unauthenticated, and run() stops). Errors: unavailable
  // (not connected), failed_precondition (no authenticator, MQTT 3.1.1, or
  // a re-authentication already running), resource_exhausted (the AUTH
  // does not fit ClientLimits::auth_properties_size).
  async::Task<Status> reauthenticate() {
    if (!connected_) co_return Status::unavailable();
    if (!authenticating() || reauthenticating_) co_return Status::failed_precondition();
    reauthenticating_ = true;
    reauthenticated_.reset();
    struct Done {
      bool* flag;
      ~Done() { *flag = false; }
    } done{&reauthenticating_};
    const Result<ConstByteSpan> data = options_.authenticator->start();
    if (!data.ok()) co_return data.status();
    MOTE_CO_TRY(co_await send_auth(ReasonCode::re_authenticate, *data));
    co_await reauthenticated_.wait();
    co_return reauthentication_status_;
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
    // Outbound Topic Alias; the slot holds the PUBLISH with its full topic
    // and no alias, which is added when sent (aliases are per connection).
    std::uint16_t topic_alias = 0;
    // MQTT 5 Message Expiry Interval: where its value sits in `storage`
    // (0: none), its value, and when the message was stored.
    std::size_t expiry_offset = 0;
    std::uint32_t expiry_interval = 0;
    async::Instant stored_at{};
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

  struct RememberedSubscription {
    bool used = false;
    InlineString<kLimits.subscription_filter_size> filter;
    SubscribeOptions options;
    std::uint32_t identifier = 0;  // Subscription Identifier (MQTT 5); 0: none
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
    // CONNACK is the first packet the server may send [MQTT-3.2.0-1], but
    // for the AUTH packets of an enhanced authentication (§4.12).
    for (;;) {
      MOTE_CO_TRY_ASSIGN(const std::size_t size, co_await read_frame());
      const DecodeResult<Packet> packet =
          decode_packet(buffers_.receive.first(size), options_.version);
      if (!packet.ok()) co_return packet.status();
      if (const auto* auth = std::get_if<Auth>(&*packet)) {
        MOTE_CO_TRY(co_await on_auth(*auth));
        consume(size);
        continue;
      }
      const auto* connack = std::get_if<Connack>(&*packet);
      if (connack == nullptr) co_return Status::data_loss();
      if (connack->reason != ReasonCode::success) {
        last_refusal_ = connack->reason;
        MOTE_LOG_WARN("mqtt: CONNACK refused: %s", to_string(connack->reason));
        co_return status_of_refusal(connack->reason);
      }
      if (authenticating()) {
        // The server's last word (SCRAM: its signature) must check out
        // before the connection counts as accepted.
        const Status verified = finish_authentication(connack->properties);
        if (!verified.ok()) {
          Disconnect refusal;
          refusal.reason = ReasonCode::unspecified_error;
          static_cast<void>(co_await send(refusal));
          co_return verified;
        }
      }
      accept(*connack);
      consume(size);
      co_return ok_status();
    }
  }

  // Reads until the receive buffer holds a whole packet; its size.
  async::Task<Result<std::size_t>> read_frame() {
    for (;;) {
      const DecodeResult<Frame> frame =
          frame_packet(buffers_.receive.first(received_), buffers_.receive.size());
      if (!frame.ok()) co_return frame.status();
      if (frame->size != 0) co_return frame->size;
      if (received_ == buffers_.receive.size()) co_return Status::resource_exhausted();
      Result<std::size_t> n = co_await stream_->read(buffers_.receive.subspan(received_));
      if (!n.ok()) co_return n.status();
      if (*n == 0) co_return Status::aborted();
      received_ += *n;
    }
  }

  // --- Enhanced authentication (§4.12) -------------------------------------------

  // Constant false without room for AUTH properties: the compiler drops the
  // exchange from clients that do not authenticate (firmware size).
  [[nodiscard]] bool authenticating() const {
    return kLimits.auth_properties_size != 0 && options_.authenticator != nullptr &&
           options_.version == ProtocolVersion::v5;
  }

  // The Authentication Method of a server's CONNACK / AUTH must be ours
  // [MQTT-4.12.0-5]; then the authenticator checks the final data.
  Status finish_authentication(const Properties& properties) {
    const std::optional<std::string_view> method =
        properties.string(PropertyId::authentication_method);
    Status status = Status::unauthenticated();
    if (method && *method == options_.authenticator->method()) {
      const std::optional<Property> data = properties.find(PropertyId::authentication_data);
      status = options_.authenticator->finish(data ? data->binary : BinaryData{});
    }
    if (!status.ok()) {
      MOTE_LOG_WARN("mqtt: the server did not complete %.*s authentication",
                    static_cast<int>(options_.authenticator->method().size()),
                    options_.authenticator->method().data());
      authentication_failed_ = true;
    }
    return status;
  }

  // An AUTH from the server, during CONNECT or a re-authentication.
  async::Task<Status> on_auth(const Auth& auth) {
    if constexpr (kLimits.auth_properties_size == 0) {
      co_return co_await protocol_failure({ReasonCode::protocol_error, "an unexpected AUTH"});
    }
    const bool expected = authenticating() && (!connected_ || reauthenticating_);
    if (!expected || (auth.reason != ReasonCode::continue_authentication &&
                      !(connected_ && auth.reason == ReasonCode::success))) {
      co_return co_await protocol_failure({ReasonCode::protocol_error, "an unexpected AUTH"});
    }
    if (auth.reason == ReasonCode::success) {
      const Status verified = finish_authentication(auth.properties);
      end_reauthentication(verified);
      if (!verified.ok()) {
        co_return co_await protocol_failure(
            {ReasonCode::unspecified_error, "re-authentication not proven"});
      }
      co_return ok_status();
    }
    const std::optional<std::string_view> method =
        auth.properties.string(PropertyId::authentication_method);
    if (!method || *method != options_.authenticator->method()) {
      co_return co_await protocol_failure(
          {ReasonCode::protocol_error, "AUTH with another Authentication Method"});
    }
    const std::optional<Property> data = auth.properties.find(PropertyId::authentication_data);
    const Result<ConstByteSpan> answer =
        options_.authenticator->challenge(data ? data->binary : BinaryData{});
    if (!answer.ok()) {
      authentication_failed_ = true;
      end_reauthentication(answer.status());
      co_return co_await protocol_failure(
          {ReasonCode::unspecified_error, "the authenticator refused the server's challenge"});
    }
    co_return co_await send_auth(ReasonCode::continue_authentication, *answer);
  }

  async::Task<Status> send_auth(ReasonCode reason, ConstByteSpan data) {
    if constexpr (kLimits.auth_properties_size == 0) {
      co_return Status::resource_exhausted();
    } else {
      auto guard = co_await write_mutex_.lock();
      PropertyBuilder builder(auth_properties_);
      builder.add_string(PropertyId::authentication_method, options_.authenticator->method());
      if (!data.empty()) builder.add_binary(PropertyId::authentication_data, data);
      Result<Properties> properties = builder.properties();
      if (!properties.ok()) co_return properties.status();
      Auth packet;
      packet.reason = reason;
      packet.properties = *properties;
      co_return co_await send_locked(packet);
    }
  }

  void end_reauthentication(Status status) {
    if (!reauthenticating_ || reauthenticated_.is_set()) return;
    reauthentication_status_ = status;
    reauthenticated_.set();
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
      for (const Property& property : options_.connect_properties) {
        // The client's own values stand: they describe its buffers and tables.
        if (property.id == PropertyId::session_expiry_interval ||
            property.id == PropertyId::receive_maximum ||
            property.id == PropertyId::maximum_packet_size ||
            property.id == PropertyId::topic_alias_maximum ||
            (authenticating() && (property.id == PropertyId::authentication_method ||
                                  property.id == PropertyId::authentication_data))) {
          continue;
        }
        builder.add(property);
      }
      if (authenticating()) {
        builder.add_string(PropertyId::authentication_method, options_.authenticator->method());
        const Result<ConstByteSpan> data = options_.authenticator->start();
        if (!data.ok()) co_return data.status();
        if (!data->empty()) builder.add_binary(PropertyId::authentication_data, *data);
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
    resubscribe_ids_.clear();
    if (!connack.session_present && options_.resubscribe) {
      resubscribe_due_ = false;
      for (const RememberedSubscription& remembered : subscriptions_) {
        resubscribe_due_ = resubscribe_due_ || remembered.used;
      }
    }
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
    end_reauthentication(Status::aborted());
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
    if (resubscribe_due_) {
      resubscribe_due_ = false;
      MOTE_CO_TRY(co_await resubscribe());
    }
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
        for (std::size_t i = 0; i < resubscribe_ids_.size(); ++i) {
          if (resubscribe_ids_[i] != ack.packet_id) continue;
          if (ack.reasons.size() != 0 && is_failure(ack.reasons[0])) {
            MOTE_LOG_WARN("mqtt: re-subscription refused: %s", to_string(ack.reasons[0]));
          }
          resubscribe_ids_[i] = resubscribe_ids_.back();
          resubscribe_ids_.pop_back();
          co_return ok_status();
        }
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
      case PacketType::auth: co_return co_await on_auth(*std::get_if<Auth>(&packet));
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
    message.packet_id = publish.packet_id;
    message.dup = publish.dup;
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

  // A stored QoS 1/2 PUBLISH with its Topic Alias: topic and alias the first
  // time on this connection, the alias alone after (§3.3.2.3.4). Precondition:
  // the write mutex is held.
  async::Task<Status> write_aliased_locked(Slot& slot) {
    {
      const DecodeResult<Packet> stored =
          decode_packet(slot.storage.first(slot.size), options_.version);
      if (!stored.ok()) co_return Status::internal();
      Publish packet = *std::get_if<Publish>(&*stored);
      std::array<std::byte, 8> alias_storage{};
      PropertyBuilder builder(alias_storage);
      builder.add_integer(PropertyId::topic_alias, slot.topic_alias);
      packet.properties = builder.properties().value();
      bool& established = outbound_aliases_[slot.topic_alias - 1];
      if (established) packet.topic = {};
      MOTE_CO_TRY(co_await send_locked(packet));
      established = true;
      co_return ok_status();
    }
  }

  // §3.3.2.3.3: the interval goes out less the time the message waited
  // here. false: it expired — dropped, unless it is a QoS 2 message already
  // sent (the server may hold its packet identifier: the exchange must
  // finish, so it goes with 1 s left).
  bool count_down_expiry(Slot& slot) {
    const auto waited =
        std::chrono::duration_cast<std::chrono::seconds>(async::now() - slot.stored_at);
    const auto waited_s = static_cast<std::uint64_t>(waited.count() < 0 ? 0 : waited.count());
    std::uint32_t remaining = 1;
    if (waited_s < slot.expiry_interval) {
      remaining = slot.expiry_interval - static_cast<std::uint32_t>(waited_s);
    } else if (!(slot.qos == QoS::exactly_once && slot.transmitted)) {
      return false;
    }
    std::byte* value = slot.storage.data() + slot.expiry_offset;
    value[0] = static_cast<std::byte>(remaining >> 24);
    value[1] = static_cast<std::byte>(remaining >> 16);
    value[2] = static_cast<std::byte>(remaining >> 8);
    value[3] = static_cast<std::byte>(remaining);
    return true;
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
        if (next->expiry_offset != 0 && !count_down_expiry(*next)) {
          complete(*next, Status::deadline_exceeded(), ReasonCode::unspecified_error);
          continue;
        }
        // [MQTT-3.3.1-1]: DUP on a retransmission.
        if (next->transmitted) next->storage[0] |= std::byte{0x08};
        bool aliased = false;
        if constexpr (kLimits.outbound_topic_aliases != 0) {
          aliased =
              next->topic_alias != 0 && next->topic_alias <= server_settings_.topic_alias_maximum;
          if (aliased) MOTE_CO_TRY(co_await write_aliased_locked(*next));
        }
        if (!aliased) MOTE_CO_TRY(co_await write_locked(next->storage.first(next->size)));
        next->transmitted = true;
      }
      next->outstanding = true;
      ++outstanding_;
    }
  }

  // --- Re-subscription ---------------------------------------------------------------

  void remember(const Subscription& subscription, std::uint32_t identifier) {
    RememberedSubscription* slot = nullptr;
    for (RememberedSubscription& remembered : subscriptions_) {
      if (remembered.used && remembered.filter.view() == subscription.filter) {
        slot = &remembered;
        break;
      }
      if (!remembered.used && slot == nullptr) slot = &remembered;
    }
    if (slot == nullptr || !slot->filter.assign(subscription.filter).ok()) {
      MOTE_LOG_WARN("mqtt: subscription to %.*s not remembered for re-subscription",
                    static_cast<int>(subscription.filter.size()), subscription.filter.data());
      return;
    }
    slot->used = true;
    slot->options = subscription.options;
    slot->identifier = identifier;
  }

  void forget(std::string_view filter) {
    for (RememberedSubscription& remembered : subscriptions_) {
      if (remembered.used && remembered.filter.view() == filter) {
        remembered.used = false;
        remembered.filter.clear();
      }
    }
  }

  // The server has no session: SUBSCRIBE again, one filter a packet (each
  // with its Subscription Identifier), without waiting for the SUBACKs
  // (the reader takes them).
  async::Task<Status> resubscribe() {
    for (const RememberedSubscription& remembered : subscriptions_) {
      if (!remembered.used || resubscribe_ids_.full()) continue;
      std::array<std::byte, 8> storage{};
      PropertyBuilder builder(storage);
      if (remembered.identifier != 0 && options_.version == ProtocolVersion::v5) {
        builder.add_integer(PropertyId::subscription_identifier, remembered.identifier);
      }
      const std::array<Subscription, 1> list{{{remembered.filter.view(), remembered.options}}};
      Subscribe packet;
      packet.properties = builder.properties().value();
      packet.subscriptions = list;
      packet.packet_id = next_packet_id();
      resubscribe_ids_.push_back(packet.packet_id);
      MOTE_CO_TRY(co_await send(packet));
    }
    co_return ok_status();
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
    slot.topic_alias = 0;
    slot.expiry_offset = 0;
    slot.expiry_interval = 0;
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
    for (std::uint16_t pending : resubscribe_ids_) {
      if (pending == id) return true;
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
  bool authentication_failed_ = false;
  bool reauthenticating_ = false;
  async::Event reauthenticated_;
  Status reauthentication_status_;
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
  std::array<std::byte, kLimits.auth_properties_size> auth_properties_{};
  std::array<RememberedSubscription, kLimits.max_subscriptions> subscriptions_;
  InlineVector<std::uint16_t, kLimits.max_subscriptions> resubscribe_ids_;
  bool resubscribe_due_ = false;
};

}  // namespace mote::mqtt
