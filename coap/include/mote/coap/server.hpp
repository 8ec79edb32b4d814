#pragma once
// A CoAP server (RFC 7252 §5, §8) with resource discovery (RFC 6690),
// Observe (RFC 7641 §4) and block-wise transfers (RFC 7959), written against
// io::DatagramSocket. No heap: resources are the application's objects,
// observers and buffers are fixed-size members.
//
//   struct Temperature : coap::Resource {
//     Temperature() : Resource("sensors/temp", {.resource_type = "temperature-c",
//                                               .content_format = 0, .observable = true}) {}
//     void handle(const coap::ServerRequest& request, coap::ResponseBuilder& response) override {
//       response.set_content_format(coap::ContentFormat::text_plain);
//       response.write("21.5");
//     }
//   } temperature;
//   coap::Server<KernelUdpSocket> server(socket, seed);
//   server.add(temperature);
//   executor.spawn(storage, [&] { return server.run(); });
//   ...
//   server.notify(temperature);  // the value changed: observers get a notification
//
// What the server does for every request:
//   - CON requests get a piggybacked response in the ACK, NON requests a NON
//     response (§5.2); duplicates get the same reply again (§4.5);
//   - an unrecognised critical option: 4.02 Bad Option (§5.4.1);
//   - GET /.well-known/core: every resource in link format (RFC 6690 §4)
//     with rt, if, ct and obs;
//   - a body larger than the block size goes out in Block2 blocks (the
//     client's requested size or `block_size`, whichever is smaller), with
//     Size2 in the first; a request body in Block1 blocks is reassembled
//     (one transfer at a time) and handed to the resource whole, with 2.31
//     Continue for each block, 4.08 for a block out of order, 4.13 with
//     Size1 for a body too large (RFC 7959 §2.5, §2.9);
//   - GET with Observe: 0 on an observable resource registers the client
//     (same endpoint and token replaces, §4.1), Observe: 1 or an RST to a
//     notification deregisters it (§3.6); notify() sends every observer the
//     new representation with an increasing sequence number, NON except
//     every `confirmable_every`-th which is CON (§4.5: a client that does not
//     acknowledge a CON notification is removed);
//   - No-Response (RFC 7967) suppresses the classes of response it names.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string_view>

#include "mote/async/task.hpp"
#include "mote/base/intrusive_list.hpp"
#include "mote/coap/block.hpp"
#include "mote/coap/link_format.hpp"
#include "mote/coap/message.hpp"
#include "mote/coap/messenger.hpp"
#include "mote/coap/transport.hpp"

namespace mote::coap {

struct ServerRequest {
  const Message& message;
  ConstByteSpan payload;  // the whole body (reassembled when it came in Block1 blocks)
  io::Endpoint from;
  bool notification = false;  // building an Observe notification, not answering a request
};

// Where a separate response goes (RFC 7252 §5.2.2): kept by a handler that
// called ResponseBuilder::defer(), passed to Server::respond_later().
struct DeferredResponse {
  io::Endpoint peer;
  Token token;
  static DeferredResponse from(const ServerRequest& request) {
    return {request.from, Token::from(request.message.token())};
  }
};

// What a resource's handler fills in. The body goes into the server's body
// buffer; write() past its end sets resource_exhausted and the server
// answers 5.00.
class ResponseBuilder {
 public:
  explicit ResponseBuilder(ByteSpan body) : body_(body) {}

  void set_code(Code code) { code_ = code; }
  void set_content_format(ContentFormat format) {
    content_format_ = static_cast<std::uint16_t>(format);
  }
  void set_content_format(std::uint16_t format) { content_format_ = format; }
  void set_max_age(std::uint32_t seconds) { max_age_ = seconds; }
  void write(ConstByteSpan bytes) {
    if (bytes.size() > body_.size() - size_) {
      overflow_ = true;
      return;
    }
    std::copy(bytes.begin(), bytes.end(), body_.subspan(size_).begin());
    size_ += bytes.size();
  }
  void write(std::string_view text) { write(bytes_of(text)); }
  // Room left, for handlers that build the body in place (then commit()).
  [[nodiscard]] ByteSpan room() { return body_.subspan(size_); }
  void commit(std::size_t bytes) { size_ += std::min(bytes, body_.size() - size_); }

