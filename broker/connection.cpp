#include "mote/broker/connection.hpp"

#include <algorithm>

#include "mote/base/log.hpp"
#include "mote/mqtt/topic.hpp"

namespace mote::broker {
namespace {

using mqtt::PropertyId;
using mqtt::ProtocolVersion;
using mqtt::ReasonCode;

std::vector<std::uint8_t> to_vector(mqtt::BinaryData data) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
  return {bytes, bytes + data.size()};
}

// The MQTT 5 properties a PUBLISH (or a will) carries on to subscribers.
void copy_message_properties(const mqtt::Properties& properties, std::int64_t now_ms,
                             Message& message) {
  for (const mqtt::Property& property : properties) {
    switch (property.id) {
      case PropertyId::payload_format_indicator:
        message.payload_format = static_cast<std::uint8_t>(property.integer);
        break;
      case PropertyId::message_expiry_interval:
        message.expires_at_ms = now_ms + static_cast<std::int64_t>(property.integer) * 1000;
        break;
      case PropertyId::content_type: message.content_type = std::string(property.string); break;
      case PropertyId::response_topic: message.response_topic = std::string(property.string); break;
      case PropertyId::correlation_data:
        message.correlation_data = to_vector(property.binary);
        break;
      case PropertyId::user_property:
        message.user_properties.push_back(
            {std::string(property.string), std::string(property.value)});
        break;
      default: break;  // topic alias, subscription ids: not passed on
    }
  }
}

void append_encoded(const mqtt::Packet& packet, ProtocolVersion version,
                    std::vector<std::byte>& out) {
  const Result<std::size_t> size = mqtt::encoded_size(packet, version);
  if (!size.ok()) {
    MOTE_LOG_ERROR("broker: cannot encode a %s packet", mqtt::to_string(mqtt::type_of(packet)));
    return;
  }
  const std::size_t at = out.size();
  out.resize(at + *size);
  const Result<std::size_t> written =
      mqtt::encode_packet(packet, version, ByteSpan(out).subspan(at));
  if (!written.ok()) out.resize(at);
}

bool is_v5(ProtocolVersion version) { return version == ProtocolVersion::v5; }

}  // namespace

Connection::Connection(Core& core, const Limits& limits, const AccessPolicy& access)
    : core_(core), limits_(limits), access_(access) {}

Connection::~Connection() {
  if (durability_) *durability_->handle = nullptr;
  finish();
}

void Connection::finish() {
  if (finished_) return;
  finished_ = true;
  if (session_ != nullptr) {
    Session* session = session_;
    session_ = nullptr;
    identity().client_id = session->client_id();  // the session may go now
    core_.disconnect(*session, *this, publish_will_, disconnect_expiry_);
    core_.request_commit();
  }
}

Connection::Identity& Connection::identity() {
  if (!identity_) identity_ = std::make_unique<Identity>();
  return *identity_;
}

const std::string& Connection::client_id() const {
  static const std::string kNone;
  if (session_ != nullptr) return session_->client_id();
  return identity_ ? identity_->client_id : kNone;
}

const std::string& Connection::username() const {
  static const std::string kNone;
  if (session_ != nullptr) return session_->username();
  return identity_ ? identity_->username : kNone;
}

Connection::Durability& Connection::durability() {
  if (!durability_) {
    durability_ = std::make_unique<Durability>();
    durability_->handle = std::make_shared<Connection*>(this);
  }
  return *durability_;
}

void Connection::release_idle_buffers() {
  if (control_.empty()) std::vector<std::byte>().swap(control_);
}

void Connection::close() {
  closing_ = true;
  signal_output();
}

void Connection::signal_output() {
  if (signals_ != nullptr) signals_->output_ready.set();
  if (observer_ != nullptr) observer_->on_output();
}

void Connection::wake() { signal_output(); }

void Connection::taken_over() {
  if (session_ != nullptr) identity().client_id = session_->client_id();
  session_ = nullptr;
  if (is_v5(version_)) send(mqtt::Disconnect{ReasonCode::session_taken_over, {}});
  close();
}

void Connection::send(const mqtt::Packet& packet) {
  append_encoded(packet, version_, control_);
  signal_output();
}

