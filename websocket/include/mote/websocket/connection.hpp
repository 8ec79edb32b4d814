#pragma once
// A WebSocket connection (RFC 6455) over any io::Stream: the opening
// handshake on either side, messages sent and received whole (fragmented
// on request, reassembled on receipt), pings answered, and the closing
// handshake. Freestanding: no heap; the caller provides the buffers.
//
//   Connection<KernelTcpStream> ws(std::move(stream), Role::server, {read_buf, write_buf});
//   MOTE_CO_TRY(co_await ws.accept(request));          // after the HTTP server parsed it
//   for (;;) {
//     MOTE_CO_TRY_ASSIGN(Message m, co_await ws.receive(message_buf));
//     if (m.type == MessageType::close) break;         // handshake done, stream closed
//     MOTE_CO_TRY(co_await ws.send(m.type, ConstByteSpan(message_buf).first(m.size)));
//   }
//
// Tasks: one task receives; any number send (frames of different messages
// never interleave: a message holds the write lock while its frames go out).
// receive() answers pings and the peer's close itself, taking the write lock
// for that, so it must be called for pings to be answered.
//
// Wakes: the stream. Cancels: destroying the awaiter. A receive() cancelled
// before it took any byte of a frame (e.g. an idle timeout) leaves the
// connection usable; cancelled later, or a send cancelled mid-frame, the
// connection is unusable (the next call fails with failed_precondition).
// Buffers: valid until the operation completes or is cancelled.
//
// Errors returned by receive() and send(); each one ends the connection:
//   data_loss           the peer broke the protocol; closed with 1002, or
//                       1007 for bad UTF-8 / undecodable compressed data
//   resource_exhausted  a message over the size limit; closed with 1009
//   aborted             the stream failed or ended without a close frame (1006)
//   failed_precondition the connection is closed (or unusable, above)
// failure() names the reason in words.

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <utility>

#include "mote/async/mutex.hpp"
#include "mote/async/task.hpp"
#include "mote/base/assert.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/inline_string.hpp"
#include "mote/base/result.hpp"
#include "mote/http/parser.hpp"
#include "mote/io/concepts.hpp"
#include "mote/websocket/close.hpp"
#include "mote/websocket/frame.hpp"
#include "mote/websocket/handshake.hpp"
#include "mote/websocket/utf8.hpp"

