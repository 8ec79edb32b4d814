#pragma once
// An HTTP/1.1 client over any io::Stream, freestanding: the request head is
// built in the caller's buffer, the response head is parsed into views of
// that same buffer, and the body is handed out piece by piece as views of
// it (no copies, no heap).
//
//   std::array<std::byte, 2048> buffer;
//   std::array<Header, 16> fields;
//   Client client(stream, buffer, fields);
//   MOTE_CO_TRY_ASSIGN(const ResponseHead* response,
//                      co_await client.send({.method = "GET", .target = "/api/devices",
//                                            .host = "gateway.local"}));
//   for (;;) {
//     MOTE_CO_TRY_ASSIGN(ConstByteSpan piece, co_await client.read_body());
//     if (piece.empty()) break;   // the body is complete
//     consume(piece);             // valid until the next call
//   }
//   if (client.reusable()) { /* send the next request on the same stream */ }
//
// Wakes: the stream's reads and writes. Cancels: destroying the awaited
// Task; the stream is then in an unknown state and should be closed.
// Buffers: `buffer` and `fields` for the client's life; a response head's
// views until the next send(); a body piece until the next read_body().

#include <cstddef>
#include <span>
#include <string_view>

#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/http/message_writer.hpp"
#include "mote/http/parser.hpp"
#include "mote/io/concepts.hpp"

namespace mote::http {

struct ClientRequest {
  std::string_view method = "GET";
  std::string_view target = "/";
  std::string_view host;              // the Host field (RFC 9112 §3.2)
  std::span<const Header> headers{};  // more fields, checked as they are written
  // Sent with Content-Length; a POST or PUT without body sends "0".
  ConstByteSpan body{};
};

// The request head in `buffer`: request line, Host, the caller's fields,
// Content-Length when there is a body (or the method expects one).
Result<ConstByteSpan> write_request_head(ByteSpan buffer, const ClientRequest& request);

template <io::Stream S>
class Client {
 public:
  // `buffer` holds request heads, response heads and the body pieces read
  // after them; a response head larger than it fails with head_too_large.
  Client(S& stream, ByteSpan buffer, std::span<Header> fields)
      : stream_(stream), buffer_(buffer), parser_(fields, Method::get, limits_for(buffer)) {}

  // Sends `request` and reads the response head (1xx interim responses are
  // skipped). A response whose body has not been read to the end leaves
  // the stream unusable: failed_precondition.
  async::Task<Result<const ResponseHead*>> send(ClientRequest request) {
    if (in_response_) co_return Status::failed_precondition();
    MOTE_CO_TRY_ASSIGN(ConstByteSpan head, write_request_head(buffer_, request));
    if (head.size() + request.body.size() <= buffer_.size()) {
      // One write: a head and a body sent apart would make the second wait
      // for the server's delayed ACK (Nagle's algorithm).
      for (std::size_t i = 0; i < request.body.size(); ++i)
        buffer_[head.size() + i] = request.body[i];
      MOTE_CO_TRY(co_await stream_.write(buffer_.first(head.size() + request.body.size())));
    } else {
      MOTE_CO_TRY(co_await stream_.write(head));
      MOTE_CO_TRY(co_await stream_.write(request.body));
    }
    in_response_ = true;
    const Method method = method_from(request.method);
    filled_ = 0;
    for (;;) {
      parser_.reset(method);
      std::size_t head_size = 0;
      for (;;) {
        Result<std::size_t> parsed = parser_.parse_head(ConstByteSpan(buffer_.first(filled_)));
        if (!parsed.ok()) co_return parsed.status();
        head_size = *parsed;
        if (head_size != 0) break;
        if (filled_ == buffer_.size()) co_return Status::resource_exhausted();
        MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream_.read(buffer_.subspan(filled_)));
        if (n == 0) co_return Status::data_loss();  // closed before a response
        filled_ += n;
      }
      const ResponseHead& response = parser_.head();
      if (response.status >= 200 || response.switches_protocol) {
        head_size_ = position_ = head_size;
        co_return &response;
      }
      // An interim response: what follows is the next head.
      for (std::size_t i = head_size; i < filled_; ++i) buffer_[i - head_size] = buffer_[i];
      filled_ -= head_size;
    }
  }

  // The next piece of the body, a view of the buffer valid until the next
  // call; empty once the body is complete. data_loss when the stream ends
  // before the body does.
  async::Task<Result<ConstByteSpan>> read_body() {
    if (!in_response_) co_return Status::failed_precondition();
    for (;;) {
      if (parser_.message_complete()) {
        in_response_ = false;
        co_return ConstByteSpan{};
      }
      if (position_ < filled_) {
        MOTE_CO_TRY_ASSIGN(BodyChunk chunk, parser_.parse_body(ConstByteSpan(
                                                buffer_.data() + position_, filled_ - position_)));
        position_ += chunk.consumed;
        if (!chunk.data.empty()) co_return chunk.data;
        continue;
      }
      // Everything after the head has been handed out: read over it.
      position_ = filled_ = head_size_;
      if (filled_ == buffer_.size()) co_return Status::resource_exhausted();
      MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream_.read(buffer_.subspan(filled_)));
      if (n == 0) {
        MOTE_CO_TRY(parser_.end_of_stream());
        continue;
      }
      filled_ += n;
    }
  }

  // Whether another request may be sent on this stream: the last response
  // was read to its end and both sides keep the connection.
  [[nodiscard]] bool reusable() const {
    return !in_response_ && parser_.message_complete() && parser_.head().keep_alive &&
           position_ == filled_;
  }

 private:
  static ParserLimits limits_for(ByteSpan buffer) {
    ParserLimits limits;
    limits.max_head_size = buffer.size();
    return limits;
  }

  S& stream_;
  ByteSpan buffer_;
  ResponseParser parser_;
  std::size_t filled_ = 0;
  std::size_t head_size_ = 0;
  std::size_t position_ = 0;
  bool in_response_ = false;
};

}  // namespace mote::http
