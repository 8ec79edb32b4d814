#pragma once
// Structured concurrency inside one task.
//
//   auto [a, b] = co_await join(read_sensor(), publish(last));   // both
//   auto first  = co_await select(receive(), sleep_task(1s));   // the first
//
// join(t...) runs every Task concurrently and resumes with a std::tuple of
// their results once all have finished (void results become std::monostate).
//
// select(t...) runs them concurrently and resumes with a std::variant whose
// index() is the Task that finished first; the others are cancelled the
// moment it finishes: their frames are destroyed, so whatever they waited on
// is deregistered and nothing they had not yet received is taken.
//
// Branches start in argument order, inline, on the awaiting task; a select
// whose first branch finishes at once never starts the rest. Each branch runs
// as its own line of execution of the same task (a Runnable and a completion
// hook inside the awaiter: 28 bytes a branch on 32-bit) and takes its frames
// from the task's storage. Cancelling the
// awaiting coroutine cancels every branch.

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>
#include <variant>

#include "mote/async/executor.hpp"
#include "mote/async/task.hpp"

namespace mote::async {
namespace internal {

template <bool kSelect, typename... Ts>
class [[nodiscard]] Fork {
  static constexpr std::size_t kCount = sizeof...(Ts);
  static_assert(kCount >= 1 && kCount <= 64);
  using Indices = std::index_sequence_for<Ts...>;

 public:
  explicit Fork(Task<Ts>&&... tasks) : tasks_(std::move(tasks)...) {}
  Fork(const Fork&) = delete;
  Fork& operator=(const Fork&) = delete;
  ~Fork() {
    // Frames first: destroying one may forward a wake-up to a sibling, which
    // must then be taken off the run queue again.
    destroy_tasks(kCount, Indices{});
    for (Branch& branch : branches_) unschedule(branch);
  }

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> suspended) noexcept {
    if (any_allocation_failed(Indices{})) {
      abort_current_task_for_frame_storage();
      park(suspended);
      return true;
    }
    parent_ = park(suspended);
    starting_ = true;
    start_all(Indices{});
    internal::current_runnable = parent_;
    starting_ = false;
    return !finished();
  }

  auto await_resume() {
    if constexpr (kSelect) {
      return take_winner<0>();
    } else {
      return take_all(Indices{});
    }
  }

 private:
  struct Branch final : Runnable, CompletionHook {
    Branch() : Runnable(nullptr), CompletionHook{&Fork::on_branch_complete} {}
    using Runnable::bind;
    Fork* fork = nullptr;
    std::uint8_t index = 0;
  };

  bool finished() const { return kSelect ? winner_ >= 0 : remaining_ == 0; }

  template <std::size_t... I>
  bool any_allocation_failed(std::index_sequence<I...>) const {
    return (std::get<I>(tasks_).frame_allocation_failed() || ...);
  }

  template <std::size_t... I>
  void start_all(std::index_sequence<I...>) {
    // Stops early once a select has its winner.
    (void)((start<I>(), !(kSelect && winner_ >= 0)) && ...);
  }

  template <std::size_t I>
  void start() {
    Branch& branch = branches_[I];
    branch.bind(parent_->task());
    branch.fork = this;
    branch.index = static_cast<std::uint8_t>(I);
    auto handle = std::get<I>(tasks_).handle();
    handle.promise().set_hook(&branch);
    internal::current_runnable = &branch;
    handle.resume();
  }

  static std::coroutine_handle<> on_branch_complete(CompletionHook* hook, std::coroutine_handle<>) {
    auto* branch = static_cast<Branch*>(hook);
    Fork& fork = *branch->fork;
    if constexpr (kSelect) {
      if (fork.winner_ < 0) {
        fork.winner_ = static_cast<std::int8_t>(branch->index);
        // The losers' frames are freed from the winner's line of execution,
        // which belongs to the same task.
        fork.destroy_tasks(branch->index, Indices{});
        for (Branch& other : fork.branches_) {
          if (&other != branch) unschedule(other);
        }
        if (!fork.starting_) Waker(fork.parent_).wake();
      }
    } else {
      if (--fork.remaining_ == 0 && !fork.starting_) Waker(fork.parent_).wake();
    }
    return std::noop_coroutine();
  }

  static void unschedule(Branch& branch) {
    if (branch.queued()) branch.task()->executor()->unschedule(branch);
  }

  // Destroys every task's frame except the one at `keep`.
  template <std::size_t... I>
  void destroy_tasks(std::size_t keep, std::index_sequence<I...>) {
    ((I != keep ? (void)(std::get<I>(tasks_) = {}) : (void)0), ...);
  }

  template <std::size_t I>
  auto take() {
    return std::get<I>(tasks_).handle().promise().take_result();
  }

  template <std::size_t... I>
  std::tuple<ResultOf<Ts>...> take_all(std::index_sequence<I...>) {
    return std::tuple<ResultOf<Ts>...>(take<I>()...);
  }

  template <std::size_t I>
  std::variant<ResultOf<Ts>...> take_winner() {
    if constexpr (I + 1 < kCount) {
      if (static_cast<std::size_t>(winner_) != I) return take_winner<I + 1>();
    }
    return std::variant<ResultOf<Ts>...>(std::in_place_index<I>, take<I>());
  }

  std::tuple<Task<Ts>...> tasks_;
  Branch branches_[kCount];
  Runnable* parent_ = nullptr;
  std::uint8_t remaining_ = kCount;
  std::int8_t winner_ = -1;
  bool starting_ = false;
};

}  // namespace internal

template <typename... Ts>
internal::Fork<false, Ts...> join(Task<Ts>... tasks) {
  return internal::Fork<false, Ts...>(std::move(tasks)...);
}

template <typename... Ts>
internal::Fork<true, Ts...> select(Task<Ts>... tasks) {
  return internal::Fork<true, Ts...>(std::move(tasks)...);
}

}  // namespace mote::async