namespace mote::websocket {

enum class MessageType : std::uint8_t { text, binary, close };

// What receive() delivered: a data message of `size` bytes at the start of
// the caller's buffer, or the end of the closing handshake.
struct Message {
  MessageType type = MessageType::binary;
  std::size_t size = 0;
};

// Unpredictable bytes for client mask keys (§5.3: "MUST pick a fresh masking
// key from the set of allowed 32-bit values", "unpredictable"): the
// platform's CSPRNG or hardware RNG. Host: websocket/system_random.hpp.
struct RandomSource {
  void* context = nullptr;
  void (*fill)(void* context, ByteSpan out) = nullptr;
  void operator()(ByteSpan out) const { fill(context, out); }
};

// The connection's own buffers. `read` holds incoming bytes (at least a
// frame header; the client's handshake response head must fit in it).
// `write` holds outgoing frame headers, masked payload and the handshake
// heads; a control frame always goes out in one write.
struct ConnectionBuffers {
  ByteSpan read;
  ByteSpan write;
};
inline constexpr std::size_t kMinReadBuffer = 128;
inline constexpr std::size_t kMinWriteBuffer = 256;

// An extension that transforms message payloads and owns RSV1; negotiated
// in the opening handshake. permessage-deflate (RFC 7692) is mote's one,
// host only: websocket/deflate.hpp. NoExtension is the default.
template <typename T>
concept MessageExtension = requires(T& extension, const T& const_extension, ConstByteSpan in,
                                    ByteSpan out, const http::HeaderList& headers) {
  // Negotiated (compress data messages, accept RSV1).
  { const_extension.active() } -> std::same_as<bool>;
  // Client: the Sec-WebSocket-Extensions offer ("" for none).
  { extension.client_offer() } -> std::same_as<std::string_view>;
  // Client: judges the server's response headers (§9.1: fail on an
  // extension the client did not offer).
  { extension.accept_response(headers) } -> std::same_as<Status>;
  // Server: picks from the request's offers; the response header value
  // ("" when declining).
  { extension.negotiate(headers) } -> std::same_as<Result<std::string_view>>;
  // One whole message's payload; the view stays valid until the next call.
  { extension.compress(in) } -> std::same_as<Result<ConstByteSpan>>;
  // A piece of a compressed message, appended to `out`; returns the
  // bytes written. resource_exhausted: it does not fit (message too big);
  // data_loss: not a valid compressed stream.
  { extension.decompress(in, out) } -> std::same_as<Result<std::size_t>>;
  // The end of a compressed message, written like decompress().
  { extension.end_message(out) } -> std::same_as<Result<std::size_t>>;
};

// No extension: offers nothing, declines every offer, and refuses a
// server's response that names any.
struct NoExtension {
  [[nodiscard]] bool active() const { return false; }
  std::string_view client_offer() { return {}; }
  Status accept_response(const http::HeaderList& headers) {
    return headers.contains("Sec-WebSocket-Extensions") ? Status::failed_precondition()
                                                        : ok_status();
  }
  Result<std::string_view> negotiate(const http::HeaderList& /*headers*/) {
    return std::string_view();
  }
  Result<ConstByteSpan> compress(ConstByteSpan /*in*/) { return Status::unimplemented(); }
  Result<std::size_t> decompress(ConstByteSpan /*in*/, ByteSpan /*out*/) {
    return Status::unimplemented();
  }
  Result<std::size_t> end_message(ByteSpan /*out*/) { return Status::unimplemented(); }
};
static_assert(MessageExtension<NoExtension>);

// What a client asks for in its opening handshake.
struct ClientOptions {
  std::string_view host;          // the Host header ("example.com:8080")
  std::string_view target = "/";  // path and query
  std::string_view subprotocols;  // comma-separated offer; empty: none
  std::string_view origin;        // empty: no Origin header
};

enum class ConnectionState : std::uint8_t {
  handshake,  // before connect()/accept() succeeded
  open,
  closing,  // we sent a close frame; waiting for the peer's
  closed,
};

// An io::Stream that forwards to a stream owned elsewhere, for a Connection
// on a stream it does not own: http::Server lends its stream to an upgrade
// handler for the handler's duration. close() closes the lent stream.
template <io::Stream S>
class BorrowedStream {
 public:
  explicit BorrowedStream(S& stream) : stream_(&stream) {}
  auto read(ByteSpan buffer) { return stream_->read(buffer); }
  auto write(ConstByteSpan data) { return stream_->write(data); }
  Status shutdown_write() { return stream_->shutdown_write(); }
  void close() { stream_->close(); }
  Result<io::Endpoint> remote_endpoint() { return stream_->remote_endpoint(); }

