#include "mote/broker/session.hpp"

#include <algorithm>

namespace mote::broker {

const std::string& Session::username() const {
  static const std::string kNone;
  return username_ ? *username_ : kNone;
}

void Session::set_username(const std::string& username) {
  if (username.empty()) {
    username_.reset();
  } else {
    username_ = std::make_unique<std::string>(username);
  }
}

bool Session::expired(std::int64_t now_ms) const {
  if (online || expiry_interval_s == kSessionNeverExpires) return false;
  return now_ms >= disconnected_at_ms + static_cast<std::int64_t>(expiry_interval_s) * 1000;
}

Session::EnqueueResult Session::enqueue(Outbound outbound) {
  EnqueueResult result;
  if (!online && outbound.qos == QoS::at_most_once) {
    result.dropped.push_back(std::move(outbound));
    ++dropped_;
    return result;
  }
  outbound.seq = next_seq++;
  outbound.state = OutboundState::queued;
  std::deque<Outbound>& queue = flows().queue;
  while (!queue.empty() && queue.size() >= max_queued) {
    // Drop policy: the oldest QoS 0 message first, else the oldest message.
    auto victim = std::find_if(queue.begin(), queue.end(),
                               [](const Outbound& o) { return o.qos == QoS::at_most_once; });
    if (victim == queue.end()) victim = queue.begin();
    result.dropped.push_back(std::move(*victim));
    queue.erase(victim);
    ++dropped_;
  }
  if (max_queued == 0) {
    result.dropped.push_back(std::move(outbound));
    ++dropped_;
    return result;
  }
  queue.push_back(std::move(outbound));
  result.queued = &queue.back();
  return result;
}

bool Session::has_sendable() const {
  if (!flows_ || flows_->queue.empty()) return false;
  return flows_->queue.front().qos == QoS::at_most_once || window_used_ < receive_maximum;
}

std::uint16_t Session::allocate_packet_id() {
  // Ids in use are at most receive_maximum <= 65535, so a free one exists.
  for (;;) {
    last_packet_id_ =
        static_cast<std::uint16_t>(last_packet_id_ == 65535 ? 1 : last_packet_id_ + 1);
    if (!flows_->packet_ids.contains(last_packet_id_)) return last_packet_id_;
  }
}

std::optional<Outbound> Session::next_to_send(std::int64_t now_ms, std::vector<Outbound>& expired) {
  if (!flows_) return std::nullopt;
  std::deque<Outbound>& queue = flows_->queue;
  while (!queue.empty()) {
    Outbound& front = queue.front();
    if (front.message->expired(now_ms)) {
      expired.push_back(std::move(front));
      queue.pop_front();
      continue;
    }
    if (front.qos == QoS::at_most_once) {
      Outbound sent = std::move(front);
      queue.pop_front();
      return sent;
    }
    if (window_used_ >= receive_maximum || flows_->packet_ids.size() >= 65535) return std::nullopt;
    Outbound sent = std::move(front);
    queue.pop_front();
    sent.packet_id = allocate_packet_id();
    sent.state = sent.qos == QoS::at_least_once ? OutboundState::awaiting_puback
                                                : OutboundState::awaiting_pubrec;
    flows_->packet_ids.emplace(sent.packet_id, sent.seq);
    ++window_used_;
    flows_->in_flight.emplace(sent.seq, sent);
    return sent;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> Session::finish(std::uint16_t packet_id, OutboundState expected) {
  if (!flows_) return std::nullopt;
  const auto id = flows_->packet_ids.find(packet_id);
  if (id == flows_->packet_ids.end()) return std::nullopt;
  const auto flight = flows_->in_flight.find(id->second);
  if (flight->second.state != expected) return std::nullopt;
  const std::uint64_t seq = id->second;
  flows_->in_flight.erase(flight);
  flows_->packet_ids.erase(id);
  --window_used_;
  return seq;
}

std::optional<std::uint64_t> Session::acknowledge_puback(std::uint16_t packet_id) {
  return finish(packet_id, OutboundState::awaiting_puback);
}

std::optional<std::uint64_t> Session::acknowledge_pubrec(std::uint16_t packet_id, bool accepted) {
  if (!flows_) return std::nullopt;
  const auto id = flows_->packet_ids.find(packet_id);
  if (id == flows_->packet_ids.end()) return std::nullopt;
  const auto flight = flows_->in_flight.find(id->second);
  const std::uint64_t seq = id->second;
  if (flight->second.state == OutboundState::awaiting_pubcomp) return seq;  // a resent PUBREC
  if (flight->second.state != OutboundState::awaiting_pubrec) return std::nullopt;
  if (!accepted) return finish(packet_id, OutboundState::awaiting_pubrec);
  flight->second.state = OutboundState::awaiting_pubcomp;
  return seq;
}

std::optional<std::uint64_t> Session::acknowledge_pubcomp(std::uint16_t packet_id) {
  return finish(packet_id, OutboundState::awaiting_pubcomp);
}

const std::deque<Outbound>& Session::queued() const {
  static const std::deque<Outbound> kNone;
  return flows_ ? flows_->queue : kNone;
}

Session::Flows& Session::flows() {
  if (!flows_) flows_ = std::make_unique<Flows>();
  return *flows_;
}

std::vector<const Outbound*> Session::in_flight() const {
  std::vector<const Outbound*> flights;
  if (!flows_) return flights;
  flights.reserve(flows_->in_flight.size());
  for (const auto& [seq, outbound] : flows_->in_flight) flights.push_back(&outbound);
  return flights;
}

bool Session::add_incoming_qos2(std::uint16_t packet_id) {
  if (!incoming_qos2_) incoming_qos2_ = std::make_unique<std::unordered_set<std::uint16_t>>();
  return incoming_qos2_->insert(packet_id).second;
}

bool Session::remove_incoming_qos2(std::uint16_t packet_id) {
  return incoming_qos2_ && incoming_qos2_->erase(packet_id) != 0;
}

std::vector<std::uint16_t> Session::incoming_qos2() const {
  if (!incoming_qos2_) return {};
  return {incoming_qos2_->begin(), incoming_qos2_->end()};
}

void Session::restore(Outbound outbound) {
  next_seq = std::max(next_seq, outbound.seq + 1);
  Flows& flows = this->flows();
  if (outbound.state == OutboundState::queued || outbound.packet_id == 0 ||
      flows.packet_ids.contains(outbound.packet_id)) {
    outbound.state = OutboundState::queued;
    outbound.packet_id = 0;
    // Keep seq order: stored rows come back sorted, but be safe.
    const auto at =
        std::upper_bound(flows.queue.begin(), flows.queue.end(), outbound.seq,
                         [](std::uint64_t seq, const Outbound& o) { return seq < o.seq; });
    flows.queue.insert(at, std::move(outbound));
    return;
  }
  flows.packet_ids.emplace(outbound.packet_id, outbound.seq);
  last_packet_id_ = std::max(last_packet_id_, outbound.packet_id);
  ++window_used_;
  flows.in_flight.emplace(outbound.seq, std::move(outbound));
}

void Session::clear_messages() {
  flows_.reset();
  window_used_ = 0;
  incoming_qos2_.reset();
}

}  // namespace mote::broker
