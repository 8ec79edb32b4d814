#pragma once
// What the rows count besides time: heap allocations (operator new is
// replaced and aligned_alloc wrapped in counters.cpp). No mote or Asio
// includes, so both the mote rows and the Asio rows use it.

#include <benchmark/benchmark.h>
#include <cstddef>

namespace mote_bench {

struct AllocCount {
  std::size_t calls = 0;
  std::size_t bytes = 0;
};

// Allocations since the program started (single-threaded benchmarks only).
AllocCount alloc_count();

// Sets the counters allocs_per_op and bytes_per_op from the allocations made
// since `before`, over `ops` operations.
inline void report_allocations(benchmark::State& state, AllocCount before, double ops) {
  const AllocCount after = alloc_count();
  if (ops <= 0) return;
  state.counters["allocs_per_op"] = static_cast<double>(after.calls - before.calls) / ops;
  state.counters["bytes_per_op"] = static_cast<double>(after.bytes - before.bytes) / ops;
}

}  // namespace mote_bench