void Connection::send_when_durable(std::uint64_t ticket, const mqtt::Packet& packet) {
  // Acknowledgements go out in the order the PUBLISHes came (§4.6): one
  // that needs no wait still queues behind a held one.
  if (durability_ && durability_->held_acks > 0) {
    ticket = std::max(ticket, durability_->last_ack_ticket);
  }
  if (ticket == 0) {
    send(packet);
    return;
  }
  Durability& held = durability();
  held.last_ack_ticket = ticket;
  ++held.held_acks;
  std::vector<std::byte> bytes;
  append_encoded(packet, version_, bytes);
  core_.when_durable(ticket, [self = held.handle, bytes = std::move(bytes)](bool ok) {
    Connection* connection = *self;
    if (connection == nullptr) return;
    --connection->durability_->held_acks;
    if (!ok) {
      // Not stored: no acknowledgement; the client sends it again elsewhen.
      connection->fail(ReasonCode::unspecified_error, "the message could not be stored");
      return;
    }
    connection->control_.insert(connection->control_.end(), bytes.begin(), bytes.end());
    connection->signal_output();
  });
}

void Connection::request_durable(std::uint64_t ticket) {
  if (signals_ != nullptr) signals_->durable.reset();
  core_.when_durable(ticket, [self = durability().handle](bool) {
    Connection* connection = *self;
    if (connection != nullptr && connection->signals_ != nullptr) {
      connection->signals_->durable.set();
    }
  });
}

bool Connection::fail(ReasonCode reason, const char* why) {
  MOTE_LOG_INFO("broker: closing '%s': %s (%s)", client_id().c_str(), why, mqtt::to_string(reason));
  if (connected_ && is_v5(version_)) send(mqtt::Disconnect{reason, {}});
  close();
  return false;
}

void Connection::refuse_connect(ReasonCode reason, const char* why) {
  MOTE_LOG_INFO("broker: refused a connection: %s (%s)", why, mqtt::to_string(reason));
  send(mqtt::Connack{false, reason, {}});
  close();
}

bool Connection::congested() const {
  return congested_session_ != 0 && core_.is_congested(congested_session_);
}

async::Duration Connection::read_timeout() const {
  if (!connected_) return limits_.connect_timeout;
  if (keep_alive_s_ == 0) return async::Duration::zero();
  // §3.1.2.10: one and a half times the Keep Alive.
  return std::chrono::milliseconds(static_cast<std::int64_t>(keep_alive_s_) * 1500);
}

void Connection::on_frame_error(mqtt::DecodeError error) {
  if (!connected_) {
    close();
    return;
  }
  fail(error.reason, error.detail);
}

void Connection::on_read_end(bool timed_out) {
  if (timed_out && connected_) {
    fail(ReasonCode::keep_alive_timeout, "keep-alive timeout");
  } else {
    close();
  }
}

bool Connection::on_packet(ConstByteSpan bytes) {
  if (closing_) return false;
  core_.stats().bytes_received += bytes.size();
  const mqtt::DecodeResult<mqtt::Packet> decoded = mqtt::decode_packet(bytes, version_);
  if (!connected_ && auth_ && auth_->exchange) {
    // Between CONNECT and CONNACK of an enhanced authentication only AUTH
    // and DISCONNECT may come [MQTT-3.1.2-30].
    if (!decoded.ok()) {
      refuse_connect(decoded.error().reason, decoded.error().detail);
      return false;
    }
    if (const auto* auth = std::get_if<mqtt::Auth>(&decoded.value())) return on_auth(*auth);
    if (std::holds_alternative<mqtt::Disconnect>(decoded.value())) {
      close();
      return false;
    }
    refuse_connect(ReasonCode::protocol_error, "a packet other than AUTH before CONNACK");
    return false;
  }
  if (!connected_) {
    if (!decoded.ok()) {
      if (decoded.error().reason == ReasonCode::unsupported_protocol_version) {
        version_ = ProtocolVersion::v311;  // answer in the oldest form we speak
        refuse_connect(ReasonCode::unsupported_protocol_version, decoded.error().detail);
      } else {
        close();
      }
      return false;
    }
    const auto* connect = std::get_if<mqtt::Connect>(&decoded.value());
    if (connect == nullptr) {
      close();  // §3.1: the first packet is CONNECT
      return false;
    }
    const bool accepted = on_connect(*connect, bytes);
    core_.request_commit();
    return accepted;
  }
  if (!decoded.ok()) return fail(decoded.error().reason, decoded.error().detail);
  const bool more = dispatch(decoded.value());
  core_.request_commit();  // subscriptions and acks written: on disk soon
  return more;
}

