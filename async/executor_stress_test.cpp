// Runs the fuzzer's scripted workloads from seeded random bytes, so every
// test run (and the sanitizer preset) exercises thousands of interleavings of
// spawning, waking, selecting, timing out and cancelling.

#include <cstdio>
#include <gtest/gtest.h>
#include <random>
#include <vector>

#include "fuzz/executor_script.hpp"

namespace mote::async {
namespace {

TEST(ExecutorStressTest, ScriptedWorkloadsKeepTheInvariants) {
  std::mt19937 random(20261121);
  script::Stats total;
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::uint8_t> bytes(64 + random() % 512);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(random());
    // Aborts with the broken invariant on failure.
    const script::Stats stats = script::run(bytes);
    total.spawned += stats.spawned;
    total.cancelled_while_running += stats.cancelled_while_running;
    total.sent += stats.sent;
    total.received += stats.received;
    total.timed_out += stats.timed_out;
  }
  // The scripts really did exercise the paths the invariants are about.
  EXPECT_GT(total.spawned, 12000);
  EXPECT_GT(total.cancelled_while_running, 6000);
  EXPECT_GT(total.sent, 18000);
  EXPECT_GT(total.received, 17000);
  EXPECT_GT(total.timed_out, 700);
  std::printf("spawned %ld, cancelled while running %ld, sent %ld, received %ld, timed out %ld\n",
              total.spawned, total.cancelled_while_running, total.sent, total.received,
              total.timed_out);
}

}  // namespace
}  // namespace mote::async
