#pragma once
// MQTT over WebSocket (MQTT 5 §6, MQTT 3.1.1 §6): the broker's connection
// logic runs unchanged over a WebSocket, through an io::Stream whose reads
// are the payload bytes of the client's binary messages and whose writes
// are binary messages. "A single WebSocket data frame can contain multiple
// or partial MQTT Control Packets" (§6.0), which the broker's reader
// already frames. Host only (permessage-deflate on zlib).
//
// Served behind mote's HTTP server (`mote gateway` on /mqtt, a `protocol
// websockets` listener of `mote broker` on every path):
//
//   server.on_upgrade("/mqtt", [&broker](http::Request& request, KernelTcpStream& stream,
//                                        ConstByteSpan received) {
//     return broker::serve_mqtt_websocket(*broker, request, stream, received);
//   });
//
// The handshake accepts the subprotocols `mqtt` (MQTT 5 §6.0, 3.1.1 §6.0)
// and `mqttv3.1` (clients of MQTT 3.1 era, as mosquitto does); a request
// offering neither is refused with 400 before any upgrade (RFC 6455 §4.2.2:
// a server that does not wish to accept the connection returns an HTTP
// error). permessage-deflate is taken when the client offers it.

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/log.hpp"
#include "mote/base/result.hpp"
#include "mote/http/message_writer.hpp"
#include "mote/http/router.hpp"
#include "mote/http/server.hpp"
#include "mote/io/concepts.hpp"
#include "mote/websocket/connection.hpp"
#include "mote/websocket/deflate.hpp"

namespace mote::broker {

// The subprotocols offered in Sec-WebSocket-Protocol that the broker takes.
inline constexpr std::string_view kMqttSubprotocolNames[] = {"mqtt", "mqttv3.1"};
inline constexpr std::span<const std::string_view> kMqttSubprotocols(kMqttSubprotocolNames);

// The deflate parameters the broker grants: a small compressor (11-bit
// window, memLevel 4: about 16 KiB of zlib state instead of 256 KiB) since
// MQTT packets are small; the inflater reads any window the client uses.
websocket::DeflateOptions mqtt_websocket_deflate_options();

// An io::Stream over the server side of an accepted WebSocket connection.
// S is the TCP stream, lent for the connection's life (an HTTP server's
// upgrade handler owns it until it returns).
//   read(buffer): bytes of the next binary messages; 0 once the client
//     closed (its close frame answered). A text message is refused: close
//     1003 and data_loss ([MQTT-6.0.0-1] "the Server MUST close the Network
//     Connection" on a packet not in a binary frame). Protocol errors close
//     as websocket::Connection does (1002, 1007, 1009) and return its error.
//   write(data): one binary message (unfragmented).
//   shutdown_write(): nothing (a WebSocket has no half close); close():
//     closes the TCP stream, which also ends a pending read.
template <io::Stream S>
class MqttWebSocketStream {
 public:
  using Socket = websocket::Connection<websocket::BorrowedStream<S>, websocket::PerMessageDeflate>;

  // Answers the upgrade request `head` (read off `stream` by an HTTP
  // server, `received` the bytes after it) and returns the stream.
  // Messages above `max_message_size` bytes (decompressed) close with 1009.
  // Errors: invalid_argument (a bad request, answered 400/426), or the
  // handshake's write error.
  static async::Task<Result<MqttWebSocketStream>> accept(S& stream, const http::RequestHead& head,
                                                         ConstByteSpan received,
                                                         std::size_t max_message_size) {
    auto state = std::make_unique<State>(stream, max_message_size);
    MOTE_CO_TRY(co_await state->socket.accept(head, kMqttSubprotocols, received));
    co_return MqttWebSocketStream(std::move(state));
  }

