#pragma once
// The concepts protocol code is written against. A protocol client or server
// (MQTT, HTTP, CoAP, ...) is a template over these and runs unchanged on the
// Linux kernel's sockets (platform/linux/kernel_sockets.hpp) and on mote's
// own stack (net, as its sockets land).
//
// Every operation is awaited: it says what wakes it, what cancels it and how
// long buffers must live, and the rules are the same for every stack:
//   Wakes: the stack's readiness for the operation (data, room, a connection).
//   Cancels: destroying the awaiter. A cancelled read or receive takes
//   nothing; a cancelled write or send may have sent a prefix of the data (a
//   stream is then of unknown state: close it).
//   Buffers: valid until the operation completes or is cancelled.
//
// Errors, the same on every stack:
//   unavailable         connection refused (nothing listens there)
//   aborted             connection reset by the peer, or broken
//   deadline_exceeded   the stack gave up (connect or retransmission timeout)
//   not_found           no route to the host or network; name not found
//   already_exists      the local address is in use
//   permission_denied   not allowed (a privileged port)
//   resource_exhausted  out of sockets or buffers
//   failed_precondition the socket is closed
//   invalid_argument    an address the stack cannot use (wrong family)

#include <concepts>
#include <cstddef>
#include <string_view>

#include "mote/async/awaitable.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/io/address.hpp"

namespace mote::io {

// A reliable, ordered byte stream (TCP).
//   read(buffer): at least one byte, or 0 once the peer has shut down its
//     side and everything before was read.
//   write(data): completes when the stack has taken all of `data` (it may
//     still be in flight).
//   shutdown_write(): after what was written, tells the peer no more comes
//     (TCP FIN); reading goes on.
//   close(): releases the connection at once; pending data may be dropped.
template <typename T>
concept Stream = std::movable<T> && requires(T& stream, ByteSpan buffer, ConstByteSpan data) {
  { stream.read(buffer) } -> async::AwaitableOf<Result<std::size_t>>;
  { stream.write(data) } -> async::AwaitableOf<Status>;
  { stream.shutdown_write() } -> std::same_as<Status>;
  { stream.close() } -> std::same_as<void>;
  { stream.remote_endpoint() } -> std::same_as<Result<Endpoint>>;
};

// Told, from the executor's thread and outside any task, that a stream has
// something to read. What a server registers for an idle connection so that
// it holds no coroutine frames while it waits (the MQTT broker does).
class ReadinessListener {
 public:
  virtual void on_readable() = 0;

 protected:
  ~ReadinessListener() = default;
};

// A Stream that can say whether a read would wait, and tell a plain object
// when it no longer would.
//   read_ready(): a read completes without waiting (data, the end of the
//     stream or an error is there). False may be conservative only in the
//     direction of waiting: a read may still find data.
//   notify_readable(listener): calls listener.on_readable() once, the next
//     time the stream becomes readable after read_ready() was false. The
//     caller checks read_ready() first; one listener at a time; it must
//     outlive the registration.
//   stop_notify(): forgets the listener; close() does so too.
template <typename T>
concept ReadinessStream = Stream<T> && requires(T& stream, const T& view, ReadinessListener& l) {
  { view.read_ready() } -> std::same_as<bool>;
  { stream.notify_readable(l) } -> std::same_as<void>;
  { stream.stop_notify() } -> std::same_as<void>;
};

// Accepts incoming streams on a local endpoint.
template <typename T>
concept Listener = requires(T& listener) {
  typename T::StreamType;
  requires Stream<typename T::StreamType>;
  { listener.accept() } -> async::AwaitableOf<Result<typename T::StreamType>>;
  { listener.local_endpoint() } -> std::same_as<Result<Endpoint>>;
};

// Opens streams to remote endpoints.
template <typename T>
concept Connector = requires(T& connector, Endpoint remote) {
  typename T::StreamType;
  requires Stream<typename T::StreamType>;
  { connector.connect(remote) } -> async::AwaitableOf<Result<typename T::StreamType>>;
};

// What receive_from() received.
struct Datagram {
  std::size_t size = 0;    // bytes written into the buffer
  Endpoint from;           // the sender
  bool truncated = false;  // the datagram was larger than the buffer; the rest is lost
};

// Unreliable datagrams (UDP) on a bound local endpoint.
template <typename T>
concept DatagramSocket = requires(T& socket, ConstByteSpan data, ByteSpan buffer, Endpoint to) {
  { socket.send_to(data, to) } -> async::AwaitableOf<Status>;
  { socket.receive_from(buffer) } -> async::AwaitableOf<Result<Datagram>>;
  { socket.local_endpoint() } -> std::same_as<Result<Endpoint>>;
};

// Host names to addresses (the first address the stack prefers).
template <typename T>
concept Resolver = requires(T& resolver, std::string_view host) {
  { resolver.resolve(host) } -> async::AwaitableOf<Result<IpAddress>>;
};

}  // namespace mote::io
