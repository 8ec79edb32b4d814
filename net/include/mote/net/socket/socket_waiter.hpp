#pragma once
// SocketWaiter: parks the calling coroutine on one of a socket's wakers
// until the interface (or close) wakes it. Destroying it while parked
// (cancellation) clears the waker. One waiter per waker at a time.

#include <coroutine>

#include "mote/async/executor.hpp"
#include "mote/base/assert.hpp"

namespace mote::net::internal {

class SocketWaiter {
 public:
  explicit SocketWaiter(async::Waker& slot) : slot_(slot) {}
  SocketWaiter(const SocketWaiter&) = delete;
  SocketWaiter& operator=(const SocketWaiter&) = delete;
  ~SocketWaiter() {
    if (parked_) slot_ = async::Waker();
  }
  static bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<> suspended) {
    MOTE_ASSERT(!slot_ && "one waiter per direction");
    slot_ = async::Waker(async::park(suspended));
    parked_ = true;
  }
  void await_resume() {
    slot_ = async::Waker();
    parked_ = false;
  }

 private:
  async::Waker& slot_;
  bool parked_ = false;
};

}  // namespace mote::net::internal
