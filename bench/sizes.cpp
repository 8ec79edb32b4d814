// Per-task memory of mote's executor, as compile-time constants. Not part of
// the benchmark binary: scripts/bench (bench/report.py) compiles this file to
// assembly for the host and for a Cortex-M0 (arm-none-eabi-g++ -mcpu=cortex-m0
// -mthumb) and reads the `.word` / `.long` values, so the 32-bit numbers come
// from the real 32-bit ABI rather than from arithmetic. The member-by-member
// breakdown of TaskStorageBase comes from the same file compiled with -g
// (gdb's ptype /o), so it follows the class as it changes.

#include "mote/async/executor.hpp"
#include "mote/async/join.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/timer_queue.hpp"

namespace a = mote::async;

// The control block: everything a task needs beyond its frame bytes.
extern const unsigned kTaskStorageBase = sizeof(a::TaskStorageBase);
// A TaskStorage<N> is the control block, padding up to the frame alignment,
// and N frame bytes; kTaskStorage64 - 64 is the whole per-task overhead.
extern const unsigned kTaskStorage64 = sizeof(a::TaskStorage<64>);
extern const unsigned kFrameAlignment = a::FrameArena::kAlignment;

// The run-queue node: one per task, and one per join/select branch.
extern const unsigned kRunnable = sizeof(a::Runnable);
// What one more branch adds to a join awaiter (its Branch and its Task).
extern const unsigned kForkOneBranch = sizeof(a::internal::Fork<false, void>);
extern const unsigned kForkTwoBranches = sizeof(a::internal::Fork<false, void, void>);

// Per timer: the heap node, and the whole sleep_for awaiter that holds it.
extern const unsigned kTimerNode = sizeof(a::TimerNode);
extern const unsigned kSleepAwaiter = sizeof(a::SleepAwaiter);