  [[nodiscard]] Code code() const { return code_; }
  [[nodiscard]] std::optional<std::uint16_t> content_format() const { return content_format_; }
  [[nodiscard]] std::optional<std::uint32_t> max_age() const { return max_age_; }
  [[nodiscard]] ConstByteSpan body() const { return ConstByteSpan(body_.data(), size_); }
  [[nodiscard]] bool overflowed() const { return overflow_; }
  // The answer comes later through Server::respond_later() (§5.2.2): a CON
  // request gets an empty ACK now. Not for notifications.
  void defer() { deferred_ = true; }
  [[nodiscard]] bool deferred() const { return deferred_; }

 private:
  ByteSpan body_;
  std::size_t size_ = 0;
  Code code_ = codes::kContent;
  std::optional<std::uint16_t> content_format_;
  std::optional<std::uint32_t> max_age_;
  bool overflow_ = false;
  bool deferred_ = false;
};

// A resource at one path. The handler runs in the server's loop and must
// not wait; it answers every method (4.05 for those it does not take).
class Resource : public IntrusiveListNode {
 public:
  // `path` without the leading '/', "a/b"; both strings must outlive the resource.
  explicit Resource(std::string_view path, const LinkAttributes& attributes = {})
      : path_(path), attributes_(attributes) {}
  Resource(const Resource&) = delete;
  Resource& operator=(const Resource&) = delete;

  virtual void handle(const ServerRequest& request, ResponseBuilder& response) = 0;

  [[nodiscard]] std::string_view path() const { return path_; }
  [[nodiscard]] const LinkAttributes& attributes() const { return attributes_; }

 protected:
  ~Resource() = default;

 private:
  std::string_view path_;
  LinkAttributes attributes_;
};

template <io::DatagramSocket Socket, std::size_t kMaxBody = 4096, std::size_t kObservers = 8,
          std::size_t kExchanges = 4>
class Server {
 public:
  struct Options {
    TransmissionParameters transmission;
    std::uint16_t block_size = 1024;     // largest Block2/Block1 block (16..1024)
    std::uint8_t confirmable_every = 8;  // every Nth notification is CON
  };

  Server(Socket& socket, std::uint32_t seed, const Options& options = {})
      : transport_(socket, seed, options.transmission), options_(options) {}
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server() { resources_.clear(); }

  void add(Resource& resource) { resources_.push_back(resource); }
  // Requests for a path no added resource has go to `resource` (its own
  // path is ignored, it is not listed in /.well-known/core and it cannot be
  // observed): for paths that name things the application creates on
  // demand, such as the gateway's /<prefix>/<device>/<metric>. Its handler
  // reads the path from the request (Message::uri_path) and answers 4.04
  // itself for paths it does not take.
  void set_fallback(Resource& resource) { fallback_ = &resource; }
  void remove(Resource& resource) {
    for (Observer& observer : observers_) {
      if (observer.resource == &resource) observer = Observer{};
    }
    resources_.remove(resource);
  }

  // Observers of `resource` get a notification from the loop.
  void notify(Resource& resource) {
    bool any = false;
    for (Observer& observer : observers_) {
      if (observer.resource == &resource) {
        observer.dirty = true;
        any = true;
      }
    }
    if (any) transport_.wake();
  }
  // Sends the separate response to a request whose handler deferred it, as
  // a CON (retransmitted until acknowledged, §5.2.2). Not block-wise: the
  // payload must fit one message. resource_exhausted when it does not or
  // every exchange slot is busy. Call from any task on the server's executor.
  Status respond_later(const DeferredResponse& to, Code code,
                       std::optional<std::uint16_t> content_format, ConstByteSpan payload) {
    Reply reply;
    reply.code = code;
    reply.content_format = content_format;
    reply.payload = payload;
    std::array<std::byte, kMaxMessageSize> bytes;
    MOTE_TRY_ASSIGN(std::size_t size,
                    encode(bytes, Type::confirmable, transport_.messenger().next_message_id(),
                           to.token, reply));
    MOTE_TRY(transport_.messenger()
                 .send_confirmable(to.peer, ConstByteSpan(bytes.data(), size), async::now())
                 .status());
    transport_.wake();
    return ok_status();
  }