bool Connection::dispatch(const mqtt::Packet& packet) {
  if (session_ == nullptr) return fail(ReasonCode::session_taken_over, "session taken over");
  Session& session = *session_;
  switch (mqtt::type_of(packet)) {
    case mqtt::PacketType::publish: return on_publish(std::get<mqtt::Publish>(packet));
    case mqtt::PacketType::puback:
      core_.puback(session, std::get<mqtt::Puback>(packet).packet_id);
      return true;
    case mqtt::PacketType::pubrec: {
      const auto& pubrec = std::get<mqtt::Pubrec>(packet);
      const bool accepted = !mqtt::is_failure(pubrec.reason);
      const bool known = core_.pubrec(session, pubrec.packet_id, accepted);
      if (accepted) {
        send(mqtt::Pubrel{pubrec.packet_id,
                          known ? ReasonCode::success : ReasonCode::packet_identifier_not_found,
                          {}});
      }
      return true;
    }
    case mqtt::PacketType::pubcomp:
      core_.pubcomp(session, std::get<mqtt::Pubcomp>(packet).packet_id);
      return true;
    case mqtt::PacketType::pubrel: {
      const std::uint16_t id = std::get<mqtt::Pubrel>(packet).packet_id;
      const bool known = core_.release_qos2(session, id);
      // PUBCOMP waits behind held PUBRECs too, and for the id's removal.
      send_when_durable(
          core_.pending_ticket(),
          mqtt::Pubcomp{id,
                        known || !is_v5(version_) ? ReasonCode::success
                                                  : ReasonCode::packet_identifier_not_found,
                        {}});
      return true;
    }
    case mqtt::PacketType::subscribe: return on_subscribe(std::get<mqtt::Subscribe>(packet));
    case mqtt::PacketType::unsubscribe: return on_unsubscribe(std::get<mqtt::Unsubscribe>(packet));
    case mqtt::PacketType::pingreq: send(mqtt::Pingresp{}); return true;
    case mqtt::PacketType::disconnect: return on_disconnect(std::get<mqtt::Disconnect>(packet));
    case mqtt::PacketType::connect: return fail(ReasonCode::protocol_error, "a second CONNECT");
    case mqtt::PacketType::auth: return on_auth(std::get<mqtt::Auth>(packet));
    default: return fail(ReasonCode::protocol_error, "a packet only a server sends");
  }
}

bool Connection::on_connect(const mqtt::Connect& connect, ConstByteSpan bytes) {
  version_ = connect.version;
  // Enhanced authentication (§4.12): the method's mechanism runs its
  // exchange; the CONNECT waits (a copy: the bytes are the reader's).
  if (const std::optional<std::string_view> method =
          connect.properties.string(PropertyId::authentication_method)) {
    const AuthMechanism* found = nullptr;
    for (const auto& mechanism : access_.auth_mechanisms) {
      if (mechanism->method() == *method) found = mechanism.get();
    }
    if (found == nullptr) {
      refuse_connect(ReasonCode::bad_authentication_method, "unknown authentication method");
      return false;
    }
    auth_ = std::make_unique<EnhancedAuth>();
    auth_->mechanism = found;
    auth_->pending_connect.assign(bytes.begin(), bytes.end());
    auth_->exchange = found->start();
    const std::optional<mqtt::Property> data =
        connect.properties.find(PropertyId::authentication_data);
    return auth_step(data ? ConstByteSpan(data->binary) : ConstByteSpan{});
  }
  return accept_connect(connect, nullptr);
}

mqtt::Properties Connection::auth_properties(ConstByteSpan data,
                                             std::vector<std::byte>& storage) const {
  storage.resize(auth_->mechanism->method().size() + data.size() + 16);
  mqtt::PropertyBuilder builder(storage);
  builder.add_string(PropertyId::authentication_method, auth_->mechanism->method());
  if (!data.empty()) builder.add_binary(PropertyId::authentication_data, data);
  const Result<mqtt::Properties> properties = builder.properties();
  return properties.ok() ? *properties : mqtt::Properties{};
}

