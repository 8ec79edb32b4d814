#pragma once
// One client connection's protocol state: it takes whole packets (framed by
// the I/O loop in serve.hpp), talks to Core, and produces the bytes to send.
// No I/O and no templates, so it is tested without sockets.
//
//   CONNECT    version, client id (assigned when empty: MQTT 5, or 3.1.1
//              with clean session), authentication, session present,
//              takeover of a connection holding the same id, will
//   PUBLISH    topic aliases (MQTT 5, inbound), ACL "write", routing;
//              PUBACK / PUBREC once Core says the message is durable,
//              in the order the PUBLISHes came
//   SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT (reason 0x04 sends the will;
//              a Session Expiry Interval may be changed unless it was 0)
//   outbound   the session's messages within the client's Receive Maximum
//              and Maximum Packet Size (a message too large for the client
//              is dropped as if delivered, §3.1.2.11.4)
//   errors     MQTT 5: DISCONNECT (or CONNACK) with the reason code, then
//              close; MQTT 3.1.1: close
//
// Limits: output waiting to be written is capped (output_backlog(); the
// reader stops reading while it is over); keep-alive is 1.5 times the
// client's value (§3.1.2.10).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mote/async/event.hpp"
#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/broker/core.hpp"
#include "mote/broker/enhanced_auth.hpp"
#include "mote/mqtt/codec.hpp"

namespace mote::broker {

struct Limits {
  std::size_t max_connections = 10'000;                    // 0: no limit
  std::size_t max_packet_size = std::size_t{1024} * 1024;  // inbound, whole packet
  std::size_t max_queued_messages = 1000;                  // per session
  std::uint16_t topic_alias_maximum = 64;  // inbound aliases per connection (MQTT 5)
  std::uint16_t max_keep_alive_s = 0;      // 0: accept the client's; else the most allowed
  async::Duration connect_timeout = std::chrono::seconds(10);  // for the CONNECT to arrive
  std::size_t max_output_backlog = std::size_t{1024} * 1024;   // bytes waiting for the socket
};

// Who may connect and publish. Empty functions allow everything.
struct AccessPolicy {
  bool allow_anonymous = true;
  // A user name and password (nullopt: none sent) are good.
  std::function<bool(std::string_view user, std::optional<ConstByteSpan> password)> check_password;
  // A client may publish to `topic` (ACL "write").
  std::function<bool(std::string_view client_id, std::string_view user, std::string_view topic)>
      may_publish;
  // MQTT 5 enhanced authentication (§4.12): one mechanism per
  // Authentication Method (e.g. ScramSha1Mechanism). A CONNECT naming
  // another method is refused with Bad authentication method (0x8C).
  std::vector<std::shared_ptr<const AuthMechanism>> auth_mechanisms;
};

// Told when a connection has output to write or is closing, for a server
// that keeps an idle connection without a task waiting on output_ready().
class ConnectionObserver {
 public:
  virtual void on_output() = 0;

 protected:
  ~ConnectionObserver() = default;
};

// What the tasks serving a connection wait on. The serving side owns them
// and attaches them while it serves (an idle connection has none: its
// ConnectionObserver hears of output instead).
struct ConnectionSignals {
  async::Event output_ready;     // output, or closing; the writer resets it
  async::Event backlog_drained;  // the output backlog is below the limit again
  async::Event durable;          // the ticket of request_durable() is durable
};

class Connection final : public SessionOwner {
 public:
  Connection(Core& core, const Limits& limits, const AccessPolicy& access);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A whole packet (frame_packet framed it). false: stop reading; the
  // connection closes once its output is written.
  bool on_packet(ConstByteSpan packet);
  // frame_packet refused the stream (malformed length, too large).
  void on_frame_error(mqtt::DecodeError error);
  // The stream ended: `timed_out` for the keep-alive, else EOF or an error.
  void on_read_end(bool timed_out);

  // Moves output into `out` (replacing its contents), up to about `budget`
  // bytes. Returns a ticket that must be durable (Core::when_durable)
  // before these bytes are written, or 0.
  std::uint64_t take_output(std::vector<std::byte>& out, std::size_t budget);
  [[nodiscard]] bool has_output() const;
  [[nodiscard]] std::size_t output_backlog() const { return control_.size(); }
  // More output waits than limits.max_output_backlog: stop reading.
  [[nodiscard]] bool backlog_full() const { return control_.size() > limits_.max_output_backlog; }
  // The serving side's signals (nullptr: none). Set while attached:
  // output_ready when there is output (or closing; the writer resets it),
  // backlog_drained when the backlog drops below the limit again.
  void attach(ConnectionSignals* signals) { signals_ = signals; }
  async::Event& output_ready() { return signals_->output_ready; }
  async::Event& backlog_drained() { return signals_->backlog_drained; }
  // Also tells `observer` (nullptr: nobody) each time there is output.
  void set_observer(ConnectionObserver* observer) { observer_ = observer; }
  // A message this client published went to a session whose queue is half
  // full: the reader pauses a little (flow control towards the publisher)
  // before reading more, so a burst does not overflow a subscriber that is
  // only slower. Bounded: a stuck subscriber gets the drop policy instead.
  [[nodiscard]] bool congested() const;
  // Nothing more will be read; after the output is written, close.
  [[nodiscard]] bool closing() const { return closing_; }
  // How long a read may wait: 1.5 x keep-alive, the CONNECT timeout before
  // CONNECT, zero for no limit.
  [[nodiscard]] async::Duration read_timeout() const;
  [[nodiscard]] std::size_t max_packet_size() const { return limits_.max_packet_size; }

