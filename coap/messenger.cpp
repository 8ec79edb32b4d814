#include "mote/coap/messenger.hpp"

#include <algorithm>

namespace mote::coap {

using internal::DedupEntry;
using internal::ExchangeSlot;

Result<std::size_t> encode_empty(Type type, std::uint16_t message_id, ByteSpan out) {
  return MessageWriter(out, type, codes::kEmpty, message_id, {}).finish();
}

MessengerCore::MessengerCore(Storage storage, std::uint32_t seed,
                             const TransmissionParameters& parameters)
    : storage_(storage), parameters_(parameters), random_(seed) {
  // §4.4: "The initial value of the Message ID ... SHOULD be randomized".
  next_message_id_ = static_cast<std::uint16_t>(random_.next());
}

void MessengerCore::make_token(ByteSpan token) {
  for (std::size_t i = 0; i < token.size(); i += 4) {
    const std::uint32_t bits = random_.next();
    for (std::size_t j = 0; j < 4 && i + j < token.size(); ++j) {
      token[i + j] = static_cast<std::byte>(bits >> (8 * j));
    }
  }
}

ByteSpan MessengerCore::slot_bytes(std::size_t index) {
  return storage_.exchange_bytes.subspan(index * storage_.message_size, storage_.message_size);
}

Result<ExchangeHandle> MessengerCore::send_confirmable(io::Endpoint to, ConstByteSpan message,
                                                       Instant now) {
  if (message.size() > storage_.message_size || message.size() < kHeaderSize ||
      ((std::to_integer<unsigned>(message[0]) >> 4) & 3) !=
          static_cast<unsigned>(Type::confirmable)) {
    return Status::invalid_argument();
  }
  for (std::size_t i = 0; i < storage_.exchanges.size(); ++i) {
    ExchangeSlot& slot = storage_.exchanges[i];
    if (slot.state != ExchangeSlot::State::free) continue;
    std::copy(message.begin(), message.end(), slot_bytes(i).begin());
    slot.to = to;
    slot.size = message.size();
    slot.message_id = load_be16(message.data() + 2);
    slot.transmissions = 0;
    ++slot.generation;
    slot.state = ExchangeSlot::State::queued;
    slot.next_at = async::kNever;
    start_next_for(to, now);
    return ExchangeHandle{static_cast<std::uint16_t>(i), slot.generation};
  }
  return Status::resource_exhausted();
}

void MessengerCore::start(ExchangeSlot& slot, Instant now) {
  // §4.8: "the initial timeout is set to a random duration ... between
  // ACK_TIMEOUT and (ACK_TIMEOUT * ACK_RANDOM_FACTOR)".
  // 32-bit arithmetic: 64-bit division would link libgcc's __aeabi_ldivmod
  // and, through its division-by-zero hook, abort() into firmware. An
  // ACK_TIMEOUT in microseconds fits 32 bits up to 71 minutes.
  const auto base = static_cast<std::uint32_t>(parameters_.ack_timeout.count());
  const std::uint32_t spread = base / 1000 * (parameters_.ack_random_factor_per_mille - 1000u);
  const std::uint32_t jitter = spread > 0 ? random_.next() % (spread + 1) : 0;
  slot.timeout = Duration(std::int64_t{base} + jitter);
  slot.state = ExchangeSlot::State::in_flight;
  slot.next_at = now;  // the first transmission is due at once
}

void MessengerCore::start_next_for(const io::Endpoint& peer, Instant now) {
  // §4.7 NSTART = 1: nothing new while one is in flight to this peer.
  ExchangeSlot* oldest = nullptr;
  for (ExchangeSlot& slot : storage_.exchanges) {
    if (!(slot.to == peer)) continue;
    if (slot.state == ExchangeSlot::State::in_flight) return;
    // Queued slots start in the order they were queued: the lowest message
    // ID modulo wrap-around relative to the next one handed out.
    if (slot.state == ExchangeSlot::State::queued &&
        (oldest == nullptr ||
         static_cast<std::uint16_t>(slot.message_id - next_message_id_) <
             static_cast<std::uint16_t>(oldest->message_id - next_message_id_))) {
      oldest = &slot;
    }
  }
  if (oldest != nullptr) start(*oldest, now);
}

void MessengerCore::finish(ExchangeSlot& slot) {
  slot.state = ExchangeSlot::State::free;
  slot.next_at = async::kNever;
  ++slot.generation;
}

void MessengerCore::cancel(ExchangeHandle exchange) {
  if (!outstanding(exchange)) return;
  ExchangeSlot& slot = storage_.exchanges[exchange.index];
  const io::Endpoint peer = slot.to;
  const bool was_in_flight = slot.state == ExchangeSlot::State::in_flight;
  finish(slot);
  // The caller's clock is not at hand: the next one starts at the next poll.
  if (was_in_flight) {
    for (ExchangeSlot& other : storage_.exchanges) {
      if (other.to == peer && other.state == ExchangeSlot::State::queued) {
        start_next_for(peer, Instant());
        break;
      }
    }
  }
}

bool MessengerCore::outstanding(ExchangeHandle exchange) const {
  return exchange.index < storage_.exchanges.size() &&
         storage_.exchanges[exchange.index].generation == exchange.generation &&
         storage_.exchanges[exchange.index].state != ExchangeSlot::State::free;
}

Action MessengerCore::poll(Instant now) {
  for (std::size_t i = 0; i < storage_.exchanges.size(); ++i) {
    ExchangeSlot& slot = storage_.exchanges[i];
    if (slot.state != ExchangeSlot::State::in_flight || slot.next_at > now) continue;
    const ExchangeHandle handle{static_cast<std::uint16_t>(i), slot.generation};
    Action action;
    action.to = slot.to;
    action.exchange = handle;
    if (slot.transmissions > parameters_.max_retransmit) {
      // The last timeout passed with no ACK or RST.
      const io::Endpoint peer = slot.to;
      finish(slot);
      start_next_for(peer, now);
      action.kind = Action::give_up;
      return action;
    }
    // §4.8: "If the timeout is triggered and the retransmission counter is
    // less than MAX_RETRANSMIT, the message is retransmitted, the counter is
    // incremented, and the timeout is doubled."
    action.kind = Action::transmit;
    action.bytes = slot_bytes(i).first(slot.size);
    slot.next_at = now + slot.timeout;
    slot.timeout = slot.timeout * 2;
    ++slot.transmissions;
    return action;
  }
  return {};
}

Instant MessengerCore::poll_at() const {
  Instant earliest = async::kNever;
  for (const ExchangeSlot& slot : storage_.exchanges) {
    if (slot.state == ExchangeSlot::State::in_flight && slot.next_at < earliest) {
      earliest = slot.next_at;
    }
  }
  return earliest;
}

ExchangeSlot* MessengerCore::find_in_flight(const io::Endpoint& peer, std::uint16_t message_id) {
  for (ExchangeSlot& slot : storage_.exchanges) {
    if (slot.state == ExchangeSlot::State::in_flight && slot.message_id == message_id &&
        slot.to == peer) {
      return &slot;
    }
  }
  return nullptr;
}

DedupEntry* MessengerCore::find_dedup(const io::Endpoint& from, std::uint16_t message_id,
                                      Instant now) {
  for (DedupEntry& entry : storage_.dedup) {
    if (entry.used && entry.expires <= now) entry.used = false;
    if (entry.used && entry.message_id == message_id && entry.from == from) return &entry;
  }
  return nullptr;
}

Incoming MessengerCore::receive(ConstByteSpan datagram, io::Endpoint from, Instant now) {
  Incoming incoming;
  Result<Message> parsed = Message::parse(datagram);
  if (!parsed.ok()) {
    // §4.2: a CON that cannot be processed is rejected with RST; anything
    // else is silently ignored (§4.3). The header must at least be legible.
    if (datagram.size() >= kHeaderSize &&
        (std::to_integer<unsigned>(datagram[0]) >> 6) == kVersion &&
        ((std::to_integer<unsigned>(datagram[0]) >> 4) & 3) ==
            static_cast<unsigned>(Type::confirmable)) {
      incoming.kind = Incoming::reject;
      incoming.message_id = load_be16(datagram.data() + 2);
    }
    return incoming;
  }
  const Message& message = *parsed;
  incoming.message = message;
  incoming.message_id = message.message_id();

  switch (message.type()) {
    case Type::acknowledgement:
    case Type::reset: {
      ExchangeSlot* slot = find_in_flight(from, message.message_id());
      incoming.kind = message.type() == Type::reset ? Incoming::reset : Incoming::acknowledged;
      if (slot == nullptr) {
        // An RST may answer a NON we sent (an Observe notification, RFC
        // 7641 §3.6); a stray ACK is ignored (§4.2).
        if (message.type() == Type::acknowledgement) incoming.kind = Incoming::ignored;
        return incoming;
      }
      incoming.exchange = ExchangeHandle{
          static_cast<std::uint16_t>(slot - storage_.exchanges.data()), slot->generation};
      finish(*slot);
      start_next_for(from, now);
      return incoming;
    }
    case Type::confirmable:
    case Type::non_confirmable: break;
  }

  if (message.code().is_empty()) {
    // §4.3: an empty CON ("CoAP ping") is answered with RST; an empty NON
    // is not valid and ignored.
    if (message.type() == Type::confirmable) incoming.kind = Incoming::reject;
    return incoming;
  }

  if (DedupEntry* entry = find_dedup(from, message.message_id(), now); entry != nullptr) {
    incoming.kind = Incoming::duplicate;
    const auto index = static_cast<std::size_t>(entry - storage_.dedup.data());
    incoming.reply = storage_.reply_bytes.subspan(index * storage_.reply_size, entry->reply_size);
    return incoming;
  }
  // Remember it: a free or expired entry, else the one closest to expiry.
  DedupEntry* target = nullptr;
  for (DedupEntry& entry : storage_.dedup) {
    if (!entry.used) {
      target = &entry;
      break;
    }
    if (target == nullptr || entry.expires < target->expires) target = &entry;
  }
  if (target != nullptr) {
    if (target->used) ++dedup_evictions_;
    target->used = true;
    target->from = from;
    target->message_id = message.message_id();
    target->reply_size = 0;
    target->expires = now + (message.type() == Type::confirmable ? parameters_.exchange_lifetime
                                                                 : parameters_.non_lifetime);
  }
  incoming.kind = Incoming::new_message;
  return incoming;
}

void MessengerCore::remember_reply(io::Endpoint to, std::uint16_t message_id, ConstByteSpan reply) {
  for (std::size_t i = 0; i < storage_.dedup.size(); ++i) {
    DedupEntry& entry = storage_.dedup[i];
    if (!entry.used || entry.message_id != message_id || !(entry.from == to)) continue;
    if (reply.size() > storage_.reply_size) {
      entry.reply_size = 0;
      return;
    }
    std::copy(reply.begin(), reply.end(),
              storage_.reply_bytes.subspan(i * storage_.reply_size).begin());
    entry.reply_size = static_cast<std::uint16_t>(reply.size());
    return;
  }
}

}  // namespace mote::coap
