// mote_tcp_netsim: the network simulator of issue 5 (after smoltcp's
// tests/netsim.rs), one cell per process: a pair of stacks joined by a Cable
// with a FaultInjector on each end, run on virtual time for a fixed span.
//
//   mote_tcp_netsim --stack lwip|mote [--loss PERCENT] [--buffer BYTES]
//                   [--rtt-ms MS] [--seconds S] [--flows N] [--seed N]
//                   [--rate BYTES_PER_S --queue BYTES] [--mss N]
//                   [--reorder PERCENT] [--duplicate PERCENT] [--corrupt PERCENT]
//
// The link and the options: tcp_netsim_cell.hpp.
//
// Prints one line: `stack=... loss=... buffer=... rtt_ms=... flows=...
// goodput=B/s window_limit=B/s arrived=... queue_dropped=... drop_rate=...
// lost=... overflowed=... connected=... result=ok|failed|pending`. Goodput
// is payload delivered to the receiving applications (checked against the
// pattern) per virtual second; window_limit is flows x buffer / RTT;
// drop_rate is tail drops over frames arriving at the bottleneck; lost is
// what the random loss took, both directions.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "tcp_netsim_cell.hpp"
#include "tcp_stack_pair.hpp"

namespace mote::bench::tcp {
namespace {

int run(int argc, char** argv) {
  std::string stack = "lwip";
  NetsimCell cell;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const auto value = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    if (flag == "--stack") {
      stack = argv[i + 1];
    } else if (flag == "--loss") {
      cell.loss = value;
    } else if (flag == "--buffer") {
      cell.buffer = value;
    } else if (flag == "--rtt-ms") {
      cell.rtt_ms = value;
    } else if (flag == "--seconds") {
      cell.seconds = value;
    } else if (flag == "--flows") {
      cell.flows = value;
    } else if (flag == "--seed") {
      cell.seed = value;
    } else if (flag == "--rate") {
      cell.rate = value;
    } else if (flag == "--queue") {
      cell.queue = value;
    } else if (flag == "--mss") {
      cell.mss = value;
    } else if (flag == "--reorder") {
      cell.reorder = value;
    } else if (flag == "--duplicate") {
      cell.duplicate = value;
    } else if (flag == "--corrupt") {
      cell.corrupt = value;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (!cell.valid()) {
    std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  std::unique_ptr<TcpStackPair> pair;
  if (stack == "lwip") {
    pair = make_lwip_pair();
  } else if (stack == "mote") {
    pair = make_mote_pair(cell.flows);
  } else {
    std::fprintf(stderr, "unknown stack %s (the kernel has no simulated link)\n", stack.c_str());
    return 2;
  }
  char prefix[256];
  std::snprintf(prefix, sizeof prefix,
                "stack=%s loss=%u buffer=%u rtt_ms=%u flows=%u rate=%u queue=%u seconds=%u "
                "reorder=%u duplicate=%u corrupt=%u",
                stack.c_str(), cell.loss, cell.buffer, cell.rtt_ms, cell.flows, cell.rate,
                cell.queue, cell.seconds, cell.reorder, cell.duplicate, cell.corrupt);
  if (!pair) {
    std::printf("%s result=pending\n", prefix);
    return 0;
  }
  const NetsimResult result = run_netsim_cell(*pair, cell, std::chrono::seconds(300));
  if (!result.opened) {
    std::printf("%s result=failed notes=open failed\n", prefix);
    return 1;
  }
  std::printf(
      "%s goodput=%.0f window_limit=%.0f arrived=%u queue_dropped=%u drop_rate=%.4f "
      "lost=%u overflowed=%u connected=%u result=%s\n",
      prefix, result.goodput, result.window_limit, result.arrived, result.queue_dropped,
      result.drop_rate, result.lost, result.overflowed, result.totals.connected,
      result.ok() ? "ok" : "failed");
  return result.ok() ? 0 : 1;
}

}  // namespace
}  // namespace mote::bench::tcp

int main(int argc, char** argv) { return mote::bench::tcp::run(argc, argv); }
