// Issue 5's network-simulator targets for mote's TCP, in CI: a reduced grid
// of mote_tcp_netsim's cells (tcp_netsim_cell.hpp) run on mote's pair
// (mote_pair.cpp). Time is virtual and the loss seeded, so every figure is
// the same on every run and machine; the assertions are on simulated
// throughput, never on wall-clock time (the limit passed is a hang guard).
//
// The targets (issue 5): at 100 ms RTT with 32 KiB buffers, at least
// smoltcp's published goodput (322,945 B/s at 0% loss, 76,626 at 5%, 37,775
// at 10%); at 0% loss, within 5% of the window limit (buffer / RTT); with 64
// flows through a 10 Mbit/s bottleneck, a drop rate under 5%. The ones
// mote does not meet yet are DISABLED_ tests with the figure it reaches.
#include <gtest/gtest.h>

#include "tcp_netsim_cell.hpp"

namespace mote::bench::tcp {
namespace {

constexpr std::chrono::seconds kHangGuard(120);

NetsimResult run(const NetsimCell& cell) {
  std::unique_ptr<TcpStackPair> pair = make_mote_pair(cell.flows);
  EXPECT_TRUE(pair != nullptr);
  if (pair == nullptr) return {};
  const NetsimResult result = run_netsim_cell(*pair, cell, kHangGuard);
  EXPECT_TRUE(result.ok()) << "failed flows: " << result.totals.failed;
  EXPECT_EQ(result.totals.connected, 2 * cell.flows);
  return result;
}

NetsimCell lossy(unsigned loss) {
  NetsimCell cell;
  cell.loss = loss;
  cell.buffer = 32 * 1024;
  cell.rtt_ms = 100;
  cell.seconds = 60;
  return cell;
}

TEST(TcpNetsimTest, NoLossAtLeastSmoltcpAndTheWindowLimit) {
  const NetsimResult result = run(lossy(0));
  EXPECT_GE(result.goodput, 322945);
  EXPECT_GE(result.goodput, 0.95 * result.window_limit);
  EXPECT_EQ(result.lost, 0u);
}

TEST(TcpNetsimTest, TenPercentLossAtLeastSmoltcp) {
  const NetsimResult result = run(lossy(10));
  EXPECT_GT(result.lost, 0u);
  EXPECT_GE(result.goodput, 37775);
}

// 92,359 B/s with timestamps on (93,556 without; smoltcp, without
// congestion control: 76,626). What it took:
// RACK (RFC 8985: lost retransmissions and small windows recovered without
// the timer; timeouts 56 -> 2 in the 60 s) and CUBIC (RFC 9438: cut to 0.7
// rather than half on each of the 110 or so loss events). NewReno with
// RACK: 74,641.
TEST(TcpNetsimTest, FivePercentLossAtLeastSmoltcp) {
  const NetsimResult result = run(lossy(5));
  EXPECT_GT(result.lost, 0u);
  EXPECT_GE(result.goodput, 76626);
}

// At 0% loss the window is the only limit: within 5% of buffer / RTT for
// windows of under one segment (128 B), a few segments (1 KiB) and many
// (32 KiB), at both RTTs of the grid.
TEST(TcpNetsimTest, NoLossWithinFivePercentOfTheWindowLimit) {
  for (const unsigned rtt_ms : {10u, 100u}) {
    for (const std::uint32_t buffer : {128u, 1024u, 32768u}) {
      NetsimCell cell;
      cell.buffer = buffer;
      cell.rtt_ms = rtt_ms;
      cell.seconds = 20;
      const NetsimResult result = run(cell);
      EXPECT_GE(result.goodput, 0.95 * result.window_limit) << rtt_ms << " ms, " << buffer << " B";
      EXPECT_LE(result.goodput, result.window_limit) << rtt_ms << " ms, " << buffer << " B";
    }
  }
}

// A 4 KiB window is 2.8 segments of 1,460 bytes: the third, short one goes
// while the two full ones are in flight (Nagle in Minshall's form; plain
// Nagle held it and reached 85% of the limit).
TEST(TcpNetsimTest, NoLossWithinFivePercentOfTheWindowLimitAt4KiB) {
  for (const unsigned rtt_ms : {10u, 100u}) {
    NetsimCell cell;
    cell.buffer = 4096;
    cell.rtt_ms = rtt_ms;
    cell.seconds = 20;
    const NetsimResult result = run(cell);
    EXPECT_GE(result.goodput, 0.95 * result.window_limit) << rtt_ms << " ms";
    EXPECT_LE(result.goodput, result.window_limit) << rtt_ms << " ms";
  }
}

NetsimCell sixty_four_flows() {
  NetsimCell cell;
  cell.flows = 64;
  cell.buffer = 32 * 1024;
  cell.rtt_ms = 100;
  cell.rate = 1'250'000;  // 10 Mbit/s
  cell.queue = 64 * 1500;
  // 10 s rather than the benchmark's 60: the same figures within a
  // percent, and a sixth of the time under the sanitizers.
  cell.seconds = 10;
  return cell;
}

// 64 flows share the bottleneck: every flow connects and moves checked
// data, and the link stays busy.
TEST(TcpNetsimTest, SixtyFourFlowsKeepTheBottleneckBusy) {
  const NetsimCell cell = sixty_four_flows();
  const NetsimResult result = run(cell);
  EXPECT_GE(result.goodput, 0.85 * cell.rate);
  EXPECT_GT(result.queue_dropped, 0u);  // the queue really was the limit
}

// Not met yet: 0.152 (0.114 over the benchmark's 60 s; 0.189 before RACK,
// CUBIC, Minshall's Nagle and timestamps). Loss-based congestion control with a fair
// share of 2.4 segments per flow (BDP + queue over 64 flows) overflows the
// queue every few round trips: no flow's window goes below 2 segments, and
// 64 x 2 is most of what the path and queue hold. smoltcp drops 45%, lwIP
// 5.5% (its coarse timers keep flows idle after a timeout).
TEST(TcpNetsimTest, DISABLED_SixtyFourFlowsDropUnderFivePercent) {
  const NetsimResult result = run(sixty_four_flows());
  EXPECT_LT(result.drop_rate, 0.05);
}

}  // namespace
}  // namespace mote::bench::tcp
