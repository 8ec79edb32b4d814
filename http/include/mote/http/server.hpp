#pragma once
// An HTTP/1.1 server on the io concepts (host only): one coroutine per
// connection, keep-alive and pipelining, routes from a Router, timeouts
// for slow and idle clients, body limits, and a hook that hands a
// connection over to another protocol (WebSocket) after an Upgrade request.
//
//   Router router;
//   router.add("GET", "/hello", [](Request&, ResponseWriter& response) {
//     return response.send(200, "hello\n");
//   });
//   auto listener = KernelTcpListener::listen(driver, *io::Endpoint::parse("127.0.0.1:8080"));
//   Server<KernelTcpListener> server(*listener, router);
//   MOTE_TRY(server.start(executor));
//   executor.run();
//
// Each connection runs as its own task in a TaskStorage<kFrameBytes> the
// server allocates on first use and reuses (ServerOptions::max_connections of
// them at most; beyond that new connections are closed at once). Requests
// on a connection are answered in order, so pipelined requests get their
// responses in the order sent (RFC 9112 §9.3.2). A malformed request is
// answered with the status its ParseError maps to (400, 413, 414, 431, 501,
// 505) and the connection is closed: its framing can no longer be trusted.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/task.hpp"
#include "mote/async/timeout.hpp"
#include "mote/base/log.hpp"
#include "mote/base/result.hpp"
#include "mote/http/message_writer.hpp"
#include "mote/http/parser.hpp"
#include "mote/http/router.hpp"
#include "mote/io/concepts.hpp"

namespace mote::http {

struct ServerOptions {
  std::size_t max_connections = 256;
  std::size_t max_head_size = 8192;       // 431 (or 414 for the request line) beyond
  std::size_t max_headers = 64;           // 431 beyond
  std::uint64_t max_body_size = 1 << 20;  // 413 beyond, for buffered routes
  // For routes added with BodyHandling::stream.
  std::uint64_t max_streamed_body_size = std::uint64_t{1} << 30;
  // From a request's first byte to the end of its head: 408 and close.
  async::Duration head_timeout = std::chrono::seconds(10);
  // Waiting for the next request on an open connection: close quietly.
  async::Duration idle_timeout = std::chrono::seconds(60);
  // Waiting for more of a body: 408 and close.
  async::Duration body_timeout = std::chrono::seconds(30);
};

// The limits a connection's request parser gets from `options` (the header
// count is the size of its field storage, options.max_headers). Bodies are
// limited by the larger of the two body limits here; each route's own limit
// is checked as its body is read.
inline ParserLimits request_parser_limits(const ServerOptions& options) {
  ParserLimits limits;
  limits.max_head_size = options.max_head_size;
  limits.max_body_size = std::max(options.max_body_size, options.max_streamed_body_size);
  return limits;
}

// Frame storage for each connection task: the connection coroutine, the
// handler and everything it awaits (buffers live on the heap, not here).
// Serving static files takes under 4 KiB (measured in the default and the
// ASan build): the rest is for handlers' own coroutines. Check with
// connection_frame_high_water().
inline constexpr std::size_t kConnectionFrameBytes = std::size_t{16} * 1024;

// A ResponseWriter's way onto a stream. An upgrade handler uses it to send
// its 101 (or a refusal) with the same checks as any response:
//   StreamSink sink(stream);
//   ResponseWriter response(sink, *request.head, true);
//   response.set_header("Upgrade", "websocket");
//   response.set_header("Connection", "Upgrade");
//   co_await response.send(101);
template <io::Stream S>
class StreamSink final : public ByteSink {
 public:
  explicit StreamSink(S& stream) : stream_(stream) {}
  async::Task<Status> write(ConstByteSpan data) override { co_return co_await stream_.write(data); }

 private:
  S& stream_;
};

template <io::Listener L, std::size_t kFrameBytes = kConnectionFrameBytes>
class Server {
 public:
  using StreamType = typename L::StreamType;
  // Takes over a connection after an Upgrade request: it writes the 101
  // response itself (or refuses with another status) and owns the stream
  // until it returns. `received` holds bytes the client sent after the
  // request head (the new protocol's first bytes), valid during the call.
  using UpgradeHandler =
      std::function<async::Task<void>(Request&, StreamType&, ConstByteSpan received)>;

  Server(L& listener, const Router& router, ServerOptions options = {})
      : listener_(listener), router_(router), options_(options) {}
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server() { stop(); }

  // Requests with "Connection: upgrade" and an Upgrade field whose path
  // matches `pattern` go to `handler` instead of the router.
  Status on_upgrade(std::string_view pattern, UpgradeHandler handler) {
    MOTE_TRY_ASSIGN(PathPattern parsed, PathPattern::parse(pattern));
    upgrades_.push_back(UpgradeRoute{std::move(parsed), std::move(handler)});
    return ok_status();
  }

