#pragma once
// One cell of issue 5's network simulator (after smoltcp's tests/netsim.rs):
// a pair of stacks joined by a Cable with a FaultInjector on each end, run
// on virtual time for a fixed span. mote_tcp_netsim prints one cell per
// process; net_tcp_netsim_test runs a reduced grid against mote's pair and
// asserts issue 5's targets (virtual time and seeded loss: the same figures
// on every run and machine).
//
// The link: each direction delays frames by half the RTT and drops `loss`
// percent of them (seeded). With `rate`, frames towards the receiver pass a
// bottleneck first: a FIFO of `queue` bytes drained at `rate` bytes/s, tail
// drop when full (the FaultInjector's bottleneck, net/phy). Every flow has
// send and receive buffers of `buffer` bytes and sends for the whole span.
// `reorder` holds that share of frames in each direction 10 ms longer
// (later ones overtake them); `duplicate` delivers that share twice, each
// way; `corrupt` flips one bit in that share, each way (the checksums must
// catch it: a flipped payload bit that got through fails the pattern check).

#include <chrono>
#include <cstdint>

#include "tcp_stack_pair.hpp"

namespace mote::bench::tcp {

struct NetsimCell {
  unsigned loss = 0;  // percent, each direction
  std::uint32_t buffer = 32 * 1024;
  unsigned rtt_ms = 100;
  unsigned seconds = 20;
  unsigned flows = 1;
  std::uint32_t seed = 1;
  std::uint32_t rate = 0;  // bytes/s at the bottleneck; 0: none
  std::uint32_t queue = 64 * 1500;
  unsigned mss = 1460;
  unsigned reorder = 0;
  unsigned duplicate = 0;
  unsigned corrupt = 0;

  // Percentages up to 100, 1..64 flows, MSS 64..8192, nonzero buffer/span.
  [[nodiscard]] bool valid() const;
};

struct NetsimResult {
  bool opened = false;
  FlowTotals totals;
  double goodput = 0;               // payload checked by the receivers per virtual second
  double window_limit = 0;          // flows x buffer / RTT
  std::uint32_t arrived = 0;        // frames at the receiver's end (the bottleneck)
  std::uint32_t queue_dropped = 0;  // tail drops there
  std::uint32_t lost = 0;           // random loss, both directions
  std::uint32_t overflowed = 0;     // delay lines full (both ends)
  double drop_rate = 0;             // queue_dropped / arrived

  [[nodiscard]] bool ok() const { return opened && totals.failed == 0; }
};

// Runs `cell` on `pair` (made for cell.flows flows); `wall_limit` is a hang
// guard only.
NetsimResult run_netsim_cell(TcpStackPair& pair, const NetsimCell& cell,
                             std::chrono::seconds wall_limit);

}  // namespace mote::bench::tcp