  [[nodiscard]] std::size_t observer_count() const {
    return static_cast<std::size_t>(std::count_if(observers_.begin(), observers_.end(),
                                                  [](const Observer& o) { return o.resource; }));
  }

  // Serves until stop() (ok) or the socket fails (its error).
  async::Task<Status> run() {
    for (;;) {
      auto got =
          co_await transport_.next([this](ExchangeHandle h) { on_give_up(h); }, next_refresh());
      if (transport_.stopping()) co_return ok_status();
      MOTE_CO_TRY(got.status());
      if (got->has_value()) co_await on_datagram(**got);
      co_await send_notifications();
    }
  }
  void stop() { transport_.stop(); }

 private:
  struct Observer {
    Resource* resource = nullptr;
    io::Endpoint peer;
    Token token;
    ExchangeHandle confirmable;         // a CON notification in flight
    std::uint16_t last_message_id = 0;  // of the last NON notification
    std::uint8_t since_confirmable = 0;
    bool dirty = false;
    // RFC 7641 §4.3.1: before the last representation sent goes stale
    // (its Max-Age), the observer gets it again.
    Instant refresh_at = async::kNever;
  };

  // §4.3.1 keeps a notification's Max-Age meaningful: refresh a little
  // before it runs out; representations fresh for under 2 s are not refreshed
  // (that would be a notification storm).
  static Instant refresh_time(std::optional<std::uint32_t> max_age_seconds, Instant now) {
    const std::uint32_t max_age = max_age_seconds.value_or(60);
    if (max_age < 2) return async::kNever;
    const std::uint32_t early = std::max<std::uint32_t>(1, max_age / 10);
    return now + std::chrono::seconds(max_age - early);
  }

  [[nodiscard]] Instant next_refresh() {
    Instant earliest = async::kNever;
    for (const Observer& observer : observers_) {
      // One with a CON notification in flight waits for its ACK or give-up,
      // which wakes the loop anyway.
      if (observer.resource != nullptr &&
          !transport_.messenger().outstanding(observer.confirmable)) {
        earliest = std::min(earliest, observer.refresh_at);
      }
    }
    return earliest;
  }

  // The block-wise request body being reassembled (RFC 7959 §2.5).
  struct Block1Transfer {
    bool active = false;
    io::Endpoint peer;
    Resource* resource = nullptr;
    std::size_t size = 0;
  };

  Resource* find(const Message& request) {
    for (Resource& resource : resources_) {
      if (request.uri_path_is(resource.path())) return &resource;
    }
    return fallback_;
  }

  static bool is_well_known_core(const Message& request) {
    return request.uri_path_is(".well-known/core");
  }

  void describe_resources(ResponseBuilder& response) {
    LinkFormatWriter writer(response.room());
    for (Resource& resource : resources_) writer.add(resource.path(), resource.attributes());
    const Result<std::size_t> size = writer.finish();
    if (!size.ok()) {
      response.set_code(codes::kInternalServerError);
      return;
    }
    response.commit(*size);
    response.set_content_format(ContentFormat::link_format);
  }

  // RFC 7967 §2: bit 2 (value 2) suppresses 2.xx, 8: 4.xx, 16: 5.xx.
  static bool suppressed(const Message& request, Code code) {
    const std::optional<std::uint32_t> value = request.find_uint(OptionNumber::no_response);
    if (!value) return false;
    const unsigned code_class = code.code_class();
    return (code_class == 2 && (*value & 2)) || (code_class == 4 && (*value & 8)) ||
           (code_class == 5 && (*value & 16));
  }

