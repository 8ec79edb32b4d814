#pragma once
// SimPin: a simulated GPIO line, both a DigitalInput and a DigitalOutput.
//
// The code under test reads it, waits for its edges and drives it through
// set()/toggle(); the test plays the outside world with drive(level) (a
// button, another chip's interrupt line) and checks what the code wrote with
// history(). A level change from either side is an edge: it wakes the
// waiters it satisfies, in the order they started waiting.
//
//   SimPin button;
//   spawn(storage, wait_for_press, std::ref(button));
//   button.drive(true);                 // rising edge
//   executor.run_until_stalled();       // the waiter has run
//
// drive() and fail() are for the executor's thread (the test body, or a
// task); an interrupt handler would raise an async::InterruptEvent instead.

#include <cstddef>
#include <span>

#include "mote/async/executor.hpp"
#include "mote/base/inline_vector.hpp"
#include "mote/base/intrusive_list.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/hal/gpio.hpp"

namespace mote::hal::sim {

class SimPin {
 public:
  static constexpr std::size_t kHistoryCapacity = 64;

  explicit SimPin(bool level = false) : level_(level) {}
  SimPin(const SimPin&) = delete;
  SimPin& operator=(const SimPin&) = delete;

  // --- DigitalOutput -----------------------------------------------------
  Status set(bool high);
  Status toggle();

  // --- DigitalInput --------------------------------------------------------
  Result<bool> read() const;

  // The awaiter of wait_for_edge / wait_for_level. Its node sits on the pin's
  // wait list while it waits; destroying it (cancellation) takes it off.
  class [[nodiscard]] WaitAwaiter : private IntrusiveListNode {
   public:
    WaitAwaiter(SimPin& pin, Edge edge, bool complete_if_at_level)
        : pin_(pin), edge_(edge), complete_if_at_level_(complete_if_at_level) {}
    WaitAwaiter(const WaitAwaiter&) = delete;
    WaitAwaiter& operator=(const WaitAwaiter&) = delete;
    ~WaitAwaiter() = default;  // IntrusiveListNode unlinks itself

    bool await_ready();
    void await_suspend(std::coroutine_handle<> suspended);
    Status await_resume() const { return status_; }

   private:
    friend class SimPin;
    friend class IntrusiveList<WaitAwaiter>;
    [[nodiscard]] bool wants(bool new_level) const;

    SimPin& pin_;
    Edge edge_;
    bool complete_if_at_level_;
    Status status_;
    async::Waker waker_;
  };

  // Completes on the first such edge after the call.
  WaitAwaiter wait_for_edge(Edge edge) { return WaitAwaiter(*this, edge, false); }
  // Completes at once if the pin is at `high`, else on the edge to it.
  WaitAwaiter wait_for_level(bool high) {
    return WaitAwaiter(*this, high ? Edge::rising : Edge::falling, true);
  }

  // --- The test's side ---------------------------------------------------
  // An external signal drives the line; a change is an edge.
  void drive(bool high) { change_level(high); }
  // The line is lost (a GPIO chip unplugged): every waiter, pending and
  // future, completes with `status`, and read/set fail with it, until restore().
  void fail(Status status);
  void restore() { failure_ = Status(); }
  // Without edge detection waits fail with failed_precondition (default: on).
  void set_edge_detection(bool enabled) { edge_detection_ = enabled; }

  [[nodiscard]] bool level() const { return level_; }
  // True while some task waits for an edge (the backend is "watching").
  [[nodiscard]] bool watching() const { return !waiters_.empty(); }
  [[nodiscard]] std::size_t waiter_count() const { return waiters_.size(); }
  // Levels written through set()/toggle(), oldest first; the first
  // kHistoryCapacity writes are kept, write_count() counts all of them.
  [[nodiscard]] std::span<const bool> history() const { return {history_.data(), history_.size()}; }
  [[nodiscard]] std::size_t write_count() const { return write_count_; }
  [[nodiscard]] std::size_t edge_count() const { return edge_count_; }

 private:
  void change_level(bool high);
  void record(bool high);

  IntrusiveList<WaitAwaiter> waiters_;
  InlineVector<bool, kHistoryCapacity> history_;
  std::size_t write_count_ = 0;
  std::size_t edge_count_ = 0;
  Status failure_;
  bool level_;
  bool edge_detection_ = true;
};

static_assert(DigitalInput<SimPin>);
static_assert(DigitalOutput<SimPin>);

}  // namespace mote::hal::sim