bool Connection::on_auth(const mqtt::Auth& auth) {
  // §4.12: AUTH only after a CONNECT with an Authentication Method, and
  // with that method [MQTT-4.12.0-5]; a new exchange only by 0x19 while
  // connected, a step of one under way only by 0x18.
  const bool known_method =
      auth_ != nullptr &&
      auth.properties.string(PropertyId::authentication_method) == auth_->mechanism->method();
  if (!known_method) {
    if (!connected_) {
      refuse_connect(ReasonCode::protocol_error, "AUTH with another method");
      return false;
    }
    return fail(ReasonCode::protocol_error, "AUTH without enhanced authentication");
  }
  if (auth.reason == ReasonCode::re_authenticate && connected_ && !auth_->exchange) {
    auth_->exchange = auth_->mechanism->start();
  } else if (auth.reason != ReasonCode::continue_authentication || !auth_->exchange) {
    if (!connected_) {
      refuse_connect(ReasonCode::protocol_error, "an AUTH out of turn");
      return false;
    }
    return fail(ReasonCode::protocol_error, "an AUTH out of turn");
  }
  const std::optional<mqtt::Property> data = auth.properties.find(PropertyId::authentication_data);
  return auth_step(data ? ConstByteSpan(data->binary) : ConstByteSpan{});
}

bool Connection::auth_step(ConstByteSpan data) {
  AuthStep step = auth_->exchange->step(data);
  std::vector<std::byte> storage;
  switch (step.outcome) {
    case AuthStep::Outcome::challenge:
      send(mqtt::Auth{ReasonCode::continue_authentication, auth_properties(step.data, storage)});
      return true;
    case AuthStep::Outcome::failure:
      auth_->exchange.reset();
      if (!connected_) {
        refuse_connect(ReasonCode::bad_user_name_or_password, "enhanced authentication failed");
        return false;
      }
      return fail(ReasonCode::not_authorized, "re-authentication failed");
    case AuthStep::Outcome::success: break;
  }
  auth_->exchange.reset();
  if (connected_) {
    // Re-authentication proves the same identity again; it cannot switch users.
    if (step.user != username())
      return fail(ReasonCode::not_authorized, "re-authenticated as another user");
    send(mqtt::Auth{ReasonCode::success, auth_properties(step.data, storage)});
    return true;
  }
  const std::vector<std::byte> bytes = std::move(auth_->pending_connect);
  auth_->pending_connect = {};
  const mqtt::DecodeResult<mqtt::Packet> decoded = mqtt::decode_packet(bytes, version_);
  const auto* connect = decoded.ok() ? std::get_if<mqtt::Connect>(&decoded.value()) : nullptr;
  if (connect == nullptr) {
    close();
    return false;
  }
  return accept_connect(*connect, &step);
}