  async::Task<Result<std::size_t>> read(ByteSpan buffer) {
    State& s = *state_;
    while (s.next == s.size) {
      if (s.message == nullptr) s.message = std::make_unique_for_overwrite<std::byte[]>(s.limit);
      Result<websocket::Message> got =
          co_await s.socket.receive(ByteSpan(s.message.get(), s.limit));
      if (!got.ok()) {
        MOTE_LOG_DEBUG("mqtt over websocket: %s",
                       s.socket.failure() != nullptr ? s.socket.failure() : got.status().str());
        co_return got.status();
      }
      if (got->type == websocket::MessageType::close) co_return std::size_t{0};
      if (got->type == websocket::MessageType::text) {
        MOTE_LOG_DEBUG("mqtt over websocket: a text message; closing with 1003");
        const Status closed =
            co_await s.socket.close(websocket::kCloseUnsupportedData, "MQTT needs binary frames");
        closed.ignore_error();  // the stream closes either way
        s.socket.stream().close();
        co_return Status::data_loss();
      }
      s.next = 0;
      s.size = got->size;
    }
    const std::size_t n = std::min(buffer.size(), s.size - s.next);
    std::copy_n(s.message.get() + s.next, n, buffer.begin());
    s.next += n;
    co_return n;
  }

  async::Task<Status> write(ConstByteSpan data) {
    co_return co_await state_->socket.send_binary(data);
  }
  Status shutdown_write() { return ok_status(); }
  void close() { state_->socket.stream().close(); }
  Result<io::Endpoint> remote_endpoint() { return state_->socket.stream().remote_endpoint(); }

  Socket& socket() { return state_->socket; }

 private:
  static constexpr std::size_t kBufferBytes = 4096;

  struct State {
    State(S& stream, std::size_t max_message_size)
        : socket(websocket::BorrowedStream<S>(stream), websocket::Role::server,
                 {read_buffer, write_buffer}, {},
                 websocket::PerMessageDeflate(mqtt_websocket_deflate_options())),
          limit(max_message_size) {
      socket.set_max_message_size(limit);
    }
    std::array<std::byte, kBufferBytes> read_buffer{};
    std::array<std::byte, kBufferBytes> write_buffer{};
    Socket socket;
    // The message being read: whole, as websocket::Connection delivers it.
    // Allocated on first use and not initialised, so the pages of a large
    // limit are only committed as large messages fill them.
    std::unique_ptr<std::byte[]> message;
    std::size_t limit;
    std::size_t next = 0;  // the first byte of `message` not yet read
    std::size_t size = 0;  // the bytes of `message` received
  };

  explicit MqttWebSocketStream(std::unique_ptr<State> state) : state_(std::move(state)) {}

  std::unique_ptr<State> state_;
};

// Why a request cannot become an MQTT WebSocket ("" when it can): it
// offers no MQTT subprotocol.
std::string_view mqtt_websocket_refusal(const http::RequestHead& head);

// An HTTP server's upgrade handler for MQTT over WebSocket: refuses a
// request without an MQTT subprotocol (400) or when the broker is full
// (503), else accepts it and serves the client with `broker` (a
// broker::Broker) until it goes. The handler's task must end before the
// broker is destroyed: stop the HTTP server first.
template <typename Broker, io::Stream S>
async::Task<void> serve_mqtt_websocket(Broker& broker, http::Request& request, S& stream,
                                       ConstByteSpan received) {
  std::string_view refusal = mqtt_websocket_refusal(*request.head);
  std::uint16_t status = 400;
  if (refusal.empty() && broker.connection_limit_reached()) {
    refusal = "the broker has reached max_connections\n";
    status = 503;
  }
  if (!refusal.empty()) {
    MOTE_LOG_DEBUG("mqtt over websocket: refused: %.*s", static_cast<int>(refusal.size()),
                   refusal.data());
    http::StreamSink<S> sink(stream);
    http::ResponseWriter response(sink, *request.head, false);
    const Status sent = co_await response.send(status, refusal);
    sent.ignore_error();  // the connection closes either way
    co_return;
  }
  Result<MqttWebSocketStream<S>> accepted = co_await MqttWebSocketStream<S>::accept(
      stream, *request.head, received, broker.max_packet_size());
  if (!accepted.ok()) co_return;
  co_await broker.serve(*accepted);
}

}  // namespace mote::broker
