// mote_tcp_netsim: the network simulator of issue 5 (after smoltcp's
// tests/netsim.rs), one cell per process: a pair of stacks joined by a Cable
// with a FaultInjector on each end, run on virtual time for a fixed span.
//
//   mote_tcp_netsim --stack lwip|mote [--loss PERCENT] [--buffer BYTES]
//                   [--rtt-ms MS] [--seconds S] [--flows N] [--seed N]
//                   [--rate BYTES_PER_S --queue BYTES] [--mss N]
//                   [--reorder PERCENT] [--duplicate PERCENT] [--corrupt PERCENT]
//
// The link: each direction delays frames by half the RTT and drops `loss`
// percent of them (seeded). With --rate, frames towards the receiver pass a
// bottleneck first: a FIFO of --queue bytes drained at --rate bytes/s, tail
// drop when full (the FaultInjector's bottleneck, net/phy). Every flow has
// send and receive buffers of --buffer bytes and sends for the whole span.
// --reorder holds that share of frames in each direction 10 ms longer (later
// ones overtake them); --duplicate delivers that share twice, each way;
// --corrupt flips one bit in that share, each way (the checksums must catch
// it: a flipped payload bit that got through fails the pattern check).
//
// Prints one line: `stack=... loss=... buffer=... rtt_ms=... flows=...
// goodput=B/s window_limit=B/s arrived=... queue_dropped=... drop_rate=...
// lost=... overflowed=... connected=... result=ok|failed|pending`. Goodput
// is payload delivered to the receiving applications (checked against the
// pattern) per virtual second; window_limit is flows x buffer / RTT;
// drop_rate is tail drops over frames arriving at the bottleneck; lost is
// what the random loss took, both directions.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mote/net/phy/cable.hpp"
#include "mote/net/phy/fault_injector.hpp"
#include "tcp_stack_pair.hpp"