bool Connection::accept_connect(const mqtt::Connect& connect, const AuthStep* proven) {
  const bool v5 = is_v5(version_);
  // Authentication (mosquitto's rules: anonymous unless forbidden; a user
  // name is checked against the password file when there is one). An
  // enhanced authentication proved a user already; a User Name, if sent,
  // must be that user.
  if (proven != nullptr) {
    if (connect.user_name && *connect.user_name != proven->user) {
      refuse_connect(ReasonCode::bad_user_name_or_password, "User Name is not the proven user");
      return false;
    }
    identity().username = proven->user;
  } else if (connect.user_name) {
    identity().username = std::string(*connect.user_name);
    std::optional<ConstByteSpan> password;
    if (connect.password) password = ConstByteSpan(*connect.password);
    if (access_.check_password && !access_.check_password(identity().username, password)) {
      refuse_connect(ReasonCode::bad_user_name_or_password, "bad user name or password");
      return false;
    }
  } else if (!access_.allow_anonymous) {
    refuse_connect(ReasonCode::not_authorized, "anonymous clients are not allowed");
    return false;
  }
  if (limits_.max_connections != 0 && core_.stats().clients_connected >= limits_.max_connections) {
    refuse_connect(ReasonCode::server_unavailable, "max_connections reached");
    return false;
  }

  ConnectRequest request;
  request.clean_start = connect.clean_start;
  request.username = identity().username;
  bool assigned = false;
  if (connect.client_id.empty()) {
    // 3.1.1 §3.1.3.1: only with clean session; MQTT 5 §3.1.3.1: always.
    if (!v5 && !connect.clean_start) {
      refuse_connect(ReasonCode::client_identifier_not_valid, "empty client id, clean session 0");
      return false;
    }
    identity().client_id = core_.assign_client_id();
    assigned = true;
  } else {
    identity().client_id = std::string(connect.client_id);
  }
  request.client_id = identity().client_id;
  if (v5) {
    request.session_expiry_s =
        connect.properties.integer(PropertyId::session_expiry_interval).value_or(0);
    request.receive_maximum = static_cast<std::uint16_t>(
        connect.properties.integer(PropertyId::receive_maximum).value_or(65535));
    client_max_packet_size_ =
        connect.properties.integer(PropertyId::maximum_packet_size).value_or(0);
  } else {
    request.session_expiry_s = connect.clean_start ? 0 : kSessionNeverExpires;
  }
  if (connect.will) {
    const mqtt::Will& will = *connect.will;
    if (!access_.may_publish ||
        access_.may_publish(identity().client_id, identity().username, will.topic)) {
      const std::int64_t now = core_.now_ms();
      auto message = std::make_shared<Message>();
      message->topic = std::string(will.topic);
      message->payload = to_vector(will.payload);
      message->qos = will.qos;
      message->retain = will.retain;
      copy_message_properties(will.properties, now, *message);
      Will w;
      w.delay_s = will.properties.integer(PropertyId::will_delay_interval).value_or(0);
      w.message = std::move(message);
      request.will = std::move(w);
    }
  }
  keep_alive_s_ = connect.keep_alive;
  bool keep_alive_changed = false;
  if (limits_.max_keep_alive_s != 0 &&
      (keep_alive_s_ == 0 || keep_alive_s_ > limits_.max_keep_alive_s)) {
    keep_alive_s_ = limits_.max_keep_alive_s;
    keep_alive_changed = true;
  }

  const Core::Connected connected = core_.connect(request, *this);
  session_ = connected.session;
  session_->max_queued = limits_.max_queued_messages;
  connected_ = true;
  // While connected the session has the id and user name: one copy.
  identity_.reset();

  // CONNACK, with what MQTT 5 clients need to know about this server.
  std::array<std::byte, 512> buffer{};
  mqtt::PropertyBuilder builder(buffer);
  if (v5) {
    if (proven != nullptr) {
      builder.add_string(PropertyId::authentication_method, auth_->mechanism->method());
      if (!proven->data.empty()) builder.add_binary(PropertyId::authentication_data, proven->data);
    }
    if (assigned) builder.add_string(PropertyId::assigned_client_identifier, client_id());
    builder.add_integer(PropertyId::topic_alias_maximum, limits_.topic_alias_maximum);
    builder.add_integer(PropertyId::maximum_packet_size,
                        static_cast<std::uint32_t>(
                            std::min<std::size_t>(limits_.max_packet_size, mqtt::kMaxPacketSize)));
    if (keep_alive_changed) builder.add_integer(PropertyId::server_keep_alive, keep_alive_s_);
  }
  const Result<mqtt::Properties> properties = builder.properties();
  send(mqtt::Connack{connected.session_present, ReasonCode::success,
                     properties.ok() ? *properties : mqtt::Properties{}});
  MOTE_LOG_DEBUG("broker: '%s' connected (MQTT %s, session %s)", client_id().c_str(),
                 v5 ? "5" : "3.1.1", connected.session_present ? "resumed" : "new");
  if (connected.session_present) resend_in_flight();
  signal_output();
  return true;
}

void Connection::resend_in_flight() {
  // §4.4: in-flight messages again, in their order, before anything new.
  for (const Outbound* outbound : session_->in_flight()) {
    if (outbound->state == OutboundState::awaiting_pubcomp) {
      send(mqtt::Pubrel{outbound->packet_id, ReasonCode::success, {}});
    } else if (!encode_outbound(*outbound, true, control_)) {
      // Too large for the client now: as if delivered (§3.1.2.11.4).
      if (!core_.puback(*session_, outbound->packet_id)) {
        core_.pubrec(*session_, outbound->packet_id, false);
      }
    }
  }
}

MessagePtr Connection::message_of(const mqtt::Publish& publish, std::string_view topic,
                                  std::int64_t now_ms) const {
  auto message = std::make_shared<Message>();
  message->topic = std::string(topic);
  message->payload = to_vector(publish.payload);
  message->qos = publish.qos;
  message->retain = publish.retain;
  message->publisher = session_->id();
  if (is_v5(version_)) copy_message_properties(publish.properties, now_ms, *message);
  return message;
}