  struct Reply {
    Code code = codes::kContent;
    std::optional<std::uint32_t> observe{};
    std::optional<std::uint16_t> content_format{};
    std::optional<std::uint32_t> max_age{};
    std::optional<Block> block2{};
    std::optional<Block> block1{};
    std::optional<std::uint32_t> size2{};
    std::optional<std::uint32_t> size1{};
    std::optional<std::uint32_t> etag{};
    ConstByteSpan payload{};
  };

  static Result<std::size_t> encode(ByteSpan out, Type type, std::uint16_t message_id,
                                    const Token& token, const Reply& reply) {
    MessageWriter writer(out, type, reply.code, message_id, token.bytes());
    if (reply.etag) {
      std::array<std::byte, 4> etag;
      store_be32(etag.data(), *reply.etag);
      writer.add(OptionNumber::etag, etag);
    }
    if (reply.observe) writer.add_uint(OptionNumber::observe, *reply.observe);
    if (reply.content_format) writer.add_uint(OptionNumber::content_format, *reply.content_format);
    if (reply.max_age) writer.add_uint(OptionNumber::max_age, *reply.max_age);
    if (reply.block2) writer.add_uint(OptionNumber::block2, reply.block2->value());
    if (reply.block1) writer.add_uint(OptionNumber::block1, reply.block1->value());
    if (reply.size2) writer.add_uint(OptionNumber::size2, *reply.size2);
    if (reply.size1) writer.add_uint(OptionNumber::size1, *reply.size1);
    writer.set_payload(reply.payload);
    return writer.finish();
  }

  // Fills `reply` from the handler's response, cutting the body into the
  // requested Block2 block (or the first block when it is too large).
  void shape(const Message& request, const ResponseBuilder& response, Reply& reply) {
    reply.code = response.code();
    reply.content_format = response.content_format();
    reply.max_age = response.max_age();
    const ConstByteSpan body = response.body();
    // §5.10.6: a 2.05 carries an ETag (a hash of the body), so clients
    // can revalidate, and block-wise clients can see the representation
    // stay the same (RFC 7959 §2.4).
    if (reply.code == codes::kContent) {
      reply.etag = body_hash(body);
      // §5.10.6.2: a GET naming the current ETag gets 2.03 Valid, no body.
      if (request.code() == codes::kGet && names_etag(request, *reply.etag)) {
        reply.code = codes::kValid;
        return;
      }
    }
    std::uint8_t szx = Block::szx_for(options_.block_size);
    std::optional<Block> requested;
    if (const std::optional<std::uint32_t> value = request.find_uint(OptionNumber::block2)) {
      const Result<Block> block = Block::from_value(*value);
      if (!block.ok()) {
        reply = Reply{codes::kBadRequest};
        return;
      }
      requested = *block;
      szx = std::min(szx, block->szx);
    }
    const std::size_t block_size = std::size_t{1} << (szx + 4);
    if (!requested && body.size() <= block_size) {
      reply.payload = body;
      return;
    }
    // RFC 7959 §2.4: a block that does not exist is 4.02... the size cannot
    // be right for a num past the end.
    const std::uint32_t num =
        requested ? static_cast<std::uint32_t>(requested->offset() / block_size) : 0;
    const std::size_t offset = std::size_t{num} * block_size;
    if (offset > body.size() || (offset == body.size() && offset != 0)) {
      reply = Reply{codes::kBadOption};
      return;
    }
    const std::size_t length = std::min(block_size, body.size() - offset);
    reply.payload = body.subspan(offset, length);
    reply.block2 = Block{num, offset + length < body.size(), szx};
    if (num == 0) reply.size2 = static_cast<std::uint32_t>(body.size());
  }

  static bool names_etag(const Message& request, std::uint32_t etag) {
    std::array<std::byte, 4> current;
    store_be32(current.data(), etag);
    for (const Option& option : request.options()) {
      if (option.number == static_cast<std::uint16_t>(OptionNumber::etag) &&
          std::equal(option.value.begin(), option.value.end(), current.begin(), current.end())) {
        return true;
      }
    }
    return false;
  }

