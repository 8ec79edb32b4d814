#pragma once
// Stack: the task that runs an Interface over an async link. It feeds the
// interface the link's frames and the executor's time, and sleeps until the
// first of: a frame on the link, the interface's poll_at deadline, the
// link's own poll_at (a delayed frame coming due), or a socket or address
// change asking for a poll (Interface::request_poll).
//
//   StaticLoopback<8192> link;
//   StaticInterface<> iface(link.capabilities(), {});
//   Stack stack(iface, link);
//   executor.spawn(stack_storage, [](Stack<Loopback>& s) { return s.run(); }, std::ref(stack));
//
// run() never returns on its own; cancel its task to stop the stack. The
// wait costs no extra frame: the link's awaiter, a timer and the
// interface's waker all park the same coroutine (see AsyncDevice).

#include <algorithm>
#include <coroutine>

#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/task.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/phy/device.hpp"

namespace mote::net {

template <AsyncDevice Link>
class Stack {
 public:
  Stack(Interface& iface, Link& link) : iface_(iface), link_(link) {}
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  [[nodiscard]] Interface& interface() { return iface_; }
  [[nodiscard]] Link& link() { return link_; }

  async::Task<void> run() {
    for (;;) {
      const Instant now = async::now();
      iface_.poll(now, link_);
      Instant at = iface_.poll_at(async::now());
      if constexpr (TimedDevice<Link>) at = std::min(at, link_.poll_at());
      if (at <= async::now()) {
        co_await async::yield_now();  // more to do: let the sockets' tasks run first
        continue;
      }
      co_await Wait(*this, at);
    }
  }

 private:
  using LinkAwaiter = decltype(std::declval<Link&>().wait_receive());

  class [[nodiscard]] Wait {
   public:
    Wait(Stack& stack, Instant deadline)
        : stack_(stack),
          link_(stack.link_.wait_receive()),
          timer_(deadline, false),
          timed_(deadline != async::kNever) {}
    Wait(const Wait&) = delete;
    Wait& operator=(const Wait&) = delete;
    ~Wait() { stack_.iface_.set_egress_waker(async::Waker()); }

    bool await_ready() { return link_.await_ready(); }
    void await_suspend(std::coroutine_handle<> suspended) {
      link_.await_suspend(suspended);
      if (timed_) timer_.await_suspend(suspended);
      stack_.iface_.set_egress_waker(async::Waker(async::park(suspended)));
    }
    void await_resume() { stack_.iface_.set_egress_waker(async::Waker()); }

   private:
    Stack& stack_;
    LinkAwaiter link_;
    async::SleepAwaiter timer_;
    bool timed_;
  };

  Interface& iface_;
  Link& link_;
};

}  // namespace mote::net
