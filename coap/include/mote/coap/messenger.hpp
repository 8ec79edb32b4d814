#pragma once
// CoAP's message layer (RFC 7252 §4), sans-I/O: it never sends, receives or
// reads a clock. The owner feeds it datagrams and the time, sends what
// poll() hands out, and comes back at poll_at().
//
//   Messenger<> messenger(seed);
//   // sending a confirmable message reliably (§4.2)
//   MOTE_TRY_ASSIGN(ExchangeHandle h, messenger.send_confirmable(peer, bytes, now));
//   for (Action a = messenger.poll(now); a.kind != Action::none; a = messenger.poll(now))
//     ... transmit a.bytes to a.to, or report a.exchange as given up ...
//   // a datagram arrived
//   Incoming in = messenger.receive(bytes, from, now);
//
// What it does:
//   - retransmits confirmable messages (§4.8): the first timeout is random in
//     [ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR], doubled each time, up
//     to MAX_RETRANSMIT retransmissions; then gives the exchange up;
//   - NSTART = 1 (§4.7): one outstanding confirmable message per peer, the
//     rest wait in order;
//   - matches ACK and RST to outstanding confirmable messages by (peer,
//     message ID) (§4.2, §4.3); an ACK ends retransmission whether it
//     carries a response (piggybacked) or is empty (a separate response
//     follows, §5.2.2);
//   - detects duplicate CON and NON messages by (peer, message ID) for
//     EXCHANGE_LIFETIME / NON_LIFETIME (§4.5) in a bounded table (the oldest
//     entry is evicted when full), and hands back the reply cached for a
//     duplicate CON so it can be sent again;
//   - generates message IDs (sequential from a random start, §4.4) and
//     random tokens (§5.3.1).
//
// Storage is fixed: Messenger<kExchanges, kMessageSize, kDedupEntries,
// kReplySize> holds everything; no heap.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/coap/message.hpp"
#include "mote/io/address.hpp"

namespace mote::coap {

using async::Duration;
using async::Instant;

// §4.8 and §4.8.2.
struct TransmissionParameters {
  Duration ack_timeout = std::chrono::seconds(2);
  std::uint16_t ack_random_factor_per_mille = 1500;
  std::uint8_t max_retransmit = 4;
  Duration exchange_lifetime = std::chrono::seconds(247);
  Duration non_lifetime = std::chrono::seconds(145);
};

// A small PRNG (xorshift32) for message IDs, tokens and timeouts. §5.3.1
// asks for tokens an off-path attacker cannot guess: seed it from a real
// entropy source (getrandom(), a hardware RNG).
class Random {
 public:
  explicit Random(std::uint32_t seed) : state_(seed == 0 ? 0x9e3779b9u : seed) {}
  std::uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

 private:
  std::uint32_t state_;
};

// Names one outstanding confirmable message; stale handles match nothing.
struct ExchangeHandle {
  std::uint16_t index = 0xffff;
  std::uint16_t generation = 0;
  friend bool operator==(ExchangeHandle, ExchangeHandle) = default;
};

// What poll() asks the owner to do.
struct Action {
  enum Kind : std::uint8_t {
    none,      // nothing due now: come back at poll_at()
    transmit,  // send `bytes` to `to` (a first transmission or a retransmission)
    give_up,   // `exchange` got no ACK or RST after MAX_RETRANSMIT (§4.2)
  };
  Kind kind = none;
  io::Endpoint to;
  ConstByteSpan bytes;  // valid until the next call into the messenger
  ExchangeHandle exchange;
};

// What receive() made of a datagram.
struct Incoming {
  enum Kind : std::uint8_t {
    ignored,       // not for anyone: an ACK/RST matching nothing, an unknown version
    reject,        // answer with RST for `message_id` (§4.2, §4.3): a format
                   // error in a CON, or an empty CON ("ping", §4.3)
    new_message,   // a CON or NON seen for the first time: `message`
    duplicate,     // seen before: send `reply` again if it is not empty (§4.5)
    acknowledged,  // an ACK for `exchange`; `message` may carry a response
    reset,         // an RST: for `exchange` if one matched, else for a NON we sent
  };
  Kind kind = ignored;
  Message message;
  std::uint16_t message_id = 0;
  ExchangeHandle exchange;
  ConstByteSpan reply;
};

// Writes an empty ACK or RST (§4.1) for `message_id`; 4 bytes.
Result<std::size_t> encode_empty(Type type, std::uint16_t message_id, ByteSpan out);

namespace internal {

struct ExchangeSlot {
  enum class State : std::uint8_t { free, queued, in_flight };
  io::Endpoint to;
  Instant next_at = async::kNever;
  Duration timeout{};
  std::size_t size = 0;
  std::uint16_t message_id = 0;
  std::uint16_t generation = 0;
  std::uint8_t transmissions = 0;  // sent so far
  State state = State::free;
};

struct DedupEntry {
  io::Endpoint from;
  Instant expires;
  std::uint16_t message_id = 0;
  std::uint16_t reply_size = 0;
  bool used = false;
};

}  // namespace internal

// The storage-independent part; Messenger<...> below gives it storage.
class MessengerCore {
 public:
  struct Storage {
    std::span<internal::ExchangeSlot> exchanges;
    ByteSpan exchange_bytes;  // exchanges.size() * message_size
    std::size_t message_size;
    std::span<internal::DedupEntry> dedup;
    ByteSpan reply_bytes;  // dedup.size() * reply_size
    std::size_t reply_size;
  };
  MessengerCore(Storage storage, std::uint32_t seed, const TransmissionParameters& parameters);
  MessengerCore(const MessengerCore&) = delete;
  MessengerCore& operator=(const MessengerCore&) = delete;

