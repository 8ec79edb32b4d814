#pragma once
// A CoAP client (RFC 7252 §5, §8) with Observe (RFC 7641 §3) and block-wise
// transfers (RFC 7959), written against io::DatagramSocket so it runs on the
// kernel's UDP and on mote's own stack. No heap: every buffer is the
// caller's or a member.
//
//   coap::Client<KernelUdpSocket> client(socket, seed);
//   // one task runs the loop (receives, retransmits, acknowledges) ...
//   executor.spawn(loop_storage, [&] { return client.run(); });
//   // ... others make requests
//   std::byte message[coap::kMaxMessageSize], body[4096];
//   Result<coap::Response> r = co_await client.get(server, "sensors/temp", message, body);
//
// request(): completes with the response (a Message in `response_buffer`,
// the assembled body in `body` for block-wise responses, otherwise the
// message's payload), or
//   deadline_exceeded  no ACK after MAX_RETRANSMIT retransmissions (§4.2),
//                      or no response within Options::request_timeout
//   aborted            the server answered with RST
//   resource_exhausted a buffer is too small; all exchange slots busy
//   data_loss          a block-wise transfer went wrong (a block out of order)
// Cancels: destroying the awaiting coroutine stops retransmission and
// forgets the request; a late response is then answered with RST.
// Buffers: the request's fields and both buffers stay valid until it completes.
//
// Observe: observe() registers (GET with Observe: 0) and yields the first
// response; next() waits for the next fresh notification (reordered ones are
// dropped by the RFC 7641 §3.4 rule); cancel() deregisters with GET
// Observe: 1 (§3.6). An Observation lives in the caller's frame.

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "mote/async/event.hpp"
#include "mote/async/signal.hpp"
#include "mote/async/task.hpp"
#include "mote/async/timeout.hpp"
#include "mote/base/intrusive_list.hpp"
#include "mote/coap/block.hpp"
#include "mote/coap/message.hpp"
#include "mote/coap/messenger.hpp"
#include "mote/coap/transport.hpp"

namespace mote::coap {

struct Request {
  Code method = codes::kGet;
  std::string_view path;   // "a/b", one Uri-Path option per segment
  std::string_view query;  // "x=1&y=2", one Uri-Query option per '&'-separated part
  ConstByteSpan payload;
  std::optional<std::uint16_t> content_format;
  std::optional<std::uint16_t> accept;
  bool confirmable = true;
  // Largest block to send and ask for (16..1024, RFC 7959 §2.2). A body
  // larger than this goes out block-wise (Block1); below 1024 the first
  // request asks the server for blocks this small (Block2, §2.4).
  std::uint16_t block_size = 1024;
};

struct Response {
  Code code;
  Message message;        // the last response message, in response_buffer
  ConstByteSpan payload;  // the whole body: in `body` when it came in blocks
};

// The 24-bit sequence of notifications from one Observe registration.
class Observation : public IntrusiveListNode {
 public:
  // `buffer` holds notifications as they arrive (kMaxMessageSize suffices).
  explicit Observation(ByteSpan buffer) : buffer_(buffer) {}
  Observation(const Observation&) = delete;
  Observation& operator=(const Observation&) = delete;

  // Registered, and the server has not ended it (a response without Observe).
  [[nodiscard]] bool active() const { return active_; }
  [[nodiscard]] std::uint32_t sequence() const { return sequence_; }
  // RFC 7641 §3.3.1: the latest notification is fresh until its Max-Age
  // (60 s when absent) has passed.
  [[nodiscard]] Instant fresh_until() const { return received_at_ + max_age_; }
  // Notifications dropped as older than the one taken (§3.4).
  [[nodiscard]] std::uint32_t reordered() const { return reordered_; }

