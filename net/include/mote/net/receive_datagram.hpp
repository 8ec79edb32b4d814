#pragma once
// Receives one datagram from any io::DatagramSocket as a Task, so that it
// can be raced against a deadline (async::with_deadline takes Tasks).
// The DHCP client and the DNS resolver wait this way.

#include "mote/async/task.hpp"
#include "mote/async/timeout.hpp"
#include "mote/io/concepts.hpp"

namespace mote::net {

// One receive_from(buffer), or deadline_exceeded at `deadline` (the receive
// is then cancelled and takes nothing). `buffer` must live until it completes.
template <io::DatagramSocket Socket>
async::Task<Result<io::Datagram>> receive_datagram(Socket& socket, ByteSpan buffer) {
  co_return co_await socket.receive_from(buffer);
}

template <io::DatagramSocket Socket>
auto receive_datagram_until(Socket& socket, ByteSpan buffer, async::Instant deadline) {
  return async::with_deadline(deadline, receive_datagram(socket, buffer));
}

}  // namespace mote::net
