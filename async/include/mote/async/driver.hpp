#pragma once
// The platform driver: all an executor needs from a platform. Porting mote to
// a new board or OS means implementing these three functions.

#include "mote/async/time.hpp"

namespace mote::async {

class Driver {
 public:
  // The monotonic time. Must never go backwards.
  virtual Instant now() = 0;

  // Called by the executor when no task is ready. Blocks (sleeps the core,
  // waits in the kernel) until `deadline`, until notify() is called, or until
  // an event source owned by the driver (an fd, an interrupt) has woken a
  // waker, whichever is first. `deadline` is kNever when no timer is pending.
  // May return early for any reason; the executor simply asks again.
  // Returns false only when nothing at all could ever end the wait (no
  // deadline and no event source): the executor then reports a stall instead
  // of blocking forever.
  virtual bool wait_until(Instant deadline) = 0;

  // Ends a wait_until in progress or makes the next one return at once. Safe to
  // call from an interrupt handler or another thread.
  virtual void notify() = 0;

 protected:
  // Not virtual: a virtual destructor would pull operator delete into
  // firmware images, which link no allocator.
  ~Driver() = default;
};

}  // namespace mote::async