 private:
  template <io::DatagramSocket, std::size_t>
  friend class Client;
  ByteSpan buffer_;
  std::size_t size_ = 0;
  io::Endpoint server_;
  Token token_;
  std::string_view path_;
  Instant received_at_;
  Duration max_age_ = std::chrono::seconds(60);
  std::uint32_t sequence_ = 0;
  std::optional<std::uint32_t> registration_sequence_;  // Observe in the registration's response
  bool have_sequence_ = false;
  std::uint32_t reordered_ = 0;
  bool active_ = false;
  bool has_value_ = false;   // a notification came in; not yet taken
  bool registered_ = false;  // the first response came in
  async::Signal<> arrived_;
};

template <io::DatagramSocket Socket, std::size_t kExchanges = 4>
class Client {
 public:
  struct Options {
    TransmissionParameters transmission;
    // MAX_TRANSMIT_WAIT (§4.8.2) with the default parameters.
    Duration request_timeout = std::chrono::seconds(93);
    std::uint8_t token_size = 4;
  };

  // `seed` drives message IDs and tokens: give it real entropy (§5.3.1).
  Client(Socket& socket, std::uint32_t seed, const Options& options = {})
      : transport_(socket, seed, options.transmission), options_(options) {}
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() {
    pending_.clear();
    observations_.clear();
  }

  // Receives, retransmits and acknowledges until stop() (ok) or the socket
  // fails (its error). Requests need it running.
  async::Task<Status> run() {
    for (;;) {
      auto got = co_await transport_.next([this](ExchangeHandle h) { on_give_up(h); });
      if (transport_.stopping()) co_return ok_status();
      MOTE_CO_TRY(got.status());
      if (got->has_value()) co_await on_datagram(**got);
    }
  }
  void stop() { transport_.stop(); }

  async::Task<Result<Response>> request(io::Endpoint server, const Request& request,
                                        ByteSpan response_buffer, ByteSpan body = {}) {
    return request_with(server, request, response_buffer, body, nullptr);
  }
  async::Task<Result<Response>> get(io::Endpoint server, std::string_view path,
                                    ByteSpan response_buffer, ByteSpan body = {}) {
    Request r;
    r.path = path;
    co_return co_await request_with(server, r, response_buffer, body, nullptr);
  }

  // Registers `observation` on `path` and yields the first response (in
  // `response_buffer`; a block-wise body is assembled in `body`).
  // observation.active() says whether the server took the registration (its
  // response carries Observe).
  async::Task<Result<Response>> observe(io::Endpoint server, std::string_view path,
                                        Observation& observation, ByteSpan response_buffer,
                                        ByteSpan body = {}) {
    Request r;
    r.path = path;
    observation.server_ = server;
    observation.path_ = path;
    observation.token_ = new_token();
    observation.active_ = true;
    observation.has_value_ = false;
    observation.registered_ = false;
    observation.have_sequence_ = false;
    observations_.push_back(observation);
    Result<Response> first = co_await request_with(server, r, response_buffer, body, &observation);
    observation.registered_ = true;
    if (!first.ok() || !accept_registration(observation, first->message)) {
      observation.unlink();
      observation.active_ = false;
    }
    co_return first;
  }

  // The next fresh notification, copied into `out`. Waits up to `timeout`
  // (deadline_exceeded); failed_precondition once the observation ended
  // (the last message the server sent is still returned once). When the
  // latest notification's Max-Age has run out with nothing newer (lost
  // notifications, a server that forgot us), it registers again with the
  // same token (RFC 7641 §3.3.1) and returns that response. A notification
  // that carries the first block of a larger body (RFC 7959 §2.6) has the
  // rest fetched into `body` (without `body`: resource_exhausted).
  async::Task<Result<Response>> next(Observation& observation, ByteSpan out, Duration timeout,
                                     ByteSpan body = {}) {
    const Instant deadline = async::now() + timeout;
    while (!observation.has_value_) {
      if (!observation.active_) co_return Status::failed_precondition();
      const Instant stale_at = observation.fresh_until() + kReregistrationGrace;
      const Status waited = co_await async::with_deadline(std::min(deadline, stale_at),
                                                          wait_signal(observation.arrived_));
      if (waited.ok() || observation.has_value_) continue;
      if (waited != Status::deadline_exceeded() || async::now() >= deadline) co_return waited;
      co_return co_await reregister(observation, out, body);
    }
    observation.arrived_.reset();
    observation.has_value_ = false;
    if (observation.size_ > out.size()) co_return Status::resource_exhausted();
    std::copy_n(observation.buffer_.begin(), observation.size_, out.begin());
    MOTE_CO_TRY_ASSIGN(const Message notification, Message::parse(out.first(observation.size_)));
    if (!notification.has(OptionNumber::block2)) {
      co_return Response{notification.code(), notification, notification.payload()};
    }
    Request rest;
    rest.path = observation.path_;
    std::array<std::byte, kMaxMessageSize> requests;
    co_return co_await collect_blocks(observation.server_, rest, notification, requests, out, body);
  }

