// Counts heap allocations so the benchmarks can report them per operation:
// the global operator new is replaced, and aligned_alloc (which Asio's
// recycling allocator calls directly for coroutine frames and handlers) is
// wrapped at link time with -Wl,--wrap=aligned_alloc. Compiled with
// exceptions (operator new must throw std::bad_alloc like the one it replaces).

#include "counters.hpp"

#include <cstdlib>
#include <new>

namespace {
// The benchmarks run on one thread; plain counters keep the cost to two adds.
std::size_t g_calls = 0;
std::size_t g_bytes = 0;
}  // namespace

extern "C" void* __real_aligned_alloc(std::size_t alignment, std::size_t size);
extern "C" void* __wrap_aligned_alloc(std::size_t alignment, std::size_t size) {
  ++g_calls;
  g_bytes += size;
  return __real_aligned_alloc(alignment, size);
}

namespace mote_bench {
AllocCount alloc_count() { return AllocCount{g_calls, g_bytes}; }
}  // namespace mote_bench

void* operator new(std::size_t size) {
  ++g_calls;
  g_bytes += size;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

// Counted by __wrap_aligned_alloc.
void* operator new(std::size_t size, std::align_val_t align) {
  const std::size_t alignment = static_cast<std::size_t>(align);
  const std::size_t rounded = (size + alignment - 1) / alignment * alignment;
  if (void* p = std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded)) return p;
  throw std::bad_alloc();
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