  // A 32-bit hash of the body for its ETag, four bytes per step with
  // MurmurHash3's mixing: a byte-wise FNV-1a was a seventh of the server's
  // own instructions per GET of a 136-byte body. Any change of one 4-byte
  // word changes it.
  static std::uint32_t body_hash(ConstByteSpan bytes) {
    const auto mix = [](std::uint32_t k) { return std::rotl(k * 0xcc9e2d51u, 15) * 0x1b873593u; };
    auto hash = static_cast<std::uint32_t>(bytes.size());
    std::size_t i = 0;
    for (; i + 4 <= bytes.size(); i += 4) {
      std::uint32_t word;  // in the machine's byte order: the tag is only compared with itself
      std::memcpy(&word, bytes.data() + i, sizeof word);
      hash = std::rotl(hash ^ mix(word), 13) * 5 + 0xe6546b64u;
    }
    std::uint32_t tail = 0;
    for (std::size_t shift = 0; i < bytes.size(); ++i, shift += 8) {
      tail |= std::to_integer<std::uint32_t>(bytes[i]) << shift;
    }
    hash ^= mix(tail);
    hash = (hash ^ (hash >> 16)) * 0x85ebca6bu;
    hash = (hash ^ (hash >> 13)) * 0xc2b2ae35u;
    return hash ^ (hash >> 16);
  }

  async::Task<void> respond(const Message& request, io::Endpoint from, const Reply& reply) {
    if (suppressed(request, reply.code)) {
      if (request.type() == Type::confirmable) {
        co_await transport_.send_empty(Type::acknowledgement, request.message_id(), from);
      }
      co_return;
    }
    const bool piggybacked = request.type() == Type::confirmable;
    const Result<std::size_t> size = encode(
        transport_.send_buffer(), piggybacked ? Type::acknowledgement : Type::non_confirmable,
        piggybacked ? request.message_id() : transport_.messenger().next_message_id(),
        Token::from(request.token()), reply);
    if (!size.ok()) co_return;
    const ConstByteSpan bytes = transport_.send_buffer().first(*size);
    static_cast<void>(co_await transport_.send(bytes, from));
    transport_.messenger().remember_reply(from, request.message_id(), bytes);
  }

  Observer* find_observer(const io::Endpoint& peer, ConstByteSpan token) {
    for (Observer& observer : observers_) {
      if (observer.resource != nullptr && observer.peer == peer && observer.token.matches(token)) {
        return &observer;
      }
    }
    return nullptr;
  }

  void drop(Observer& observer) {
    transport_.messenger().cancel(observer.confirmable);
    observer = Observer{};
  }

  // RFC 7959 §2.5: collects one Block1 block; nullopt when the body is
  // complete in block1_buffer_, else the reply to send now.
  std::optional<Reply> collect(const Message& request, io::Endpoint from, Resource* resource,
                               const Block& block) {
    const std::uint8_t szx = std::min(block.szx, Block::szx_for(options_.block_size));
    if (block.num == 0) {
      block1_ = Block1Transfer{true, from, resource, 0};
      if (const std::optional<std::uint32_t> total = request.find_uint(OptionNumber::size1);
          total && *total > block1_buffer_.size()) {
        block1_.active = false;
        return Reply{.code = codes::kRequestEntityTooLarge,
                     .size1 = static_cast<std::uint32_t>(block1_buffer_.size())};
      }
    }
    // §2.9.2: 4.08 when the blocks do not continue the transfer in progress.
    if (!block1_.active || !(block1_.peer == from) || block1_.resource != resource ||
        block.offset() != block1_.size) {
      return Reply{.code = codes::kRequestEntityIncomplete};
    }
    const ConstByteSpan payload = request.payload();
    if (payload.size() > block1_buffer_.size() - block1_.size) {
      block1_.active = false;
      return Reply{.code = codes::kRequestEntityTooLarge,
                   .size1 = static_cast<std::uint32_t>(block1_buffer_.size())};
    }
    std::copy(payload.begin(), payload.end(),
              ByteSpan(block1_buffer_).subspan(block1_.size).begin());
    block1_.size += payload.size();
    if (block.more) {
      // §2.5: a smaller SZX in the answer to block 0 asks the client for
      // smaller blocks from then on (it continues at the same offset).
      return Reply{.code = codes::kContinue,
                   .block1 = Block{block.num, true, block.num == 0 ? szx : block.szx}};
    }
    block1_.active = false;
    return std::nullopt;
  }