bool Connection::on_publish(const mqtt::Publish& publish) {
  const bool v5 = is_v5(version_);
  std::string_view topic = publish.topic;
  if (v5) {
    if (const std::optional<std::uint32_t> alias =
            publish.properties.integer(PropertyId::topic_alias)) {
      if (*alias == 0 || *alias > limits_.topic_alias_maximum) {
        return fail(ReasonCode::topic_alias_invalid, "topic alias out of range");
      }
      const auto id = static_cast<std::uint16_t>(*alias);
      if (!topic.empty()) {
        if (!aliases_)
          aliases_ = std::make_unique<std::unordered_map<std::uint16_t, std::string>>();
        (*aliases_)[id] = std::string(topic);
      } else {
        const auto it = aliases_ ? aliases_->find(id)
                                 : std::unordered_map<std::uint16_t, std::string>::iterator();
        if (!aliases_ || it == aliases_->end()) {
          return fail(ReasonCode::protocol_error, "unknown topic alias");
        }
        topic = it->second;
      }
    }
  }
  if (topic.empty()) return fail(ReasonCode::protocol_error, "PUBLISH without a topic");
  const bool allowed = !access_.may_publish || access_.may_publish(client_id(), username(), topic);
  const std::int64_t now = core_.now_ms();

  if (publish.qos == mqtt::QoS::exactly_once) {
    // §4.3.3: a resent PUBLISH whose id awaits PUBREL is not routed again.
    if (allowed && core_.receive_qos2(*session_, publish.packet_id)) {
      congested_session_ = core_.publish(session_, message_of(publish, topic, now)).congested;
    }
    send_when_durable(
        core_.pending_ticket(),
        mqtt::Pubrec{publish.packet_id,
                     allowed || !v5 ? ReasonCode::success : ReasonCode::not_authorized,
                     {}});
    core_.commit_if_full();
    return true;
  }
  Core::Published published;
  if (allowed) {
    published = core_.publish(session_, message_of(publish, topic, now));
    if (published.congested != 0) congested_session_ = published.congested;
  } else {
    MOTE_LOG_DEBUG("broker: '%s' may not publish to '%.*s'", client_id().c_str(),
                   static_cast<int>(topic.size()), topic.data());
  }
  if (publish.qos == mqtt::QoS::at_least_once) {
    ReasonCode reason = ReasonCode::success;
    if (v5 && !allowed) reason = ReasonCode::not_authorized;
    if (v5 && allowed && published.deliveries == 0) reason = ReasonCode::no_matching_subscribers;
    send_when_durable(published.ticket, mqtt::Puback{publish.packet_id, reason, {}});
  }
  core_.commit_if_full();
  return true;
}

bool Connection::on_subscribe(const mqtt::Subscribe& subscribe) {
  const bool v5 = is_v5(version_);
  const std::uint32_t identifier =
      subscribe.properties.integer(PropertyId::subscription_identifier).value_or(0);
  std::vector<ReasonCode> reasons;
  for (const mqtt::Subscription& subscription : subscribe.subscriptions) {
    const bool shared = !mqtt::split_shared_filter(subscription.filter).share_name.empty();
    if (shared && subscription.options.no_local) {
      // §3.8.3.1: No Local on a shared subscription is a Protocol Error.
      return fail(ReasonCode::protocol_error, "no-local on a shared subscription");
    }
    SubscriptionOptions options;
    options.qos = subscription.options.max_qos;
    options.no_local = v5 && subscription.options.no_local;
    options.retain_as_published = v5 && subscription.options.retain_as_published;
    options.retain_handling =
        v5 ? subscription.options.retain_handling : RetainHandling::send_on_subscribe;
    options.identifier = identifier;
    core_.subscribe(*session_, std::string(subscription.filter), options);
    reasons.push_back(static_cast<ReasonCode>(subscription.options.max_qos));
  }
  send(mqtt::Suback{subscribe.packet_id, {}, mqtt::ReasonCodeList(reasons)});
  return true;
}

bool Connection::on_unsubscribe(const mqtt::Unsubscribe& unsubscribe) {
  std::vector<ReasonCode> reasons;
  for (const mqtt::Subscription& subscription : unsubscribe.subscriptions) {
    reasons.push_back(core_.unsubscribe(*session_, subscription.filter)
                          ? ReasonCode::success
                          : ReasonCode::no_subscription_existed);
  }
  if (!is_v5(version_)) reasons.clear();  // 3.1.1's UNSUBACK has no payload
  send(mqtt::Unsuback{unsubscribe.packet_id, {}, mqtt::ReasonCodeList(reasons)});
  return true;
}