 private:
  S* stream_;
};

// How much of the buffer read_request_head() filled.
struct RequestHeadRead {
  std::size_t head_size = 0;  // the head: parser.head() points into buffer[0, head_size)
  std::size_t received = 0;   // bytes read; buffer[head_size, received) came after the head
};

// Reads one HTTP request head off `stream` into `buffer`, for a server that
// upgrades without the http module's server. Errors: the parser's
// (invalid_argument, resource_exhausted when the head outgrows `buffer`,
// ...), the stream's, or aborted when the stream ends first.
template <io::Stream S>
async::Task<Result<RequestHeadRead>> read_request_head(S& stream, ByteSpan buffer,
                                                       http::RequestParser& parser) {
  RequestHeadRead read;
  for (;;) {
    if (read.received == buffer.size()) co_return Status::resource_exhausted();
    Result<std::size_t> got = co_await stream.read(buffer.subspan(read.received));
    if (!got.ok()) co_return got.status();
    if (*got == 0) co_return Status::aborted();
    read.received += *got;
    Result<std::size_t> head = parser.parse_head(ConstByteSpan(buffer).first(read.received));
    if (!head.ok()) co_return head.status();
    if (*head != 0) {
      read.head_size = *head;
      co_return read;
    }
  }
}

template <io::Stream S, MessageExtension Extension = NoExtension>
class Connection {
 public:
  // A server needs no random source.
  Connection(S stream, Role role, ConnectionBuffers buffers, RandomSource random = {},
             Extension extension = {})
      : stream_(std::move(stream)),
        role_(role),
        in_(buffers.read),
        out_(buffers.write),
        random_(random),
        extension_(std::move(extension)) {
    MOTE_ASSERT(in_.size() >= kMinReadBuffer && out_.size() >= kMinWriteBuffer);
    MOTE_ASSERT(role_ == Role::server || random_.fill != nullptr);
    rules_.receiver = role_;
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() = default;

  // --- Opening handshake ----------------------------------------------------------

  // Client (§4.1): sends the upgrade request, reads and checks the answer.
  // Errors: unavailable (the server refused: not 101), data_loss (a bad
  // answer), resource_exhausted (the head does not fit the read buffer),
  // aborted (the stream failed or ended).
  async::Task<Status> connect(const ClientOptions& options) {
    if (role_ != Role::client || state_ != ConnectionState::handshake) {
      co_return Status::failed_precondition();
    }
    const ClientKey key = generate_client_key(random_);
    UpgradeOffer offer{
        options.host,  options.target, key.view(), options.subprotocols, extension_.client_offer(),
        options.origin};
    Result<std::size_t> request = write_upgrade_request(offer, out_);
    if (!request.ok()) co_return request.status();
    if (Status written = co_await stream_.write(out_.first(*request)); !written.ok()) {
      co_return lose(written, "could not send the upgrade request");
    }
    // The response head, parsed where it lies in the read buffer (which
    // does not move before the head is complete); what follows are frames.
    std::array<http::Header, kMaxHandshakeHeaders> fields{};
    http::ResponseParser parser(fields, http::Method::get, {.max_head_size = in_.size()});
    std::size_t head_size = 0;
    for (;;) {
      Result<std::size_t> parsed = parser.parse_head(buffered());
      if (!parsed.ok()) {
        co_return give_up(
            parsed.status() == Status::resource_exhausted() ? parsed.status() : Status::data_loss(),
            http::to_string(parser.error()));
      }
      if ((head_size = *parsed) != 0) break;
      if (in_end_ == in_.size()) {
        co_return give_up(Status::resource_exhausted(),
                          "response head larger than the read buffer");
      }
      if (Status more = co_await read_some(); !more.ok()) {
        co_return lose(more, "stream ended during the handshake");
      }
    }
    const http::ResponseHead& head = parser.head();
    const ResponseCheck check = check_upgrade_response(head, key.view(), options.subprotocols);
    if (check.error == ResponseError::not_switching) {
      co_return give_up(Status::unavailable(), "the server refused the upgrade");
    }
    if (check.error != ResponseError::none) {
      co_return give_up(Status::data_loss(), to_string(check.error));
    }
    if (!extension_.accept_response(head.headers).ok()) {
      co_return give_up(Status::data_loss(), "unacceptable Sec-WebSocket-Extensions");
    }
    if (!subprotocol_.assign(check.subprotocol).ok()) {
      co_return give_up(Status::data_loss(), "subprotocol name too long");
    }
    consume(head_size);
    open();
    co_return ok_status();
  }

  // Server (§4.2.2): answers an upgrade request that an HTTP server read off
  // this stream, choosing the first of the client's subprotocols found in
  // `subprotocols`. `already_read` is whatever the HTTP server read past
  // the request head (frames the client sent early). A bad request gets
  // its 4xx answer and invalid_argument.
  async::Task<Status> accept(const http::RequestHead& request,
                             std::span<const std::string_view> subprotocols = {},
                             ConstByteSpan already_read = {}) {
    if (role_ != Role::server || state_ != ConnectionState::handshake) {
      co_return Status::failed_precondition();
    }
    if (already_read.size() > in_.size()) {
      co_return give_up(Status::resource_exhausted(),
                        "bytes after the head exceed the read buffer");
    }
    RequestError error = check_upgrade_request(request).error;
    Result<std::string_view> extensions = std::string_view();
    if (error == RequestError::none) {
      extensions = extension_.negotiate(request.headers);
      if (!extensions.ok()) error = RequestError::bad_extensions;
    }
    if (error == RequestError::none &&
        !subprotocol_.assign(select_subprotocol(request.headers, subprotocols)).ok()) {
      error = RequestError::bad_extensions;
    }
    if (error != RequestError::none) {
      Result<std::size_t> refusal = write_refusal(error, out_);
      if (refusal.ok()) {
        const Status sent = co_await stream_.write(out_.first(*refusal));
        sent.ignore_error();  // the refusal is a courtesy; the stream closes anyway
      }
      co_return give_up(Status::invalid_argument(), to_string(error));
    }
    const std::string_view key = check_upgrade_request(request).key;
    Result<std::size_t> response =
        write_upgrade_response({key, subprotocol_.view(), *extensions}, out_);
    if (!response.ok()) co_return give_up(response.status(), "response head too large");
    if (Status written = co_await stream_.write(out_.first(*response)); !written.ok()) {
      co_return lose(written, "could not send the upgrade response");
    }
    std::copy(already_read.begin(), already_read.end(), in_.begin());
    in_begin_ = 0;
    in_end_ = already_read.size();
    open();
    co_return ok_status();
  }

  // --- Messages -------------------------------------------------------------------

  // The next data message, whole, into `buffer` (reassembled from its
  // fragments, decompressed when the extension compressed it). Messages
  // larger than min(buffer.size(), max_message_size()) fail with 1009.
  // Pings are answered and pongs counted on the way. When the peer closes,
  // the close is answered (unless this side started it), the stream is
  // closed and a Message of type close returns; peer_close_code() and
  // peer_close_reason() tell what the peer said.
  async::Task<Result<Message>> receive(ByteSpan buffer) {
    if (state_ == ConnectionState::handshake || state_ == ConnectionState::closed) {
      co_return Status::failed_precondition();
    }
    if (receive_dirty_) {
      co_return give_up(Status::failed_precondition(),
                        "a cancelled receive left a frame half read");
    }
    const std::size_t limit = std::min(buffer.size(), max_message_size_);
    bool in_message = false;
    bool compressed = false;
    MessageType type = MessageType::binary;
    std::size_t size = 0;
    std::uint64_t compressed_size = 0;
    for (;;) {
      Result<FrameHeader> next = co_await read_header();
      if (!next.ok()) co_return next.status();
      const FrameHeader header = *next;
      receive_dirty_ = true;

      if (is_control(header.opcode)) {
        std::array<std::byte, kMaxControlPayload> payload{};
        const ByteSpan body =
            ByteSpan(payload).first(static_cast<std::size_t>(header.payload_length));
        if (Status read = co_await read_payload(body, header); !read.ok()) co_return read;
        if (header.opcode == Opcode::close) co_return co_await on_close(body);
        if (header.opcode == Opcode::ping && state_ == ConnectionState::open) {
          // §5.5.2: "send a Pong frame in response ... as soon as is practical".
          Status sent = co_await send_control(Opcode::pong, body);
          if (!sent.ok()) co_return sent;
        } else if (header.opcode == Opcode::pong) {
          ++pongs_received_;
        }
        receive_dirty_ = in_message;
        continue;
      }

      if (header.opcode == Opcode::continuation) {
        if (!in_message) {
          co_return co_await fail(kCloseProtocolError, "continuation frame outside a message");
        }
        // RFC 7692 §6.1: RSV1 marks only a message's first frame.
        if ((header.rsv & kRsv1) != 0) {
          co_return co_await fail(kCloseProtocolError, "RSV1 on a continuation frame");
        }
      } else {
        if (in_message) {
          co_return co_await fail(kCloseProtocolError, "new message inside a fragmented one");
        }
        in_message = true;
        type = header.opcode == Opcode::text ? MessageType::text : MessageType::binary;
        compressed = (header.rsv & kRsv1) != 0;
        utf8_.reset();
        utf8_check_ = type == MessageType::text;
      }

      if (compressed) {
        // The compressed bytes are bounded too (deflate adds at most a few
        // bytes per 16 KiB): empty blocks would otherwise be read forever.
        compressed_size += header.payload_length;
        if (compressed_size > std::uint64_t{limit} + limit / 8 + 1024) {
          co_return co_await fail(kCloseMessageTooBig, "compressed message larger than the limit");
        }
        Status inflated = co_await read_compressed(header, buffer.first(limit), size);
        if (!inflated.ok()) co_return inflated;
      } else {
        if (header.payload_length > limit - size) {
          co_return co_await fail(kCloseMessageTooBig, "message larger than the limit");
        }
        const ByteSpan body = buffer.subspan(size, static_cast<std::size_t>(header.payload_length));
        if (Status read = co_await read_payload(body, header); !read.ok()) co_return read;
        size += body.size();
        if (type == MessageType::text && !utf8_.feed(body)) {
          co_return co_await fail(kCloseInvalidPayload, "text message is not UTF-8");
        }
      }
      if (!header.fin) continue;

      if (compressed) {
        Result<std::size_t> tail = extension_.end_message(buffer.first(limit).subspan(size));
        if (!tail.ok()) co_return co_await fail_decompression(tail.status());
        if (type == MessageType::text && !utf8_.feed(buffer.subspan(size, *tail))) {
          co_return co_await fail(kCloseInvalidPayload, "text message is not UTF-8");
        }
        size += *tail;
      }
      if (type == MessageType::text && !utf8_.complete()) {
        co_return co_await fail(kCloseInvalidPayload, "text message is not UTF-8");
      }
      receive_dirty_ = false;
      co_return Message{type, size};
    }
  }

  // Sends one message; with `fragment_size` > 0, in frames carrying at most
  // that many payload bytes each (§5.4). Text must be UTF-8
  // (invalid_argument otherwise, nothing sent). With an active extension
  // the payload is compressed first (and the compressed bytes fragmented).
  // failed_precondition once a close frame was sent or received.
  async::Task<Status> send(MessageType type, ConstByteSpan data, std::size_t fragment_size = 0) {
    if (type == MessageType::close) co_return Status::invalid_argument();
    if (type == MessageType::text && !is_valid_utf8(data)) co_return Status::invalid_argument();
    async::Mutex::Guard guard = co_await write_mutex_.lock();
    if (state_ != ConnectionState::open || write_broken_) co_return Status::failed_precondition();
    ConstByteSpan payload = data;
    std::uint8_t rsv = 0;
    if (extension_.active()) {
      Result<ConstByteSpan> deflated = extension_.compress(data);
      if (!deflated.ok()) co_return deflated.status();
      payload = *deflated;
      rsv = kRsv1;
    }
    FrameHeader header;
    header.opcode = type == MessageType::text ? Opcode::text : Opcode::binary;
    header.rsv = rsv;
    std::size_t offset = 0;
    do {
      const std::size_t left = payload.size() - offset;
      const std::size_t chunk = fragment_size == 0 ? left : std::min(fragment_size, left);
      header.fin = offset + chunk == payload.size();
      header.payload_length = chunk;
      if (Status sent = co_await write_frame(header, payload.subspan(offset, chunk)); !sent.ok()) {
        co_return sent;
      }
      header.opcode = Opcode::continuation;
      header.rsv = 0;
      offset += chunk;
    } while (offset < payload.size());
    co_return ok_status();
  }
  async::Task<Status> send_text(std::string_view text, std::size_t fragment_size = 0) {
    return send(MessageType::text, bytes_of(text), fragment_size);
  }
  async::Task<Status> send_binary(ConstByteSpan data, std::size_t fragment_size = 0) {
    return send(MessageType::binary, data, fragment_size);
  }

  // Sends a ping (payload at most 125 bytes); the pong is counted by
  // receive() (pongs_received()).
  async::Task<Status> ping(ConstByteSpan payload = {}) {
    if (payload.size() > kMaxControlPayload) co_return Status::invalid_argument();
    if (state_ != ConnectionState::open) co_return Status::failed_precondition();
    co_return co_await send_control(Opcode::ping, payload);
  }

  // Starts the closing handshake (§7.1.2): sends a close frame with `code`
  // (kCloseNoStatus: an empty one) and `reason` (at most 123 bytes
  // of UTF-8). Keep calling receive() until it returns the close: data
  // messages that were already on their way still arrive.
  async::Task<Status> close(std::uint16_t code = kCloseNormal, std::string_view reason = {}) {
    std::array<std::byte, kMaxControlPayload> payload{};
    Result<std::size_t> size = encode_close_payload(code, reason, payload);
    if (!size.ok()) co_return size.status();
    if (state_ != ConnectionState::open) co_return Status::failed_precondition();
    close_code_sent_ = code;
    co_return co_await send_control(Opcode::close, ConstByteSpan(payload).first(*size));
  }

  // --- State ----------------------------------------------------------------------

  [[nodiscard]] ConnectionState state() const { return state_; }
  [[nodiscard]] Role role() const { return role_; }
  // The peer's close code (no_status for an empty close frame, abnormal
  // when the connection ended without one) and reason, once closed.
  [[nodiscard]] std::uint16_t peer_close_code() const { return peer_close_code_; }
  [[nodiscard]] std::string_view peer_close_reason() const { return peer_close_reason_.view(); }
  // The code this side sent in its close frame (0: none sent).
  [[nodiscard]] std::uint16_t close_code_sent() const { return close_code_sent_; }
  // Why the connection failed, in words (nullptr: it did not).
  [[nodiscard]] const char* failure() const { return failure_; }
  // The negotiated subprotocol ("" when none).
  [[nodiscard]] std::string_view subprotocol() const { return subprotocol_.view(); }
  [[nodiscard]] std::uint32_t pongs_received() const { return pongs_received_; }

  [[nodiscard]] std::size_t max_message_size() const { return max_message_size_; }
  void set_max_message_size(std::size_t size) { max_message_size_ = size; }

  Extension& extension() { return extension_; }
  S& stream() { return stream_; }

 private:
  static constexpr std::size_t kMaxHandshakeHeaders = 24;

  void open() {
    state_ = ConnectionState::open;
    rules_.allowed_rsv = extension_.active() ? kRsv1 : 0;
  }

  // --- Reading ----------------------------------------------------------------------

  [[nodiscard]] ConstByteSpan buffered() const {
    return ConstByteSpan(in_).subspan(in_begin_, in_end_ - in_begin_);
  }
  void consume(std::size_t count) {
    in_begin_ += count;
    if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  }

  // One read from the stream into the free end of the read buffer
  // (moving what is buffered to the front first when the end is full).
  async::Task<Status> read_some() {
    if (in_end_ == in_.size() && in_begin_ > 0) {
      std::copy(in_.begin() + static_cast<std::ptrdiff_t>(in_begin_),
                in_.begin() + static_cast<std::ptrdiff_t>(in_end_), in_.begin());
      in_end_ -= in_begin_;
      in_begin_ = 0;
    }
    Result<std::size_t> got = co_await stream_.read(in_.subspan(in_end_));
    if (!got.ok()) co_return got.status();
    if (*got == 0) co_return Status::aborted();  // the peer's FIN without a close frame
    in_end_ += *got;
    co_return ok_status();
  }

  async::Task<Result<FrameHeader>> read_header() {
    for (;;) {
      const FrameParse parse = parse_frame_header(buffered(), rules_);
      if (parse.failed()) co_return co_await fail(kCloseProtocolError, to_string(parse.error));
      if (parse.complete()) {
        consume(parse.header_size);
        co_return parse.header;
      }
      if (Status more = co_await read_some(); !more.ok()) {
        co_return lose(more, "stream ended without a close frame");
      }
    }
  }

  // Reads a frame's whole payload into `body` (its size), unmasked: first
  // what is buffered, the rest straight from the stream.
  async::Task<Status> read_payload(ByteSpan body, const FrameHeader& header) {
    std::size_t have = std::min(body.size(), in_end_ - in_begin_);
    std::copy_n(buffered().begin(), have, body.begin());
    consume(have);
    while (have < body.size()) {
      Result<std::size_t> got = co_await stream_.read(body.subspan(have));
      if (!got.ok() || *got == 0) {
        co_return lose(got.ok() ? Status::aborted() : got.status(), "stream ended inside a frame");
      }
      have += *got;
    }
    if (header.masked) apply_mask(body, header.mask_key);
    co_return ok_status();
  }

  // A compressed frame's payload, through the read buffer into the extension.
  async::Task<Status> read_compressed(const FrameHeader& header, ByteSpan message,
                                      std::size_t& size) {
    std::uint64_t offset = 0;
    for (;;) {
      const std::uint64_t left = header.payload_length - offset;
      if (left > 0 && in_begin_ == in_end_) {
        if (Status more = co_await read_some(); !more.ok()) {
          co_return lose(more, "stream ended inside a frame");
        }
      }
      const auto chunk =
          static_cast<std::size_t>(std::min<std::uint64_t>(left, in_end_ - in_begin_));
      const ByteSpan piece = in_.subspan(in_begin_, chunk);
      if (header.masked) apply_mask(piece, header.mask_key, offset);
      Result<std::size_t> out = extension_.decompress(piece, message.subspan(size));
      consume(chunk);
      if (!out.ok()) co_return co_await fail_decompression(out.status());
      if (utf8_check_ && !utf8_.feed(message.subspan(size, *out))) {
        co_return co_await fail(kCloseInvalidPayload, "text message is not UTF-8");
      }
      size += *out;
      offset += chunk;
      if (offset == header.payload_length) co_return ok_status();
    }
  }

  async::Task<Result<Message>> on_close(ConstByteSpan payload) {
    const CloseParse parse = parse_close_payload(payload);
    if (parse.error != CloseError::none) {
      co_return co_await fail(close_code_for(parse.error), "malformed close frame");
    }
    peer_close_code_ = parse.info.code;
    peer_close_reason_.assign(parse.info.reason).ignore_error();  // at most 123 bytes: fits
    if (state_ == ConnectionState::open) {
      // §5.5.1: answer with a close frame, echoing the code.
      std::array<std::byte, 2> echo{};
      std::size_t echo_size = 0;
      if (parse.info.code != kCloseNoStatus) {
        store_be16(echo.data(), parse.info.code);
        echo_size = 2;
      }
      close_code_sent_ = parse.info.code;
      const Status sent =
          co_await send_control(Opcode::close, ConstByteSpan(echo).first(echo_size));
      sent.ignore_error();  // the stream closes next either way
    }
    co_await finish();
    receive_dirty_ = false;
    co_return Message{MessageType::close, 0};
  }

  // --- Writing ----------------------------------------------------------------------

  async::Task<Status> send_control(Opcode opcode, ConstByteSpan payload) {
    async::Mutex::Guard guard = co_await write_mutex_.lock();
    if (state_ != ConnectionState::open || write_broken_) co_return Status::failed_precondition();
    FrameHeader header;
    header.opcode = opcode;
    header.payload_length = payload.size();
    Status sent = co_await write_frame(header, payload);
    if (sent.ok() && opcode == Opcode::close) state_ = ConnectionState::closing;
    co_return sent;
  }

  // Writes one frame; the caller holds the write lock. A client masks
  // (a fresh key per frame); a server's payload goes out as it is.
  async::Task<Status> write_frame(FrameHeader header, ConstByteSpan payload) {
    if (role_ == Role::client) {
      header.masked = true;
      random_(header.mask_key);
    }
    Result<std::size_t> encoded = encode_frame_header(header, out_);
    if (!encoded.ok()) co_return encoded.status();
    std::size_t used = *encoded;
    write_broken_ = true;  // until the whole frame is out
    if (!header.masked && used + payload.size() > out_.size()) {
      MOTE_CO_TRY(co_await write_or_lose(out_.first(used)));
      MOTE_CO_TRY(co_await write_or_lose(payload));
    } else {
      std::size_t offset = 0;
      do {
        const std::size_t chunk = std::min(payload.size() - offset, out_.size() - used);
        const ConstByteSpan piece = payload.subspan(offset, chunk);
        if (header.masked) {
          copy_masked(piece, out_.subspan(used), header.mask_key, offset);
        } else {
          std::copy(piece.begin(), piece.end(), out_.begin() + static_cast<std::ptrdiff_t>(used));
        }
        MOTE_CO_TRY(co_await write_or_lose(out_.first(used + chunk)));
        offset += chunk;
        used = 0;
      } while (offset < payload.size());
    }
    write_broken_ = false;
    co_return ok_status();
  }

  async::Task<Status> write_or_lose(ConstByteSpan bytes) {
    Status written = co_await stream_.write(bytes);
    if (!written.ok()) co_return lose(written, "stream failed while sending");
    co_return ok_status();
  }

  // --- Ending -----------------------------------------------------------------------

  // §7.1.7 "Fail the WebSocket Connection": send a close frame with `code`
  // (if none was sent yet), then drop the stream.
  async::Task<Status> fail(std::uint16_t code, const char* why) {
    failure_ = why;
    if (state_ == ConnectionState::open) {
      std::array<std::byte, 2> payload{};
      store_be16(payload.data(), code);
      close_code_sent_ = code;
      const Status sent = co_await send_control(Opcode::close, payload);
      sent.ignore_error();  // failing anyway: the close frame is best effort
    }
    peer_close_code_ = kCloseAbnormal;
    co_await finish();
    receive_dirty_ = false;
    co_return code == kCloseMessageTooBig ? Status::resource_exhausted() : Status::data_loss();
  }

  async::Task<Status> fail_decompression(Status status) {
    if (status == Status::resource_exhausted()) {
      return fail(kCloseMessageTooBig, "message larger than the limit");
    }
    return fail(kCloseInvalidPayload, "compressed message does not decompress");
  }

  // The stream failed or ended: nothing more can be sent (1006).
  Status lose(Status status, const char* why) {
    if (failure_ == nullptr) failure_ = why;
    peer_close_code_ = kCloseAbnormal;
    state_ = ConnectionState::closed;
    receive_dirty_ = false;
    return status.code() == StatusCode::aborted || status.code() == StatusCode::unavailable
               ? Status::aborted()
               : status;
  }

  // Ends a handshake or a connection in a way that needs no frame.
  Status give_up(Status status, const char* why) {
    failure_ = why;
    state_ = ConnectionState::closed;
    stream_.close();
    return status;
  }

  // Closes the stream once no write is in flight. §7.1.1: the server
  // closes TCP first; the client may as well, the handshake being over.
  async::Task<void> finish() {
    async::Mutex::Guard guard = co_await write_mutex_.lock();
    state_ = ConnectionState::closed;
    stream_.close();
  }

  S stream_;
  Role role_;
  ByteSpan in_;
  ByteSpan out_;
  RandomSource random_;
  Extension extension_;
  async::Mutex write_mutex_;
  FrameRules rules_;
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  std::size_t max_message_size_ = std::numeric_limits<std::size_t>::max();
  Utf8Validator utf8_;
  bool utf8_check_ = false;
  ConnectionState state_ = ConnectionState::handshake;
  bool receive_dirty_ = false;
  bool write_broken_ = false;
  std::uint16_t peer_close_code_ = kCloseAbnormal;
  std::uint16_t close_code_sent_ = 0;
  std::uint32_t pongs_received_ = 0;
  const char* failure_ = nullptr;
  InlineString<kMaxCloseReason> peer_close_reason_;
  InlineString<64> subprotocol_;
};

}  // namespace mote::websocket
