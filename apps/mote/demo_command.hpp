#pragma once
// `mote demo`: the whole system (demo_system.hpp); `mote demo --async-core`:
// a small system of tasks that shows the executor at work (simulated
// sensors -> channel -> aggregator, watchdogs, clean stop on Ctrl-C).

#include <chrono>
#include <cstdint>
#include <memory>

#include "command.hpp"
#include "mote/async/time.hpp"

namespace mote::cli {

struct DemoConfig {
  // How long to run; zero: until SIGINT/SIGTERM (real clock only).
  async::Duration duration = std::chrono::seconds(5);
  // Virtual time (SimDriver): finishes at once, same output on every run.
  bool simulated = false;
  // Only the final summary on stdout.
  bool quiet = false;
  // Seeds the sensors' pseudo-random walks.
  std::uint32_t seed = 1;
};

// Runs the async core's tour; returns an exit code (kExitOk, kExitFailure).
int run_demo(const DemoConfig& config);

std::unique_ptr<Command> make_demo_command();

}  // namespace mote::cli
