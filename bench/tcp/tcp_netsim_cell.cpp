#include "tcp_netsim_cell.hpp"

#include <vector>

#include "mote/net/phy/cable.hpp"
#include "mote/net/phy/fault_injector.hpp"

namespace mote::bench::tcp {

bool NetsimCell::valid() const {
  return loss <= 100 && reorder <= 100 && duplicate <= 100 && corrupt <= 100 && buffer != 0 &&
         flows != 0 && flows <= 64 && seconds != 0 && rtt_ms != 0 && mss >= 64 && mss <= 8192;
}

NetsimResult run_netsim_cell(TcpStackPair& pair, const NetsimCell& cell,
                             std::chrono::seconds wall_limit) {
  NetsimResult result;
  const TransferPattern pattern;
  PairConfig config;
  config.mss = static_cast<std::uint16_t>(cell.mss);
  config.receive_window = cell.buffer;
  config.send_buffer = cell.buffer;
  config.flows = cell.flows;
  config.bytes_per_flow = 1ull << 40;  // more than any span can carry
  config.pattern = &pattern;

  // Everything in flight must fit the cable and the delay lines: the
  // windows of all flows, the bottleneck's queue, and per-frame overhead.
  const std::size_t in_flight =
      4 * (static_cast<std::size_t>(cell.buffer) * cell.flows + cell.queue) + (1u << 20);
  std::vector<std::byte> cable_storage(2 * in_flight);
  net::Cable cable(cable_storage, {net::Medium::ip, cell.mss + 40});
  // A FaultInjector's drop applies to both of its paths (frames it receives
  // and frames it transmits), its delay and bottleneck to received frames.
  // So the loss lives on the receiver's end only (its receive path: data;
  // its transmit path: ACKs), once per direction, and each end delays what
  // it receives by half the RTT.
  const auto one_way = std::chrono::microseconds(cell.rtt_ms * 1000 / 2);
  net::FaultConfig sender_end;
  sender_end.seed = cell.seed * 2 + 1;
  sender_end.delay = one_way;
  sender_end.reorder_percent = static_cast<std::uint8_t>(cell.reorder);
  net::FaultConfig receiver_end;
  receiver_end.seed = cell.seed * 2;
  receiver_end.drop_percent = static_cast<std::uint8_t>(cell.loss);
  receiver_end.delay = one_way;
  receiver_end.reorder_percent = static_cast<std::uint8_t>(cell.reorder);
  receiver_end.duplicate_percent = static_cast<std::uint8_t>(cell.duplicate);
  receiver_end.corrupt_percent = static_cast<std::uint8_t>(cell.corrupt);
  receiver_end.bottleneck_bytes_per_second = cell.rate;
  receiver_end.queue_bytes = cell.queue;
  std::vector<std::byte> held_a(in_flight);
  std::vector<std::byte> held_b(in_flight);
  net::FaultInjector<net::Cable::End> end_a(cable.end_a(), sender_end, held_a);
  net::FaultInjector<net::Cable::End> end_b(cable.end_b(), receiver_end, held_b);
  DeviceLinkPort<net::FaultInjector<net::Cable::End>> sender_link(end_a);
  DeviceLinkPort<net::FaultInjector<net::Cable::End>> receiver_link(end_b);

  if (!pair.open(config, sender_link, receiver_link).ok()) return result;
  result.opened = true;
  const Instant end = Instant{} + std::chrono::seconds(cell.seconds);
  run_until_done(pair, sender_link, receiver_link, config, end, wall_limit);
  result.totals = pair.totals();
  const net::FaultStats& receiver_stats = end_b.stats();
  const net::FaultStats& sender_stats = end_a.stats();
  result.goodput = static_cast<double>(result.totals.received) / cell.seconds;
  result.window_limit = static_cast<double>(cell.buffer) * cell.flows * 1000.0 / cell.rtt_ms;
  result.arrived = receiver_stats.arrived;
  result.queue_dropped = receiver_stats.queue_dropped;
  result.lost = receiver_stats.dropped;
  result.overflowed = receiver_stats.overflowed + sender_stats.overflowed;
  result.drop_rate =
      receiver_stats.arrived == 0
          ? 0.0
          : static_cast<double>(receiver_stats.queue_dropped) / receiver_stats.arrived;
  return result;
}

}  // namespace mote::bench::tcp