  // Deregisters (RFC 7641 §3.6: GET with Observe: 1 and the same token)
  // and forgets the observation whatever the server answers.
  async::Task<Status> cancel(Observation& observation, ByteSpan response_buffer) {
    if (!observation.linked()) co_return ok_status();
    observation.active_ = false;
    observation.unlink();
    Request r;
    r.path = observation.path_;
    std::array<std::byte, kMaxMessageSize> out;
    MOTE_CO_TRY_ASSIGN(std::size_t size, encode(out, r, observation.token_, {}, std::nullopt,
                                                std::nullopt, kObserveDeregister));
    Result<Message> response =
        co_await exchange(observation.server_, ConstByteSpan(out.data(), size), true,
                          observation.token_, response_buffer);
    co_return response.status();
  }

 private:
  // How long past a notification's Max-Age the client waits for a newer
  // one before registering again.
  static constexpr Duration kReregistrationGrace = std::chrono::seconds(2);

  static constexpr int kMaxBlockRestarts = 3;

  static bool same_etag(const std::optional<Option>& first, const std::optional<Option>& now) {
    if (!first || !now) return !first && !now;
    return std::equal(first->value.begin(), first->value.end(), now->value.begin(),
                      now->value.end());
  }

  // GET with Observe: 0 and the observation's token again; its response
  // counts as the newest notification whatever its sequence number.
  async::Task<Result<Response>> reregister(Observation& observation, ByteSpan response_buffer,
                                           ByteSpan body) {
    Request r;
    r.path = observation.path_;
    Result<Response> response =
        co_await request_with(observation.server_, r, response_buffer, body, &observation);
    if (response.ok() && !accept_registration(observation, response->message)) {
      observation.active_ = false;
      observation.unlink();
    }
    co_return response;
  }

  // Takes the sequence number the registration's response carried (in its
  // first block) and its Max-Age; false when the server did not register us.
  bool accept_registration(Observation& observation, const Message& last) {
    if (!observation.registration_sequence_ || !last.code().is_success()) return false;
    observation.sequence_ = *observation.registration_sequence_;
    observation.have_sequence_ = true;
    observation.received_at_ = async::now();
    observation.max_age_ = std::chrono::seconds(last.find_uint(OptionNumber::max_age).value_or(60));
    observation.has_value_ = false;
    observation.arrived_.reset();
    return true;
  }

  struct Pending : IntrusiveListNode {
    io::Endpoint server;
    Token token;
    ExchangeHandle exchange;
    ByteSpan buffer;
    Result<std::size_t> result = Status::unknown();
    async::Event done;
  };

  Token new_token() {
    Token token;
    token.size = std::min<std::uint8_t>(options_.token_size, kMaxTokenSize);
    transport_.messenger().make_token(ByteSpan(token.data.data(), token.size));
    return token;
  }

  static void add_split(MessageWriter& writer, OptionNumber number, std::string_view text,
                        char separator) {
    while (!text.empty()) {
      const std::size_t end = text.find(separator);
      writer.add_string(number, slice(text, 0, end));
      if (end == std::string_view::npos) break;
      text.remove_prefix(end + 1);
    }
  }