  std::uint16_t next_message_id() { return next_message_id_++; }
  // Fills `token` with random bytes.
  void make_token(ByteSpan token);
  std::uint32_t random() { return random_.next(); }

  // Takes a copy of a confirmable message (its message ID read from the
  // bytes) for reliable transmission to `to`. resource_exhausted when every
  // exchange slot is taken; invalid_argument if the bytes are not a CON
  // message or larger than a slot.
  Result<ExchangeHandle> send_confirmable(io::Endpoint to, ConstByteSpan message, Instant now);
  // Stops retransmitting (the caller lost interest); a no-op for a stale handle.
  void cancel(ExchangeHandle exchange);
  [[nodiscard]] bool outstanding(ExchangeHandle exchange) const;

  Action poll(Instant now);
  [[nodiscard]] Instant poll_at() const;

  Incoming receive(ConstByteSpan datagram, io::Endpoint from, Instant now);
  // The reply sent to the CON `message_id` from `to`, for duplicates (§4.5).
  // Not kept if larger than the cache's slots.
  void remember_reply(io::Endpoint to, std::uint16_t message_id, ConstByteSpan reply);

  [[nodiscard]] const TransmissionParameters& parameters() const { return parameters_; }
  // Dedup entries evicted before their lifetime ended (table too small).
  [[nodiscard]] std::uint32_t dedup_evictions() const { return dedup_evictions_; }

 private:
  ByteSpan slot_bytes(std::size_t index);
  internal::ExchangeSlot* find_in_flight(const io::Endpoint& peer, std::uint16_t message_id);
  void finish(internal::ExchangeSlot& slot);
  void start_next_for(const io::Endpoint& peer, Instant now);
  void start(internal::ExchangeSlot& slot, Instant now);
  internal::DedupEntry* find_dedup(const io::Endpoint& from, std::uint16_t message_id, Instant now);

  Storage storage_;
  TransmissionParameters parameters_;
  Random random_;
  std::uint16_t next_message_id_;
  std::uint32_t dedup_evictions_ = 0;
};

template <std::size_t kExchanges = 4, std::size_t kMessageSize = kMaxMessageSize,
          std::size_t kDedupEntries = 16, std::size_t kReplySize = 128>
class Messenger : public MessengerCore {
 public:
  explicit Messenger(std::uint32_t seed, const TransmissionParameters& parameters = {})
      : MessengerCore(
            Storage{exchanges_, exchange_bytes_, kMessageSize, dedup_, reply_bytes_, kReplySize},
            seed, parameters) {}

 private:
  std::array<internal::ExchangeSlot, kExchanges> exchanges_{};
  std::array<std::byte, kExchanges * kMessageSize> exchange_bytes_{};
  std::array<internal::DedupEntry, kDedupEntries> dedup_{};
  std::array<std::byte, kDedupEntries * kReplySize> reply_bytes_{};
};

}  // namespace mote::coap