bool Connection::on_disconnect(const mqtt::Disconnect& disconnect) {
  // §3.14.2.1: 0x04 asks for the will; every other reason from the client
  // is a normal end for the will's purposes only if it is 0x00.
  publish_will_ = disconnect.reason != ReasonCode::success;
  if (const std::optional<std::uint32_t> expiry =
          disconnect.properties.integer(PropertyId::session_expiry_interval)) {
    if (session_->expiry_interval_s == 0 && *expiry != 0) {
      return fail(ReasonCode::protocol_error, "session expiry set after connecting with 0");
    }
    disconnect_expiry_ = *expiry;
  }
  close();
  return false;
}

bool Connection::encode_outbound(const Outbound& outbound, bool dup, std::vector<std::byte>& out) {
  const Message& message = *outbound.message;
  std::vector<std::byte> property_bytes;
  mqtt::Properties properties;
  if (is_v5(version_)) {
    std::size_t estimate = 32 + outbound.identifiers.size() * 5;
    if (message.content_type) estimate += message.content_type->size() + 3;
    if (message.response_topic) estimate += message.response_topic->size() + 3;
    if (message.correlation_data) estimate += message.correlation_data->size() + 3;
    for (const UserProperty& p : message.user_properties)
      estimate += p.name.size() + p.value.size() + 5;
    property_bytes.resize(estimate);
    mqtt::PropertyBuilder builder(property_bytes);
    if (message.payload_format) {
      builder.add_integer(PropertyId::payload_format_indicator, *message.payload_format);
    }
    if (const std::optional<std::uint32_t> expiry = message.remaining_expiry_s(core_.now_ms())) {
      builder.add_integer(PropertyId::message_expiry_interval, *expiry);
    }
    if (message.content_type) builder.add_string(PropertyId::content_type, *message.content_type);
    if (message.response_topic) {
      builder.add_string(PropertyId::response_topic, *message.response_topic);
    }
    if (message.correlation_data) {
      builder.add_binary(PropertyId::correlation_data, bytes_of(*message.correlation_data));
    }
    for (const UserProperty& p : message.user_properties)
      builder.add_user_property(p.name, p.value);
    for (const std::uint32_t identifier : outbound.identifiers) {
      builder.add_integer(PropertyId::subscription_identifier, identifier);
    }
    const Result<mqtt::Properties> built = builder.properties();
    if (!built.ok()) {
      MOTE_LOG_WARN("broker: dropped a message for '%s': its properties do not encode",
                    client_id().c_str());
      return false;
    }
    properties = *built;
  }
  const mqtt::Publish publish{dup,
                              outbound.qos,
                              outbound.retain,
                              message.topic,
                              outbound.packet_id,
                              properties,
                              bytes_of(message.payload)};
  const Result<std::size_t> size = mqtt::encoded_size(publish, version_);
  if (!size.ok() || (client_max_packet_size_ != 0 && *size > client_max_packet_size_)) {
    return false;
  }
  const std::size_t at = out.size();
  out.resize(at + *size);
  if (!mqtt::encode_packet(publish, version_, ByteSpan(out).subspan(at)).ok()) {
    out.resize(at);
    return false;
  }
  return true;
}

bool Connection::has_output() const {
  return !control_.empty() || (session_ != nullptr && !closing_ && session_->has_sendable());
}

std::uint64_t Connection::take_output(std::vector<std::byte>& out, std::size_t budget) {
  out.clear();
  out.swap(control_);
  std::uint64_t ticket = 0;
  while (session_ != nullptr && !closing_ && out.size() < budget) {
    std::optional<Outbound> next = core_.next_outbound(*session_);
    if (!next) break;
    if (!encode_outbound(*next, false, out)) {
      // Too large for the client: as if delivered (§3.1.2.11.4).
      if (next->qos == mqtt::QoS::at_least_once) core_.puback(*session_, next->packet_id);
      if (next->qos == mqtt::QoS::exactly_once) core_.pubrec(*session_, next->packet_id, false);
      continue;
    }
    if (next->qos == mqtt::QoS::exactly_once && session_->stored) ticket = core_.pending_ticket();
  }
  core_.stats().bytes_sent += out.size();
  if (!backlog_full() && signals_ != nullptr) signals_->backlog_drained.set();
  return ticket;
}

}  // namespace mote::broker
