#pragma once
// Concepts for "something a coroutine can co_await", so interfaces (the HAL,
// the io layer) can say what an operation yields without naming the awaiter:
//
//   template <typename T>
//   concept Uart = requires(T& uart, ByteSpan buffer) {
//     { uart.read(buffer) } -> async::AwaitableOf<Result<std::size_t>>;
//   };
//
// A Task<R>, a primitive's awaiter and a HAL backend's own awaiter all qualify.

#include <concepts>
#include <coroutine>
#include <type_traits>
#include <utility>

namespace mote::async {
namespace internal {

template <typename A>
concept HasMemberCoAwait = requires(A&& a) {
  std::forward<A>(a).operator co_await();
};

template <typename A>
concept HasFreeCoAwait = requires(A&& a) {
  operator co_await(std::forward<A>(a));
};

template <typename A>
concept IsAwaiter = requires(A& a, std::coroutine_handle<> h) {
  { a.await_ready() } -> std::convertible_to<bool>;
  a.await_suspend(h);
  a.await_resume();
};

template <typename A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (HasMemberCoAwait<A>) {
    return std::forward<A>(a).operator co_await();
  } else if constexpr (HasFreeCoAwait<A>) {
    return operator co_await(std::forward<A>(a));
  } else {
    return std::forward<A>(a);
  }
}

}  // namespace internal

// What `co_await std::declval<A>()` yields (for a prvalue of A, the usual
// case: operations return their awaiter or Task by value).
template <typename A>
using AwaitResult =
    decltype(std::declval<
                 std::remove_reference_t<decltype(internal::get_awaiter(std::declval<A>()))>&>()
                 .await_resume());

template <typename A>
concept Awaitable = requires {
  typename AwaitResult<A>;
}
&&internal::IsAwaiter<std::remove_reference_t<decltype(internal::get_awaiter(std::declval<A>()))>>;

// An awaitable whose co_await yields exactly R.
template <typename A, typename R>
concept AwaitableOf = Awaitable<A> && std::same_as<AwaitResult<A>, R>;

}  // namespace mote::async