  Result<std::size_t> encode(ByteSpan out, const Request& request, const Token& token,
                             ConstByteSpan payload, std::optional<Block> block1,
                             std::optional<Block> block2, std::optional<std::uint32_t> observe) {
    MessageWriter writer(out, request.confirmable ? Type::confirmable : Type::non_confirmable,
                         request.method, transport_.messenger().next_message_id(), token.bytes());
    if (observe) writer.add_uint(OptionNumber::observe, *observe);
    writer.add_path(OptionNumber::uri_path, request.path);
    if (request.content_format && !payload.empty()) {
      writer.add_uint(OptionNumber::content_format, *request.content_format);
    }
    add_split(writer, OptionNumber::uri_query, request.query, '&');
    if (request.accept) writer.add_uint(OptionNumber::accept, *request.accept);
    if (block2) writer.add_uint(OptionNumber::block2, block2->value());
    if (block1) writer.add_uint(OptionNumber::block1, block1->value());
    if (block2 && block2->num == 0)
      writer.add_uint(OptionNumber::size2, 0);  // §4: "tell me the size"
    if (block1 && block1->num == 0) {
      writer.add_uint(OptionNumber::size1, static_cast<std::uint32_t>(request.payload.size()));
    }
    writer.set_payload(payload);
    return writer.finish();
  }

  static async::Task<void> wait_event(async::Event& event) { co_await event.wait(); }
  static async::Task<void> wait_signal(async::Signal<>& signal) { co_await signal.wait(); }

  // One request/response exchange: `bytes` is a complete request with `token`.
  async::Task<Result<Message>> exchange(io::Endpoint server, ConstByteSpan bytes, bool confirmable,
                                        const Token& token, ByteSpan response_buffer) {
    Pending pending;
    pending.server = server;
    pending.token = token;
    pending.buffer = response_buffer;
    pending_.push_back(pending);
    OneShotDatagram once;
    if (confirmable) {
      MOTE_CO_TRY_ASSIGN(pending.exchange,
                         transport_.messenger().send_confirmable(server, bytes, async::now()));
      transport_.wake();
    } else {
      once.to = server;
      once.bytes = bytes;
      transport_.send_once(once);
    }
    const Status waited =
        co_await async::with_timeout(options_.request_timeout, wait_event(pending.done));
    pending.unlink();
    transport_.messenger().cancel(pending.exchange);
    MOTE_CO_TRY(waited);
    MOTE_CO_TRY_ASSIGN(std::size_t size, pending.result);
    co_return Message::parse(response_buffer.first(size));
  }

  async::Task<Result<Response>> request_with(io::Endpoint server, const Request& request,
                                             ByteSpan response_buffer, ByteSpan body,
                                             Observation* observation) {
    std::array<std::byte, kMaxMessageSize> out;
    const std::uint8_t szx = Block::szx_for(request.block_size);
    const std::optional<std::uint32_t> observe =
        observation != nullptr ? std::optional<std::uint32_t>(kObserveRegister) : std::nullopt;
    const bool early_block2 = request.block_size < 1024;

    // Block1 (RFC 7959 §2.5): the body in blocks, each acknowledged with
    // 2.31 Continue until the last, which gets the final response.
    const bool blockwise_request = request.payload.size() > (1u << (szx + 4));
    std::uint8_t block1_szx = szx;
    std::uint32_t num = 0;
    Message response;
    for (;;) {
      ConstByteSpan chunk = request.payload;
      std::optional<Block> block1;
      if (blockwise_request) {
        const std::size_t size = std::size_t{1} << (block1_szx + 4);
        const std::size_t offset = std::size_t{num} * size;
        if (offset >= request.payload.size()) co_return Status::data_loss();
        chunk = request.payload.subspan(offset, std::min(size, request.payload.size() - offset));
        block1 = Block{num, offset + chunk.size() < request.payload.size(), block1_szx};
      }
      const Token token = observation != nullptr ? observation->token_ : new_token();
      MOTE_CO_TRY_ASSIGN(
          std::size_t size,
          encode(out, request, token, chunk, block1,
                 early_block2 ? std::optional<Block>(Block{0, false, szx}) : std::nullopt,
                 observe));
      MOTE_CO_TRY_ASSIGN(response, co_await exchange(server, ConstByteSpan(out.data(), size),
                                                     request.confirmable, token, response_buffer));
      if (!block1 || !block1->more || response.code() != codes::kContinue) break;
      // §2.5: the server may ask for smaller blocks in its 2.31 response.
      std::uint32_t next_offset = block1->offset() + block1->size();
      if (const std::optional<std::uint32_t> value = response.find_uint(OptionNumber::block1)) {
        const Result<Block> answer = Block::from_value(*value);
        if (answer.ok() && answer->szx < block1_szx) block1_szx = answer->szx;
      }
      num = next_offset >> (block1_szx + 4);
    }

    if (observation != nullptr) {
      observation->registration_sequence_ = response.find_uint(OptionNumber::observe);
    }
    co_return co_await collect_blocks(server, request, response, out, response_buffer, body);
  }