  async::Task<void> on_request(const Message& request, io::Endpoint from) {
    // §5.4.1: unrecognised critical options: 4.02 for CON, rejected for NON.
    if (request.first_unrecognised_critical()) {
      if (request.type() == Type::non_confirmable) {
        co_await transport_.send_empty(Type::reset, request.message_id(), from);
      } else {
        co_await respond(request, from, Reply{codes::kBadOption});
      }
      co_return;
    }
    // §5.7.2: not a proxy.
    if (request.has(OptionNumber::proxy_uri) || request.has(OptionNumber::proxy_scheme)) {
      co_await respond(request, from, Reply{codes::kProxyingNotSupported});
      co_return;
    }
    const bool discovery = is_well_known_core(request);
    Resource* resource = discovery ? nullptr : find(request);
    if (!discovery && resource == nullptr) {
      co_await respond(request, from, Reply{codes::kNotFound});
      co_return;
    }
    if (discovery && request.code() != codes::kGet) {
      co_await respond(request, from, Reply{codes::kMethodNotAllowed});
      co_return;
    }

    ConstByteSpan payload = request.payload();
    std::optional<Block> block1;
    if (const std::optional<std::uint32_t> value = request.find_uint(OptionNumber::block1)) {
      const Result<Block> block = Block::from_value(*value);
      if (!block.ok()) {
        co_await respond(request, from, Reply{codes::kBadRequest});
        co_return;
      }
      if (std::optional<Reply> early = collect(request, from, resource, *block)) {
        co_await respond(request, from, *early);
        co_return;
      }
      block1 = *block;
      payload = ConstByteSpan(block1_buffer_.data(), block1_.size);
    }

    ResponseBuilder response(body_);
    if (discovery) {
      describe_resources(response);
    } else {
      resource->handle(ServerRequest{request, payload, from}, response);
    }
    if (response.deferred() && !discovery) {
      if (request.type() == Type::confirmable) {
        co_await transport_.send_empty(Type::acknowledgement, request.message_id(), from);
      }
      co_return;
    }
    if (response.overflowed()) {
      response = ResponseBuilder(body_);
      response.set_code(codes::kInternalServerError);
    }

    Reply reply;
    shape(request, response, reply);
    if (block1) reply.block1 = Block{block1->num, false, block1->szx};

    // RFC 7641 §4.1: registration and deregistration ride on GET.
    const std::optional<std::uint32_t> observe = request.find_uint(OptionNumber::observe);
    if (resource != nullptr && request.code() == codes::kGet && observe) {
      Observer* existing = find_observer(from, request.token());
      if (*observe == kObserveDeregister) {
        if (existing != nullptr) drop(*existing);
      } else if (*observe == kObserveRegister && resource->attributes().observable &&
                 reply.code.is_success()) {
        Observer* slot = existing;
        for (Observer& observer : observers_) {
          if (slot == nullptr && observer.resource == nullptr) slot = &observer;
        }
        // No room: served, not registered (the response carries no Observe).
        if (slot != nullptr) {
          if (slot != existing || slot->resource != resource) {
            *slot = Observer{};
            slot->resource = resource;
            slot->peer = from;
            slot->token = Token::from(request.token());
          }
          reply.observe = next_sequence();
          slot->refresh_at = refresh_time(reply.max_age, async::now());
        }
      }
    }
    co_await respond(request, from, reply);
  }

  std::uint32_t next_sequence() {
    sequence_ = (sequence_ + 1) & kObserveSequenceMask;
    return sequence_;
  }

