// THE SLOT FOR MOTE'S TCP. Until mote's stack has TCP sockets, there is no
// pair to make and the benchmark prints "pending" in mote's rows.
//
// What the adapter will do (the same contract as lwip_pair.cpp; see
// tcp_stack_pair.hpp):
//   - two StaticInterface<> instances on an IP-medium link (the LinkPorts'
//     capabilities(): Medium::ip, MTU = MSS + 40), 10.0.0.1/30 and
//     10.0.0.2/30, rx checksums verified (the default), tx checksums on;
//   - a listening TCP socket on the receiver with a backlog of `flows`,
//     receive buffers of `receive_window` bytes; `flows` sockets on the
//     sender with send buffers of `send_buffer` bytes, MSS `mss`, each
//     connected to 10.0.0.2:5001;
//   - poll(now): until nothing moves, `interface.poll(now, device)` for both
//     interfaces, with the device an adaptor over the LinkPort that
//     satisfies net::Device (receive/transmit/can_transmit/capabilities
//     forwarded); the sender writes the pattern
//     (config.pattern->bytes().subspan(sent % period)) while its socket
//     takes bytes and closes when `bytes_per_flow` are written; the receiver
//     reads, checks with pattern->matches(received, bytes), counts the FIN;
//   - poll_at(): the earlier of the two interfaces' poll_at(now);
//   - totals(): the flows' counters, as FlowTotals.
// The sockets are driven sans-I/O here (no executor, no Stack task), which
// is how the benchmark runs lwIP too; an async variant on SimDriver can come
// later for the io::Stream path.
#include "tcp_stack_pair.hpp"

namespace mote::bench::tcp {

std::unique_ptr<TcpStackPair> make_mote_pair() { return nullptr; }

}  // namespace mote::bench::tcp