  // Block2 (§2.4): copies `response`'s block into `body` and fetches the
  // rest block by block (`out` for the requests, `response_buffer` for the
  // responses). A response without Block2 is the whole body.
  async::Task<Result<Response>> collect_blocks(io::Endpoint server, const Request& request,
                                               Message response, ByteSpan out,
                                               ByteSpan response_buffer, ByteSpan body) {
    std::size_t body_size = 0;
    std::optional<Option> etag;
    std::array<std::byte, 8> etag_bytes{};
    int restarts = 0;
    for (;;) {
      const std::optional<std::uint32_t> value = response.find_uint(OptionNumber::block2);
      if (!value || !response.code().is_success()) break;
      const Result<Block> block = Block::from_value(*value);
      if (!block.ok()) co_return Status::data_loss();
      // RFC 7959 §2.4: a different ETag means the representation changed
      // under the transfer: start again from block 0 (a few times at most).
      const std::optional<Option> tag = response.find(OptionNumber::etag);
      std::uint32_t next_num = block->num + 1;
      if (body_size != 0 && !same_etag(etag, tag)) {
        if (++restarts > kMaxBlockRestarts) co_return Status::aborted();
        body_size = 0;
        next_num = 0;
      } else {
        if (block->offset() != body_size) co_return Status::data_loss();
        if (body_size == 0 && tag && tag->value.size() <= etag_bytes.size()) {
          std::copy(tag->value.begin(), tag->value.end(), etag_bytes.begin());
          etag = Option{tag->number, ConstByteSpan(etag_bytes.data(), tag->value.size())};
        } else if (body_size == 0) {
          etag.reset();
        }
        if (response.payload().size() > body.size() - body_size) {
          co_return Status::resource_exhausted();
        }
        std::copy(response.payload().begin(), response.payload().end(),
                  body.subspan(body_size).begin());
        body_size += response.payload().size();
        if (!block->more) {
          co_return Response{response.code(), response, body.first(body_size)};
        }
      }
      Request next = request;
      next.payload = {};
      const Token token = new_token();
      MOTE_CO_TRY_ASSIGN(std::size_t size,
                         encode(out, next, token, {}, std::nullopt,
                                Block{next_num, false, block->szx}, std::nullopt));
      MOTE_CO_TRY_ASSIGN(response, co_await exchange(server, out.first(size), request.confirmable,
                                                     token, response_buffer));
    }
    co_return Response{response.code(), response, response.payload()};
  }

  void on_give_up(ExchangeHandle exchange) {
    for (Pending& pending : pending_) {
      if (pending.exchange == exchange) finish(pending, Status::deadline_exceeded());
    }
  }