  async::Task<void> send_notifications() {
    const Instant now = async::now();
    for (Observer& observer : observers_) {
      if (observer.resource != nullptr && observer.refresh_at <= now) observer.dirty = true;
    }
    for (Observer& observer : observers_) {
      if (observer.resource == nullptr || !observer.dirty) continue;
      // One CON notification at a time per observer; the newest state goes
      // out once it is acknowledged (§4.5.2).
      if (transport_.messenger().outstanding(observer.confirmable)) continue;
      observer.dirty = false;
      observer.refresh_at = async::kNever;  // set again once a notification goes out
      // The handler sees a GET for the resource, as at registration.
      std::array<std::byte, 300> request_bytes;
      MessageWriter writer(request_bytes, Type::non_confirmable, codes::kGet, 0,
                           observer.token.bytes());
      writer.add_path(OptionNumber::uri_path, observer.resource->path());
      const Result<std::size_t> request_size = writer.finish();
      if (!request_size.ok()) continue;
      const Message request =
          Message::parse(ConstByteSpan(request_bytes.data(), *request_size)).value();
      ResponseBuilder response(body_);
      observer.resource->handle(ServerRequest{request, {}, observer.peer, true}, response);
      Reply reply;
      shape(request, response, reply);
      if (!reply.code.is_success()) {
        // §3.2 / §4.2: an error ends the observation; it goes out without Observe.
      } else {
        reply.observe = next_sequence();
        observer.refresh_at = refresh_time(reply.max_age, now);
      }
      const bool confirmable = ++observer.since_confirmable >= options_.confirmable_every;
      if (confirmable) observer.since_confirmable = 0;
      const std::uint16_t message_id = transport_.messenger().next_message_id();
      const Result<std::size_t> size =
          encode(transport_.send_buffer(), confirmable ? Type::confirmable : Type::non_confirmable,
                 message_id, observer.token, reply);
      if (!size.ok()) continue;
      const ConstByteSpan bytes = transport_.send_buffer().first(*size);
      if (confirmable) {
        const Result<ExchangeHandle> handle =
            transport_.messenger().send_confirmable(observer.peer, bytes, async::now());
        if (handle.ok()) {
          observer.confirmable = *handle;
          transport_.wake();
        } else {
          observer.dirty = true;  // no exchange slot now: try again later
        }
      } else {
        observer.last_message_id = message_id;
        static_cast<void>(co_await transport_.send(bytes, observer.peer));
      }
      if (!reply.observe) observer = Observer{};
    }
  }

  void on_give_up(ExchangeHandle exchange) {
    // RFC 7641 §4.5: an unacknowledged CON notification removes the client.
    for (Observer& observer : observers_) {
      if (observer.resource != nullptr && observer.confirmable == exchange) observer = Observer{};
    }
  }

  async::Task<void> on_datagram(const io::Datagram& datagram) {
    const Incoming incoming = co_await transport_.take(datagram);
    switch (incoming.kind) {
      case Incoming::ignored:
      case Incoming::acknowledged:
      case Incoming::reject:
      case Incoming::duplicate: co_return;  // nothing left to do, or answered by the transport
      case Incoming::reset:
        // §3.6: an RST to a notification cancels the observation.
        for (Observer& observer : observers_) {
          if (observer.resource == nullptr || !(observer.peer == datagram.from)) continue;
          if (observer.confirmable == incoming.exchange ||
              observer.last_message_id == incoming.message_id) {
            drop(observer);
          }
        }
        co_return;
      case Incoming::new_message: break;
    }
    const Message& message = incoming.message;
    if (!message.code().is_request()) {
      // A response to a server: nothing asked for it (§4.2, §4.3).
      if (message.type() == Type::confirmable) {
        co_await transport_.send_empty(Type::reset, message.message_id(), datagram.from);
      }
      co_return;
    }
    co_await on_request(message, datagram.from);
  }

  Transport<Socket, kExchanges> transport_;
  Options options_;
  IntrusiveList<Resource> resources_;
  Resource* fallback_ = nullptr;
  std::array<Observer, kObservers> observers_{};
  std::uint32_t sequence_ = 1;  // RFC 7641 §4.4: starts anywhere; 0 and 1 avoided for clarity
  Block1Transfer block1_;
  std::array<std::byte, kMaxBody> body_{};
  std::array<std::byte, kMaxBody> block1_buffer_{};
};

}  // namespace mote::coap
