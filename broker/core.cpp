#include "mote/broker/core.hpp"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <utility>

#include "mote/base/log.hpp"
#include "mote/mqtt/topic.hpp"

namespace mote::broker {
namespace {

constexpr std::int64_t kRetainedPurgePeriodMs = 60'000;

}  // namespace

Core::Core(CoreOptions options) : options_(std::move(options)) {}

std::int64_t Core::now_ms() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Core::note(Status status) {
  if (status.ok()) return;
  ++stats_.store_errors;
  generation_failed_ = true;
  MOTE_LOG_ERROR("broker: store write failed: %s", status.str());
}

Status Core::load() {
  BrokerStore* store = options_.store;
  if (store == nullptr) return ok_status();
  const std::int64_t now = now_ms();
  MOTE_TRY_ASSIGN(std::vector<MessagePtr> retained, store->load_retained());
  for (MessagePtr& message : retained) {
    if (message->expired(now)) {
      note(store->erase_retained(message->topic));
    } else {
      retained_.set(std::move(message));
    }
  }
  MOTE_TRY_ASSIGN(std::vector<StoredWill> wills, store->load_wills());
  MOTE_TRY_ASSIGN(std::vector<StoredSession> stored, store->load_sessions());
  std::size_t messages = 0;
  for (StoredSession& record : stored) {
    Session& session = create_session(record.client_id);
    session.stored = true;
    session.expiry_interval_s = record.expiry_interval_s;
    // A session that was online when the broker stopped went offline then.
    session.disconnected_at_ms = record.disconnected_at_ms != 0 ? record.disconnected_at_ms : now;
    if (session.expired(now) || !session.persistent()) {
      end_session(session);
      continue;
    }
    for (auto& [filter, options] : record.subscriptions) {
      if (!mqtt::is_valid_topic_filter(filter, true)) continue;
      tree_.subscribe(session.id(), filter, options);
      session.subscriptions.emplace(std::move(filter), options);
    }
    messages += record.messages.size();
    for (Outbound& outbound : record.messages) session.restore(std::move(outbound));
    for (const std::uint16_t packet_id : record.incoming_qos2) session.add_incoming_qos2(packet_id);
    if (record.disconnected_at_ms == 0) {
      note(store->put_session(session.client_id(), session.expiry_interval_s,
                              session.disconnected_at_ms));
    }
  }
  // The broker stopped without closing the connections: each will is due
  // now, or after its delay if its session lives on (§3.1.2.5, §3.1.3.2.2).
  // Published once every session and retained message is back, so they
  // reach every subscriber a live broker would have given them to.
  std::vector<MessagePtr> due_now;
  for (StoredWill& record : wills) {
    Session* session = find_session(record.client_id);
    if (session != nullptr && record.delay_s > 0 && !session->expired(now)) {
      session->will = std::make_unique<Will>(Will{record.message, record.delay_s});
      session->will_due_ms = record.due_ms != 0
                                 ? record.due_ms
                                 : now + static_cast<std::int64_t>(record.delay_s) * 1000;
      session->will_stored = true;
      sync_will(*session);
    } else {
      due_now.push_back(std::move(record.message));
      note(store->erase_will(record.client_id));
    }
  }
  for (const MessagePtr& will : due_now) publish(nullptr, will);
  MOTE_LOG_INFO(
      "broker: loaded %zu retained messages, %zu sessions, %zu queued messages, %zu wills (%zu "
      "published)",
      retained_.size(), sessions_.size(), messages, wills.size(), due_now.size());
  return commit();
}

Session& Core::create_session(const std::string& client_id) {
  SessionId id = 0;
  if (free_ids_.empty()) {
    by_id_.push_back(nullptr);
    id = by_id_.size();
  } else {
    id = free_ids_.back();
    free_ids_.pop_back();
  }
  auto session = std::make_unique<Session>(id, client_id);
  session->max_queued = options_.max_queued_messages;
  Session& created = *session;
  by_id_[created.id() - 1] = &created;
  const auto existing = sessions_.find(std::string_view(client_id));
  if (existing != sessions_.end()) sessions_.erase(existing);
  sessions_.insert(std::move(session));
  return created;
}

Session* Core::find_session(std::string_view client_id) {
  const auto it = sessions_.find(client_id);
  return it == sessions_.end() ? nullptr : it->get();
}

void Core::end_session(Session& session) {
  for (const auto& [filter, options] : session.subscriptions) {
    tree_.unsubscribe(session.id(), filter);
  }
  if (stores(session)) note(options_.store->erase_session(session.client_id()));
  if (session.will_stored) note(options_.store->erase_will(session.client_id()));
  by_id_[session.id() - 1] = nullptr;
  free_ids_.push_back(session.id());
  sessions_.erase(sessions_.find(std::string_view(session.client_id())));  // destroys session
}

void Core::sync_session_record(Session& session) {
  BrokerStore* store = options_.store;
  if (store == nullptr) return;
  if (!session.persistent()) {
    if (session.stored) note(store->erase_session(session.client_id()));
    session.stored = false;
    return;
  }
  note(store->put_session(session.client_id(), session.expiry_interval_s,
                          session.online ? 0 : session.disconnected_at_ms));
  if (session.stored) return;
  // Newly persistent: everything it holds goes to the store too.
  session.stored = true;
  for (const auto& [filter, options] : session.subscriptions) {
    note(store->put_subscription(session.client_id(), filter, options));
  }
  for (const Outbound* outbound : session.in_flight()) {
    if (outbound->qos != QoS::at_most_once) {
      note(store->put_outbound(session.client_id(), *outbound));
    }
  }
  for (const Outbound& outbound : session.queued()) {
    if (outbound.qos != QoS::at_most_once) {
      note(store->put_outbound(session.client_id(), outbound));
    }
  }
  for (const std::uint16_t packet_id : session.incoming_qos2()) {
    note(store->put_incoming_qos2(session.client_id(), packet_id));
  }
}

Core::Connected Core::connect(const ConnectRequest& request, SessionOwner& owner) {
  Connected connected;
  if (Session* existing = find_session(request.client_id)) {
    if (existing->owner != nullptr) {
      SessionOwner* previous = std::exchange(existing->owner, nullptr);
      --stats_.clients_connected;
      existing->online = false;
      existing->disconnected_at_ms = now_ms();
      previous->taken_over();
    }
    // §3.1.3.2.2: a will whose delay has not passed is not sent when the
    // session is resumed; it is when the session ends.
    if (existing->will && (request.clean_start || existing->will->delay_s == 0)) {
      publish_will(*existing);
    }
    existing->will.reset();
    existing->will_due_ms = 0;
    if (request.clean_start) {
      end_session(*existing);
    } else {
      connected.session = existing;
      connected.session_present = true;
    }
  }
  if (connected.session == nullptr) connected.session = &create_session(request.client_id);
  Session& session = *connected.session;
  session.online = true;
  session.disconnected_at_ms = 0;
  session.expiry_interval_s = request.session_expiry_s;
  session.receive_maximum = request.receive_maximum == 0 ? 65535 : request.receive_maximum;
  session.set_username(request.username);
  session.will = request.will ? std::make_unique<Will>(*request.will) : nullptr;
  sync_will(session);
  session.owner = &owner;
  ++stats_.clients_connected;
  ++stats_.connections_total;
  sync_session_record(session);
  return connected;
}

void Core::disconnect(Session& session, SessionOwner& owner, bool publish_will_message,
                      std::optional<std::uint32_t> expiry_s) {
  if (session.owner != &owner) return;
  session.owner = nullptr;
  --stats_.clients_connected;
  session.online = false;
  session.disconnected_at_ms = now_ms();
  if (expiry_s) session.expiry_interval_s = *expiry_s;
  if (!publish_will_message) session.will.reset();
  if (session.will) {
    if (session.will->delay_s == 0 || !session.persistent()) {
      publish_will(session);
    } else {
      session.will_due_ms =
          session.disconnected_at_ms + static_cast<std::int64_t>(session.will->delay_s) * 1000;
    }
  }
  if (!session.persistent()) {
    end_session(session);
    return;
  }
  sync_will(session);
  sync_session_record(session);
}

void Core::sync_will(Session& session) {
  BrokerStore* store = options_.store;
  if (store == nullptr) return;
  if (session.will && session.will->message) {
    note(store->put_will(session.client_id(), *session.will, session.will_due_ms));
    session.will_stored = true;
  } else if (session.will_stored) {
    note(store->erase_will(session.client_id()));
    session.will_stored = false;
  }
}

std::string Core::assign_client_id() {
  for (;;) {
    // splitmix64 over a counter seeded by the clock: unique and unguessable enough
    // for ids, which are not secrets.
    std::uint64_t x = static_cast<std::uint64_t>(now_ms()) + 0x9E3779B97F4A7C15ULL * ++id_counter_;
    x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
    x ^= x >> 31U;
    char text[32];
    std::snprintf(text, sizeof text, "mote-%016" PRIx64, x);
    if (find_session(text) == nullptr) return text;
  }
}

void Core::publish_will(Session& session) {
  std::unique_ptr<Will> will = std::move(session.will);
  session.will.reset();
  session.will_due_ms = 0;
  sync_will(session);
  if (!will || !will->message) return;
  publish(&session, will->message);
}

void Core::deliver(Session& session, const MessagePtr& message, QoS qos, bool retain,
                   std::vector<std::uint32_t> identifiers) {
  Outbound outbound;
  outbound.message = message;
  outbound.qos = qos;
  outbound.retain = retain;
  outbound.identifiers = std::move(identifiers);
  Session::EnqueueResult result = session.enqueue(std::move(outbound));
  stats_.messages_dropped += result.dropped.size();
  if (stores(session)) {
    if (result.queued != nullptr && result.queued->qos != QoS::at_most_once) {
      note(options_.store->put_outbound(session.client_id(), *result.queued));
    }
    for (const Outbound& dropped : result.dropped) {
      if (dropped.qos != QoS::at_most_once && dropped.seq != 0) {
        note(options_.store->erase_outbound(session.client_id(), dropped.seq));
      }
    }
  }
  if (result.queued != nullptr && session.online) {
    if (session.owner != nullptr) session.owner->wake();
  }
}

Core::Published Core::publish(Session* from, const MessagePtr& message) {
  Published published;
  const std::int64_t now = now_ms();
  if (from != nullptr) ++stats_.messages_received;
  if (message->retain) {
    // $SYS values are the broker's own and current: not worth a disk write.
    const bool stored = options_.store != nullptr && !message->topic.starts_with("$SYS/");
    if (message->payload.empty()) {
      if (retained_.erase(message->topic) && stored) {
        note(options_.store->erase_retained(message->topic));
      }
    } else {
      retained_.set(message);
      if (stored) note(options_.store->put_retained(*message));
    }
  }
  if (!message->expired(now)) {
    for (const Observer& observer : observers_) {
      if (mqtt::topic_matches(observer.filter, message->topic)) observer.callback(*message);
    }
    deliveries_.clear();
    tree_.match(
        message->topic, from != nullptr ? from->id() : 0,
        [this](SessionId id) {
          const Session* session = session_by_id(id);
          return session != nullptr && session->online && !session->queue_full();
        },
        deliveries_);
    for (Delivery& delivery : deliveries_) {
      Session* found = session_by_id(delivery.session);
      if (found == nullptr) continue;
      Session& session = *found;
      if (options_.may_receive && !options_.may_receive(session, message->topic)) continue;
      ++published.deliveries;
      deliver(session, message, min_qos(message->qos, delivery.qos),
              delivery.retain_as_published && message->retain, std::move(delivery.identifiers));
      if (published.congested == 0 && is_congested(session.id())) {
        published.congested = session.id();
      }
    }
  }
  published.ticket = pending_ticket();
  return published;
}

void Core::observe(std::string filter, PublishObserver observer) {
  observers_.push_back(Observer{std::move(filter), std::move(observer)});
}

void Core::add_durable_store(DurableStore store) { durable_stores_.push_back(std::move(store)); }

bool Core::is_congested(SessionId id) const {
  const Session* session = session_by_id(id);
  if (session == nullptr || !session->online) return false;
  return session->queued_count() * 2 >= session->max_queued;
}

Session* Core::session_by_id(SessionId id) const {
  return id != 0 && id <= by_id_.size() ? by_id_[id - 1] : nullptr;
}

void Core::subscribe(Session& session, const std::string& filter,
                     const SubscriptionOptions& options) {
  const bool added = tree_.subscribe(session.id(), filter, options);
  session.subscriptions.insert_or_assign(filter, options);
  if (stores(session)) {
    note(options_.store->put_subscription(session.client_id(), filter, options));
  }
  // §3.3.1.3 / §3.8.3.1: retained messages per Retain Handling; shared
  // subscriptions get none (§4.8.2).
  if (!mqtt::split_shared_filter(filter).share_name.empty()) return;
  if (options.retain_handling == RetainHandling::do_not_send ||
      (options.retain_handling == RetainHandling::send_if_new_subscription && !added)) {
    return;
  }
  std::vector<MessagePtr> matching;
  retained_.match(filter, now_ms(), matching);
  for (const MessagePtr& message : matching) {
    if (options_.may_receive && !options_.may_receive(session, message->topic)) continue;
    std::vector<std::uint32_t> identifiers;
    if (options.identifier != 0) identifiers.push_back(options.identifier);
    deliver(session, message, min_qos(message->qos, options.qos), true, std::move(identifiers));
  }
}

bool Core::unsubscribe(Session& session, std::string_view filter) {
  const auto it = session.subscriptions.find(filter);
  if (it == session.subscriptions.end()) return false;
  tree_.unsubscribe(session.id(), filter);
  if (stores(session)) note(options_.store->erase_subscription(session.client_id(), filter));
  session.subscriptions.erase(it);
  return true;
}

std::optional<Outbound> Core::next_outbound(Session& session) {
  std::vector<Outbound> expired;
  std::optional<Outbound> next = session.next_to_send(now_ms(), expired);
  stats_.messages_dropped += expired.size();
  if (stores(session)) {
    for (const Outbound& outbound : expired) {
      if (outbound.qos != QoS::at_most_once) {
        note(options_.store->erase_outbound(session.client_id(), outbound.seq));
      }
    }
    // QoS 1 needs no record of its packet id: after a restart it is sent
    // again under a new one, a duplicate QoS 1 allows.
    if (next && next->qos == QoS::exactly_once) {
      note(options_.store->update_outbound(session.client_id(), next->seq, next->packet_id,
                                           next->state));
    }
  }
  if (next) ++stats_.messages_sent;
  return next;
}

bool Core::puback(Session& session, std::uint16_t packet_id) {
  const std::optional<std::uint64_t> seq = session.acknowledge_puback(packet_id);
  if (seq && stores(session)) note(options_.store->erase_outbound(session.client_id(), *seq));
  return seq.has_value();
}

bool Core::pubrec(Session& session, std::uint16_t packet_id, bool accepted) {
  const std::optional<std::uint64_t> seq = session.acknowledge_pubrec(packet_id, accepted);
  if (seq && stores(session)) {
    if (accepted) {
      note(options_.store->update_outbound(session.client_id(), *seq, packet_id,
                                           OutboundState::awaiting_pubcomp));
    } else {
      note(options_.store->erase_outbound(session.client_id(), *seq));
    }
  }
  return seq.has_value();
}

bool Core::pubcomp(Session& session, std::uint16_t packet_id) {
  const std::optional<std::uint64_t> seq = session.acknowledge_pubcomp(packet_id);
  if (seq && stores(session)) note(options_.store->erase_outbound(session.client_id(), *seq));
  return seq.has_value();
}

bool Core::receive_qos2(Session& session, std::uint16_t packet_id) {
  if (!session.add_incoming_qos2(packet_id)) return false;
  if (stores(session)) note(options_.store->put_incoming_qos2(session.client_id(), packet_id));
  return true;
}

bool Core::release_qos2(Session& session, std::uint16_t packet_id) {
  if (!session.remove_incoming_qos2(packet_id)) return false;
  if (stores(session)) note(options_.store->erase_incoming_qos2(session.client_id(), packet_id));
  return true;
}

std::size_t Core::pending_writes() const {
  std::size_t pending = options_.store != nullptr ? options_.store->pending_writes() : 0;
  for (const DurableStore& store : durable_stores_) pending += store.pending();
  return pending;
}

std::uint64_t Core::pending_ticket() const { return pending_writes() > 0 ? generation_ : 0; }

void Core::when_durable(std::uint64_t ticket, std::function<void(bool ok)> done) {
  if (ticket == 0 || ticket < generation_) {
    done(true);
    return;
  }
  waiting_.emplace(ticket, std::move(done));
  commit_requested_.set();
}

Status Core::commit() {
  Status status;
  for (const DurableStore& store : durable_stores_) {
    if (Status committed = store.commit(); status.ok()) status = committed;
  }
  if (options_.store != nullptr) {
    if (Status committed = options_.store->commit(); status.ok()) status = committed;
  }
  note(status);
  const bool ok = status.ok() && !generation_failed_;
  const std::uint64_t committed = generation_++;
  generation_failed_ = false;
  // Callbacks may publish and so wait again: take the due ones out first.
  std::vector<std::function<void(bool)>> due;
  while (!waiting_.empty() && waiting_.begin()->first <= committed) {
    due.push_back(std::move(waiting_.begin()->second));
    waiting_.erase(waiting_.begin());
  }
  for (auto& done : due) done(ok);
  return ok ? ok_status() : (status.ok() ? Status::internal() : status);
}

void Core::commit_if_full() {
  if (pending_writes() >= options_.commit_batch) (void)commit();
}

void Core::publish_sys(std::chrono::seconds uptime) {
  const auto publish_value = [this](const char* topic, std::uint64_t value) {
    auto message = std::make_shared<Message>();
    message->topic = std::string("$SYS/broker/") + topic;
    const std::string text = std::to_string(value);
    message->payload.assign(text.begin(), text.end());
    message->retain = true;
    publish(nullptr, std::move(message));
  };
  publish_value("uptime", static_cast<std::uint64_t>(uptime.count()));
  publish_value("clients/connected", stats_.clients_connected);
  publish_value("clients/total", sessions_.size());
  publish_value("messages/received", stats_.messages_received);
  publish_value("messages/sent", stats_.messages_sent);
  publish_value("messages/dropped", stats_.messages_dropped);
  publish_value("bytes/received", stats_.bytes_received);
  publish_value("bytes/sent", stats_.bytes_sent);
  publish_value("retained messages/count", retained_.size());
  publish_value("subscriptions/count", tree_.subscription_count());
}

void Core::tick() {
  const std::int64_t now = now_ms();
  std::vector<std::string> ended;
  std::vector<Session*> wills;
  for (const std::unique_ptr<Session>& session : sessions_) {
    if (session->online) continue;
    if (session->will_due_ms != 0 && now >= session->will_due_ms) wills.push_back(session.get());
    if (session->expired(now)) ended.push_back(session->client_id());
  }
  for (Session* session : wills) publish_will(*session);
  for (const std::string& client_id : ended) {
    if (Session* session = find_session(client_id)) {
      publish_will(*session);  // §3.1.3.2.2: at the latest when the session ends
      end_session(*session);
    }
  }
  request_commit();
  if (now >= next_retained_purge_ms_) {
    next_retained_purge_ms_ = now + kRetainedPurgePeriodMs;
    for (const std::string& topic : retained_.purge_expired(now)) {
      if (options_.store != nullptr) note(options_.store->erase_retained(topic));
    }
  }
}

}  // namespace mote::broker