  void finish(Pending& pending, const Result<std::size_t>& result) {
    pending.result = result;
    pending.exchange = {};
    pending.done.set();
  }

  void deliver(Pending& pending, const Message& message) {
    const ConstByteSpan bytes = message.bytes();
    if (bytes.size() > pending.buffer.size()) {
      finish(pending, Status::resource_exhausted());
      return;
    }
    std::copy(bytes.begin(), bytes.end(), pending.buffer.begin());
    finish(pending, bytes.size());
  }

  // A notification (or the observation's final response) after registration.
  void take(Observation& observation, std::uint32_t sequence, const Message& message) {
    const Instant now = async::now();
    if (observation.have_sequence_ &&
        !is_fresher_notification(observation.sequence_, observation.received_at_, sequence, now)) {
      ++observation.reordered_;
      return;
    }
    observation.sequence_ = sequence;
    observation.have_sequence_ = true;
    observation.received_at_ = now;
    observation.max_age_ =
        std::chrono::seconds(message.find_uint(OptionNumber::max_age).value_or(60));
    store(observation, message);
  }

  static void store(Observation& observation, const Message& message) {
    const ConstByteSpan bytes = message.bytes();
    if (bytes.size() > observation.buffer_.size()) return;
    std::copy(bytes.begin(), bytes.end(), observation.buffer_.begin());
    observation.size_ = bytes.size();
    observation.has_value_ = true;
    observation.arrived_.signal();
  }

  async::Task<void> on_datagram(const io::Datagram& datagram) {
    const Incoming incoming = co_await transport_.take(datagram);
    const Message& message = incoming.message;
    switch (incoming.kind) {
      case Incoming::ignored:
      case Incoming::reject:
      case Incoming::duplicate: co_return;  // nothing left to do, or answered by the transport
      case Incoming::reset:
        for (Pending& pending : pending_) {
          if (pending.exchange == incoming.exchange) finish(pending, Status::aborted());
        }
        co_return;
      case Incoming::acknowledged:
        if (message.code().is_empty()) co_return;  // a separate response follows (§5.2.2)
        if (message.first_unrecognised_critical()) co_return;  // §5.4.1: rejected
        for (Pending& pending : pending_) {
          if (pending.exchange == incoming.exchange && pending.token.matches(message.token())) {
            deliver(pending, message);
            co_return;
          }
        }
        co_return;
      case Incoming::new_message: break;
    }
    // A CON or NON: a separate response or a notification, matched by token
    // and endpoint (§5.3.2); anything else is rejected with RST (RFC 7641
    // §3.6 makes that the way to end unwanted notifications).
    bool taken = false;
    if (message.code().is_response() && !message.first_unrecognised_critical()) {
      for (Pending& pending : pending_) {
        if (pending.server == datagram.from && pending.token.matches(message.token())) {
          deliver(pending, message);
          taken = true;
          break;
        }
      }
      if (!taken) {
        for (Observation& observation : observations_) {
          if (!(observation.server_ == datagram.from) ||
              !observation.token_.matches(message.token())) {
            continue;
          }
          taken = true;
          if (!observation.registered_) break;  // the registration's response is not in yet
          const std::optional<std::uint32_t> sequence = message.find_uint(OptionNumber::observe);
          if (sequence && message.code().is_success()) {
            take(observation, *sequence, message);
          } else {
            // §3.2: a response without Observe (or an error) ends it.
            observation.active_ = false;
            observation.unlink();
            store(observation, message);
          }
          break;
        }
      }
    }
    if (taken && message.type() == Type::confirmable) {
      co_await transport_.send_empty(Type::acknowledgement, message.message_id(), datagram.from);
    } else if (!taken) {
      co_await transport_.send_empty(Type::reset, message.message_id(), datagram.from);
    }
  }

  Transport<Socket, kExchanges> transport_;
  Options options_;
  IntrusiveList<Pending> pending_;
  IntrusiveList<Observation> observations_;
};

}  // namespace mote::coap
