// Fuzzes the executor's scheduling and cancellation paths with scripted
// workloads (see executor_script.hpp for the invariants).

#include <cstdint>
#include <span>

#include "executor_script.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mote::async::script::run(std::span<const std::uint8_t>(data, size));
  return 0;
}
