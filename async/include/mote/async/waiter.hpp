#pragma once
// Waiter: the node a suspended coroutine leaves in a sync primitive's wait
// queue. It lives in the awaiter, inside the waiting coroutine's frame, so
// waiting never allocates, and destroying the frame (cancellation) unlinks it.

#include <coroutine>

#include "mote/async/executor.hpp"
#include "mote/base/intrusive_list.hpp"

namespace mote::async::internal {

class Waiter : public IntrusiveListNode {
 public:
  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  void park_on(IntrusiveList<Waiter>& queue, std::coroutine_handle<> suspended) {
    waker_ = Waker(park(suspended));
    queue.push_back(*this);
  }
  // Takes this waiter off its queue and wakes it.
  void notify() {
    unlink();
    waker_.wake();
  }

 private:
  Waker waker_;
};

using WaitQueue = IntrusiveList<Waiter>;

}  // namespace mote::async::internal