namespace mote::bench::tcp {
namespace {

int run(int argc, char** argv) {
  std::string stack = "lwip";
  unsigned loss = 0;
  std::uint32_t buffer = 32 * 1024;
  unsigned rtt_ms = 100;
  unsigned seconds = 20;
  unsigned flows = 1;
  std::uint32_t seed = 1;
  std::uint32_t rate = 0;
  std::uint32_t queue = 64 * 1500;
  unsigned mss = 1460;
  unsigned reorder = 0;
  unsigned duplicate = 0;
  unsigned corrupt = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const unsigned long value = std::strtoul(argv[i + 1], nullptr, 10);
    if (flag == "--stack") {
      stack = argv[i + 1];
    } else if (flag == "--loss") {
      loss = static_cast<unsigned>(value);
    } else if (flag == "--buffer") {
      buffer = static_cast<std::uint32_t>(value);
    } else if (flag == "--rtt-ms") {
      rtt_ms = static_cast<unsigned>(value);
    } else if (flag == "--seconds") {
      seconds = static_cast<unsigned>(value);
    } else if (flag == "--flows") {
      flows = static_cast<unsigned>(value);
    } else if (flag == "--seed") {
      seed = static_cast<std::uint32_t>(value);
    } else if (flag == "--rate") {
      rate = static_cast<std::uint32_t>(value);
    } else if (flag == "--queue") {
      queue = static_cast<std::uint32_t>(value);
    } else if (flag == "--mss") {
      mss = static_cast<unsigned>(value);
    } else if (flag == "--reorder") {
      reorder = static_cast<unsigned>(value);
    } else if (flag == "--duplicate") {
      duplicate = static_cast<unsigned>(value);
    } else if (flag == "--corrupt") {
      corrupt = static_cast<unsigned>(value);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (loss > 100 || reorder > 100 || duplicate > 100 || corrupt > 100 || buffer == 0 ||
      flows == 0 || flows > 64 || seconds == 0 || mss < 64 || mss > 8192) {
    std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  std::unique_ptr<TcpStackPair> pair;
  if (stack == "lwip") {
    pair = make_lwip_pair();
  } else if (stack == "mote") {
    pair = make_mote_pair();
  } else {
    std::fprintf(stderr, "unknown stack %s (the kernel has no simulated link)\n", stack.c_str());
    return 2;
  }
  char prefix[256];
  std::snprintf(prefix, sizeof prefix,
                "stack=%s loss=%u buffer=%u rtt_ms=%u flows=%u rate=%u queue=%u seconds=%u "
                "reorder=%u duplicate=%u corrupt=%u",
                stack.c_str(), loss, buffer, rtt_ms, flows, rate, queue, seconds, reorder,
                duplicate, corrupt);
  if (!pair) {
    std::printf("%s result=pending\n", prefix);
    return 0;
  }

  const TransferPattern pattern;
  PairConfig config;
  config.mss = static_cast<std::uint16_t>(mss);
  config.receive_window = buffer;
  config.send_buffer = buffer;
  config.flows = flows;
  config.bytes_per_flow = 1ull << 40;  // more than any span can carry
  config.pattern = &pattern;

  // Everything in flight must fit the cable and the delay lines: the
  // windows of all flows, the bottleneck's queue, and per-frame overhead.
  const std::size_t in_flight = 4 * (static_cast<std::size_t>(buffer) * flows + queue) + (1u << 20);
  std::vector<std::byte> cable_storage(2 * in_flight);
  net::Cable cable(cable_storage, {net::Medium::ip, mss + 40});
  // A FaultInjector's drop applies to both of its paths (frames it receives
  // and frames it transmits), its delay and bottleneck to received frames.
  // So the loss lives on the receiver's end only (its receive path: data;
  // its transmit path: ACKs), once per direction, and each end delays what
  // it receives by half the RTT.
  const auto one_way = std::chrono::microseconds(rtt_ms * 1000 / 2);
  net::FaultConfig sender_end;
  sender_end.seed = seed * 2 + 1;
  sender_end.delay = one_way;
  sender_end.reorder_percent = static_cast<std::uint8_t>(reorder);
  net::FaultConfig receiver_end;
  receiver_end.seed = seed * 2;
  receiver_end.drop_percent = static_cast<std::uint8_t>(loss);
  receiver_end.delay = one_way;
  receiver_end.reorder_percent = static_cast<std::uint8_t>(reorder);
  receiver_end.duplicate_percent = static_cast<std::uint8_t>(duplicate);
  receiver_end.corrupt_percent = static_cast<std::uint8_t>(corrupt);
  receiver_end.bottleneck_bytes_per_second = rate;
  receiver_end.queue_bytes = queue;
  std::vector<std::byte> held_a(in_flight);
  std::vector<std::byte> held_b(in_flight);
  net::FaultInjector<net::Cable::End> end_a(cable.end_a(), sender_end, held_a);
  net::FaultInjector<net::Cable::End> end_b(cable.end_b(), receiver_end, held_b);
  DeviceLinkPort<net::FaultInjector<net::Cable::End>> sender_link(end_a);
  DeviceLinkPort<net::FaultInjector<net::Cable::End>> receiver_link(end_b);

  if (!pair->open(config, sender_link, receiver_link).ok()) {
    std::printf("%s result=failed notes=open failed\n", prefix);
    return 1;
  }
  const Instant end = Instant{} + std::chrono::seconds(seconds);
  run_until_done(*pair, sender_link, receiver_link, config, end, std::chrono::seconds(300));
  const FlowTotals totals = pair->totals();
  const net::FaultStats& receiver_stats = end_b.stats();
  const net::FaultStats& sender_stats = end_a.stats();
  const double goodput = static_cast<double>(totals.received) / seconds;
  const double window_limit = static_cast<double>(buffer) * flows * 1000.0 / rtt_ms;
  const double drop_rate =
      receiver_stats.arrived == 0
          ? 0.0
          : static_cast<double>(receiver_stats.queue_dropped) / receiver_stats.arrived;
  const bool ok = totals.failed == 0;
  std::printf(
      "%s goodput=%.0f window_limit=%.0f arrived=%u queue_dropped=%u drop_rate=%.4f "
      "lost=%u overflowed=%u connected=%u result=%s\n",
      prefix, goodput, window_limit, receiver_stats.arrived, receiver_stats.queue_dropped,
      drop_rate, receiver_stats.dropped, receiver_stats.overflowed + sender_stats.overflowed,
      totals.connected, ok ? "ok" : "failed");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace mote::bench::tcp

int main(int argc, char** argv) { return mote::bench::tcp::run(argc, argv); }
