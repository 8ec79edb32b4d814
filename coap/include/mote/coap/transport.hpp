#pragma once
// The I/O half under coap::Client and coap::Server: one datagram socket, one
// Messenger, one loop that is the only sender. Requests and notifications
// queue their messages here and wake the loop; the loop transmits what the
// messenger says is due, and waits for a datagram, the messenger's next
// deadline or a wake-up, whichever comes first.

#include <algorithm>
#include <array>
#include <cstddef>
#include <variant>

#include "mote/async/executor.hpp"
#include "mote/async/join.hpp"
#include "mote/async/signal.hpp"
#include "mote/async/task.hpp"
#include "mote/async/timeout.hpp"
#include "mote/base/intrusive_list.hpp"
#include "mote/coap/messenger.hpp"
#include "mote/io/concepts.hpp"

namespace mote::coap {

// A datagram waiting for the loop to send it once (NON messages, replies
// built outside the loop). It lives in the sender's frame; the loop unlinks
// it once sent, and a sender that goes away unlinks it too.
struct OneShotDatagram : IntrusiveListNode {
  io::Endpoint to;
  ConstByteSpan bytes;
};

template <io::DatagramSocket Socket, std::size_t kExchanges>
class Transport {
 public:
  using MessengerType = Messenger<kExchanges>;

  Transport(Socket& socket, std::uint32_t seed, const TransmissionParameters& parameters)
      : socket_(socket), messenger_(seed, parameters) {}
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
  ~Transport() { one_shots_.clear(); }

  MessengerType& messenger() { return messenger_; }
  Socket& socket() { return socket_; }

  // Wakes the loop: a message was queued or something else changed.
  void wake() {
    if (!wake_.signaled()) wake_.signal();
  }
  void send_once(OneShotDatagram& datagram) {
    one_shots_.push_back(datagram);
    wake();
  }
  void stop() {
    stopping_ = true;
    wake();
  }
  [[nodiscard]] bool stopping() const { return stopping_; }

  // Sends a reply from inside the loop.
  async::Task<Status> send(ConstByteSpan bytes, io::Endpoint to) {
    co_return co_await socket_.send_to(bytes, to);
  }

  // Hands a received datagram (in receive_buffer()) to the messenger and
  // does what the message layer does alone: RST for a rejected message, the
  // cached reply for a duplicate (§4.5). What is left for the client or
  // server comes back; handled datagrams come back as `ignored`.
  async::Task<Incoming> take(const io::Datagram& datagram) {
    Incoming incoming = messenger_.receive(ConstByteSpan(receive_buffer_.data(), datagram.size),
                                           datagram.from, async::now());
    if (incoming.kind == Incoming::reject) {
      co_await send_empty(Type::reset, incoming.message_id, datagram.from);
      incoming.kind = Incoming::ignored;
    } else if (incoming.kind == Incoming::duplicate) {
      if (!incoming.reply.empty()) {
        static_cast<void>(co_await socket_.send_to(incoming.reply, datagram.from));
      }
      incoming.kind = Incoming::ignored;
    }
    co_return incoming;
  }

  // Sends an empty ACK or RST (§4.1). An ACK is remembered as the reply to
  // `message_id`, for duplicates.
  async::Task<void> send_empty(Type type, std::uint16_t message_id, io::Endpoint to) {
    std::array<std::byte, kHeaderSize> reply;
    static_cast<void>(encode_empty(type, message_id, reply));
    static_cast<void>(co_await socket_.send_to(reply, to));
    if (type == Type::acknowledgement) messenger_.remember_reply(to, message_id, reply);
  }

  // Transmits everything due, hands give-ups to `on_give_up`, then waits
  // (at the latest until `also_at`, the owner's own next deadline).
  // Yields the received datagram (its bytes in receive_buffer()), or an
  // empty optional when woken or a deadline passed, or the socket's error.
  template <typename OnGiveUp>
  async::Task<Result<std::optional<io::Datagram>>> next(OnGiveUp on_give_up,
                                                        Instant also_at = async::kNever) {
    const Instant now = async::now();
    for (Action action = messenger_.poll(now); action.kind != Action::none;
         action = messenger_.poll(now)) {
      if (action.kind == Action::give_up) {
        on_give_up(action.exchange);
        continue;
      }
      // A failed send is as good as a lost datagram: retransmission covers it.
      static_cast<void>(co_await socket_.send_to(action.bytes, action.to));
    }
    while (!one_shots_.empty()) {
      OneShotDatagram& datagram = one_shots_.pop_front();
      static_cast<void>(co_await socket_.send_to(datagram.bytes, datagram.to));
    }
    if (stopping_) co_return std::optional<io::Datagram>();
    // kNever is far away; an hour keeps the timer arithmetic plain.
    const Instant deadline = std::min({messenger_.poll_at(), also_at, now + std::chrono::hours(1)});
    Result<std::optional<io::Datagram>> waited =
        co_await async::with_deadline(deadline, wait_input());
    if (waited.status() == Status::deadline_exceeded()) co_return std::optional<io::Datagram>();
    co_return waited;
  }

  ByteSpan receive_buffer() { return receive_buffer_; }
  ByteSpan send_buffer() { return send_buffer_; }

 private:
  async::Task<Result<io::Datagram>> receive() {
    co_return co_await socket_.receive_from(receive_buffer_);
  }
  async::Task<void> woken() { co_await wake_.wait(); }
  // A datagram, or an empty optional when woken first.
  async::Task<Result<std::optional<io::Datagram>>> wait_input() {
    auto first = co_await async::select(receive(), woken());
    // get_if, not get: std::get's bad_variant_access path would link abort().
    Result<io::Datagram>* received = std::get_if<0>(&first);
    if (received == nullptr) co_return std::optional<io::Datagram>();
    MOTE_CO_TRY(received->status());
    co_return std::optional<io::Datagram>(**received);
  }

  Socket& socket_;
  MessengerType messenger_;
  async::Signal<> wake_;
  IntrusiveList<OneShotDatagram> one_shots_;
  bool stopping_ = false;
  std::array<std::byte, kMaxMessageSize> receive_buffer_{};
  std::array<std::byte, kMaxMessageSize> send_buffer_{};
};

}  // namespace mote::coap