  // Starts accepting on `executor`.
  Status start(async::Executor& executor) {
    executor_ = &executor;
    return executor.spawn(accept_task_, &Server::accept_loop, this);
  }

  // Stops accepting and ends every connection.
  void stop() {
    accept_task_.cancel();
    for (auto& slot : slots_) slot->task.cancel();
  }

  // The most frame storage any connection task has used (of kFrameBytes),
  // for sizing.
  [[nodiscard]] std::size_t connection_frame_high_water() const {
    std::size_t most = 0;
    for (const auto& slot : slots_) most = std::max(most, slot->task.high_water_mark());
    return most;
  }

  // Connections being served now.
  [[nodiscard]] std::size_t connections() const {
    return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [](const auto& s) {
      return s->task.state() == async::TaskState::running;
    }));
  }

 private:
  static constexpr std::size_t kBodyReadBytes = std::size_t{8} * 1024;
  static constexpr std::size_t kInitialBufferBytes = std::size_t{2} * 1024;

  struct Slot {
    async::TaskStorage<kFrameBytes> task;
  };
  struct UpgradeRoute {
    PathPattern pattern;
    UpgradeHandler handler;
  };

  async::Task<Status> accept_loop() {
    for (;;) {
      Result<StreamType> accepted = co_await listener_.accept();
      if (!accepted.ok()) {
        if (accepted.status() == Status::failed_precondition()) co_return accepted.status();
        // Out of descriptors and the like: give connections time to finish
        // instead of spinning on the error.
        MOTE_LOG_WARN("accept failed: %s", accepted.status().str());
        co_await async::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      Slot* slot = free_slot();
      if (slot == nullptr) {
        MOTE_LOG_WARN("%zu connections: refusing another", options_.max_connections);
        accepted->close();
        continue;
      }
      const Status spawned =
          executor_->spawn(slot->task, &Server::connection, this, std::move(*accepted));
      if (!spawned.ok()) MOTE_LOG_ERROR("connection task: %s", spawned.str());
    }
  }

  Slot* free_slot() {
    for (auto& slot : slots_) {
      if (slot->task.state() != async::TaskState::running) return slot.get();
    }
    if (slots_.size() >= options_.max_connections) return nullptr;
    slots_.push_back(std::make_unique<Slot>());
    return slots_.back().get();
  }

  static async::Task<Result<std::size_t>> read_some(StreamType& stream, ByteSpan buffer) {
    co_return co_await stream.read(buffer);
  }

  // A short response for a request that is not handled (errors, 404, 405).
  static async::Task<Status> send_status(ByteSink& sink, const RequestHead& head,
                                         std::uint16_t status, bool keep_alive,
                                         std::string_view allow = {}) {
    ResponseWriter response(sink, head, keep_alive);
    if (!allow.empty()) response.set_header("Allow", allow);
    std::string body(reason_phrase(status));
    body += "\n";
    co_return co_await response.send(status, body);
  }

  // What an error response needs of a request whose head was rejected or
  // never completed: its method, once the request line has parsed, so a
  // HEAD request gets its error without content.
  static RequestHead rejected_head(const RequestParser& parser) {
    RequestHead head;
    head.method = parser.method();
    return head;
  }

  // The body of the current request, read from the connection's buffer
  // and stream as the handler (or the server, for buffered routes) asks.
  class ConnectionBody final : public BodyReader {
   public:
    ConnectionBody(Server& server, StreamType& stream, RequestParser& parser,
                   std::vector<std::byte>& buffer, std::size_t& filled, std::size_t& position,
                   std::size_t head_size, std::uint64_t limit)
        : server_(server),
          stream_(stream),
          parser_(parser),
          buffer_(buffer),
          filled_(filled),
          position_(position),
          head_size_(head_size),
          limit_(limit) {}

    async::Task<Result<ConstByteSpan>> read() override {
      if (!failure_.ok()) co_return failure_;
      for (;;) {
        if (parser_.message_complete()) co_return ConstByteSpan{};
        if (position_ < filled_) {
          Result<BodyChunk> chunk =
              parser_.parse_body(ConstByteSpan(buffer_.data() + position_, filled_ - position_));
          if (!chunk.ok()) {
            MOTE_LOG_DEBUG("bad request body: %s", to_string(parser_.error()));
            co_return fail(chunk.status(), status_code_for(parser_.error()));
          }
          position_ += chunk->consumed;
          if (chunk->data.empty()) continue;
          received_ += chunk->data.size();
          if (received_ > limit_) co_return fail(Status::resource_exhausted(), 413);
          co_return chunk->data;
        }
        // "100 Continue" only when the body has to be waited for (RFC 9110
        // §10.1.1): a client that sent it already needs no invitation.
        if (parser_.head().expects_continue && !continue_sent_) {
          continue_sent_ = true;
          MOTE_CO_TRY(co_await stream_.write(bytes_of("HTTP/1.1 100 Continue\r\n\r\n")));
        }
        // What was handed out is consumed: read over it, keeping the head.
        position_ = filled_ = head_size_;
        Result<std::size_t> n =
            co_await async::with_deadline(async::now() + server_.options_.body_timeout,
                                          read_some(stream_, ByteSpan(buffer_).subspan(filled_)));
        if (!n.ok()) {
          co_return fail(n.status(), n.status() == Status::deadline_exceeded() ? 408 : 0);
        }
        if (*n == 0) co_return fail(Status::data_loss(), 0);
        filled_ += *n;
      }
    }

    // The status to answer a failed body with (0: none, just close).
    [[nodiscard]] std::uint16_t failure_response() const { return failure_response_; }
    [[nodiscard]] bool failed() const { return !failure_.ok(); }

   private:
    Status fail(Status status, std::uint16_t response) {
      failure_ = status;
      failure_response_ = response;
      return status;
    }

    Server& server_;
    StreamType& stream_;
    RequestParser& parser_;
    std::vector<std::byte>& buffer_;
    std::size_t& filled_;
    std::size_t& position_;
    std::size_t head_size_;
    std::uint64_t limit_;
    std::uint64_t received_ = 0;
    Status failure_;
    std::uint16_t failure_response_ = 0;
    bool continue_sent_ = false;
  };

  // After a failed body: its status if there is one to send, then close.
  static async::Task<void> end_after_body_error(StreamType& stream, ByteSink& sink,
                                                const RequestHead& head,
                                                const ConnectionBody& reader) {
    if (reader.failure_response() == 0) co_return close(stream);
    static_cast<void>(co_await send_status(sink, head, reader.failure_response(), false));
    if (reader.failure_response() == 408) co_return close(stream);
    co_return co_await linger_close(stream);
  }

  async::Task<void> connection(StreamType stream) {
    // The head and any pipelined requests after it, then body reads. It
    // starts small and grows to its full size (the head limit and one body
    // read) only for a head that does not fit or a request with a body:
    // most requests fit in 2 KiB, and an idle connection holds no more.
    const std::size_t full_size = options_.max_head_size + kBodyReadBytes;
    std::vector<std::byte> buffer(std::min(kInitialBufferBytes, full_size));
    std::vector<Header> fields(options_.max_headers);
    std::string body;
    RequestParser parser(fields, request_parser_limits(options_));
    StreamSink<StreamType> sink(stream);
    std::size_t filled = 0;
    const io::Endpoint remote = stream.remote_endpoint().value_or(io::Endpoint{});
    for (;;) {
      parser.reset();
      // The head: the first byte within the idle timeout, the rest within
      // the head timeout.
      async::Instant deadline = async::now() + options_.idle_timeout;
      bool head_started = filled > 0;
      if (head_started) deadline = async::now() + options_.head_timeout;
      std::size_t head_size = 0;
      for (;;) {
        Result<std::size_t> parsed = parser.parse_head(ConstByteSpan(buffer.data(), filled));
        if (!parsed.ok()) {
          MOTE_LOG_DEBUG("bad request: %s", to_string(parser.error()));
          static_cast<void>(co_await send_status(sink, rejected_head(parser),
                                                 status_code_for(parser.error()), false));
          co_return co_await linger_close(stream);
        }
        head_size = *parsed;
        if (head_size != 0) break;
        if (filled == buffer.size() && buffer.size() < full_size) {
          grow(buffer, full_size, parser);  // the head is parsed again from its start
          continue;
        }
        Result<std::size_t> n = co_await async::with_deadline(
            deadline, read_some(stream, ByteSpan(buffer).subspan(filled)));
        if (!n.ok() || *n == 0) {
          if (n.status() == Status::deadline_exceeded() && filled > 0) {
            static_cast<void>(co_await send_status(sink, rejected_head(parser), 408, false));
          }
          co_return close(stream);
        }
        if (!head_started) deadline = async::now() + options_.head_timeout;
        head_started = true;
        filled += *n;
      }
      // A body is read into the buffer after the head: give it the full size.
      if (!parser.message_complete() && buffer.size() < full_size) {
        grow(buffer, full_size, parser);
        const Result<std::size_t> again = parser.parse_head(ConstByteSpan(buffer.data(), filled));
        if (!again.ok() || *again != head_size) co_return close(stream);  // cannot happen
      }
      const RequestHead& head = parser.head();
      Request request;
      request.head = &head;
      request.path = path_of_target(head.target);
      request.query = query_of_target(head.target);
      request.remote = remote;

      if (head.upgrade) {
        for (const UpgradeRoute& route : upgrades_) {
          Result<bool> matched = route.pattern.match(request.path, request.params);
          if (matched.ok() && *matched) {
            co_await route.handler(request, stream,
                                   ConstByteSpan(buffer.data() + head_size, filled - head_size));
            co_return close(stream);
          }
        }
      }

      Router::Match match = router_.match(request);
      const bool streams = match.handler != nullptr && match.body == BodyHandling::stream;
      const std::uint64_t limit =
          streams ? options_.max_streamed_body_size : options_.max_body_size;
      // The body's bytes go after the head in the buffer; `position` is the
      // first byte not yet parsed, and the next request starts there.
      std::size_t position = head_size;
      ConnectionBody reader(*this, stream, parser, buffer, filled, position, head_size, limit);
      // No handler: answer at once rather than read a body nobody wants
      // (RFC 9110 §15.5 lets a server refuse before the content), then close.
      if (match.handler == nullptr && !parser.message_complete()) {
        static_cast<void>(co_await send_status(sink, head, match.status, false, match.allow));
        co_return co_await linger_close(stream);
      }
      if (head.framing == BodyFraming::content_length && head.content_length > limit) {
        static_cast<void>(co_await send_status(sink, head, 413, false));
        co_return co_await linger_close(stream);
      }
      body.clear();
      if (streams) {
        request.body_reader = &reader;
      } else {
        for (;;) {
          Result<ConstByteSpan> piece = co_await reader.read();
          if (!piece.ok()) co_return co_await end_after_body_error(stream, sink, head, reader);
          if (piece->empty()) break;
          body.append(as_string_view(*piece));
        }
      }
      request.body = body;

      ResponseWriter response(sink, head, true);
      Status handled;
      if (match.handler == nullptr) {
        handled = co_await send_status(sink, head, match.status, head.keep_alive, match.allow);
        if (match.status == 400) response.close_connection();
      } else {
        handled = co_await (*match.handler)(request, response);
        if (reader.failed() && !response.started()) {
          co_return co_await end_after_body_error(stream, sink, head, reader);
        }
        // A streaming handler that answered without reading the whole
        // body: the rest is not worth reading, so the connection ends.
        if (!parser.message_complete()) response.close_connection();
        if (!response.started()) {
          MOTE_LOG_WARN("%.*s %.*s: no response (%s)", static_cast<int>(head.method_text.size()),
                        head.method_text.data(), static_cast<int>(request.path.size()),
                        request.path.data(), handled.str());
          handled = co_await send_status(sink, head, 500, false);
          response.close_connection();
        } else if (!response.finished()) {
          handled = co_await response.finish();
        }
      }
      if (!handled.ok() || !head.keep_alive || !response.keep_alive()) {
        static_cast<void>(stream.shutdown_write());
        co_return close(stream);
      }
      // Pipelined bytes move to the front for the next request.
      std::memmove(buffer.data(), buffer.data() + position, filled - position);
      filled -= position;
    }
  }

  static void close(StreamType& stream) { stream.close(); }

  // Enlarges the connection's buffer. The parser's views pointed into the
  // old one, so it starts over: parse_head() reads the head again.
  static void grow(std::vector<std::byte>& buffer, std::size_t size, RequestParser& parser) {
    buffer.resize(size);
    parser.reset();
  }

  // After an error response the client may still be sending (a body we
  // refused): closing with unread data would make the kernel send a reset
  // that can destroy the response before the client reads it. So: end our
  // side, then read and drop what comes, for a bounded time and amount.
  static async::Task<void> linger_close(StreamType& stream) {
    static_cast<void>(stream.shutdown_write());
    const async::Instant deadline = async::now() + std::chrono::seconds(2);
    std::array<std::byte, 4096> scratch;
    for (std::size_t drained = 0; drained < std::size_t{1024} * 1024;) {
      Result<std::size_t> n = co_await async::with_deadline(deadline, read_some(stream, scratch));
      if (!n.ok() || *n == 0) break;
      drained += *n;
    }
    stream.close();
  }

  L& listener_;
  const Router& router_;
  ServerOptions options_;
  std::vector<UpgradeRoute> upgrades_;
  async::Executor* executor_ = nullptr;
  async::TaskStorage<4096> accept_task_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace mote::http