  // Waits until `ticket` is durable (the writer holds QoS 2 sends so).
  async::Event& durable() { return signals_->durable; }
  void request_durable(std::uint64_t ticket);

  // Frees buffers that hold nothing (an idle connection keeps no capacity).
  void release_idle_buffers();

  // Ends the session's connection in Core (idempotent; the destructor calls it).
  void finish();

  [[nodiscard]] bool connected() const { return connected_; }
  [[nodiscard]] mqtt::ProtocolVersion version() const { return version_; }
  [[nodiscard]] const std::string& client_id() const;

  // SessionOwner
  void wake() override;
  void taken_over() override;

 private:
  bool dispatch(const mqtt::Packet& packet);
  bool on_connect(const mqtt::Connect& connect, ConstByteSpan bytes);
  // The CONNECT is authenticated (by password, or by `proven` from an
  // enhanced authentication): session, will, CONNACK.
  bool accept_connect(const mqtt::Connect& connect, const AuthStep* proven);
  // The next step of an enhanced authentication, before CONNACK or while connected.
  bool on_auth(const mqtt::Auth& auth);
  bool auth_step(ConstByteSpan data);
  [[nodiscard]] mqtt::Properties auth_properties(ConstByteSpan data,
                                                 std::vector<std::byte>& storage) const;
  bool on_publish(const mqtt::Publish& publish);
  MessagePtr message_of(const mqtt::Publish& publish, std::string_view topic,
                        std::int64_t now_ms) const;
  bool on_subscribe(const mqtt::Subscribe& subscribe);
  bool on_unsubscribe(const mqtt::Unsubscribe& unsubscribe);
  bool on_disconnect(const mqtt::Disconnect& disconnect);
  // Queues `packet` for sending (control packets: acks, CONNACK, ...).
  void send(const mqtt::Packet& packet);
  // Queues a PUBACK/PUBREC that may go only once `ticket` is durable, in order.
  void send_when_durable(std::uint64_t ticket, const mqtt::Packet& packet);
  // MQTT 5: DISCONNECT with `reason`; then close (3.1.1: just close).
  bool fail(mqtt::ReasonCode reason, const char* why);
  void refuse_connect(mqtt::ReasonCode reason, const char* why);
  void resend_in_flight();
  bool encode_outbound(const Outbound& outbound, bool dup, std::vector<std::byte>& out);
  void close();
  void signal_output();  // output_ready and the observer

  Core& core_;
  const Limits& limits_;
  const AccessPolicy& access_;
  Session* session_ = nullptr;
  mqtt::ProtocolVersion version_ = mqtt::ProtocolVersion::v5;
  bool connected_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool publish_will_ = true;  // cleared by a normal DISCONNECT
  std::uint16_t keep_alive_s_ = 0;
  std::uint32_t client_max_packet_size_ = 0;  // 0: no limit
  std::optional<std::uint32_t> disconnect_expiry_;
  // The client id and user name before CONNACK and after the session is
  // gone; while connected the session holds them (one copy).
  struct Identity {
    std::string client_id;
    std::string username;
  };
  std::unique_ptr<Identity> identity_;
  Identity& identity();  // made when needed
  [[nodiscard]] const std::string& username() const;
  // Inbound topic aliases (MQTT 5), made with the first one.
  std::unique_ptr<std::unordered_map<std::uint16_t, std::string>> aliases_;
  // Enhanced authentication: the mechanism of the CONNECT's method, the
  // exchange under way, and the CONNECT waiting for it to end. Made when a
  // CONNECT names a method.
  struct EnhancedAuth {
    const AuthMechanism* mechanism = nullptr;
    std::unique_ptr<AuthExchange> exchange;
    std::vector<std::byte> pending_connect;
  };
  std::unique_ptr<EnhancedAuth> auth_;
  std::vector<std::byte> control_;  // encoded packets waiting to be written
  SessionId congested_session_ = 0;
  ConnectionSignals* signals_ = nullptr;
  ConnectionObserver* observer_ = nullptr;
  // Acknowledgements held until their message is durable; the handle the
  // callbacks find this connection through (or see it is gone). Made with
  // the first held acknowledgement or durable wait.
  struct Durability {
    std::shared_ptr<Connection*> handle;
    std::uint64_t last_ack_ticket = 0;  // acks keep their order behind held ones
    std::size_t held_acks = 0;
  };
  std::unique_ptr<Durability> durability_;
  Durability& durability();
};

}  // namespace mote::broker
