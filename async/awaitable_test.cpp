#include "mote/async/awaitable.hpp"

#include <gtest/gtest.h>
#include <optional>

#include "mote/async/channel.hpp"
#include "mote/async/mutex.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/task.hpp"
#include "mote/async/timeout.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async {
namespace {

// Compile-time checks: the concepts recognise what mote's own operations
// return, and reject what is not awaitable.
static_assert(AwaitableOf<Task<int>, int>);
static_assert(AwaitableOf<Task<void>, void>);
static_assert(!AwaitableOf<Task<int>, long>);
static_assert(AwaitableOf<SleepAwaiter, void>);
static_assert(AwaitableOf<Channel<int, 2>::ReceiveAwaiter, std::optional<int>>);
static_assert(AwaitableOf<Channel<int, 2>::SendAwaiter, Status>);
static_assert(AwaitableOf<Mutex::LockAwaiter, Mutex::Guard>);
static_assert(AwaitableOf<internal::TimeoutAwaiter<int>, Result<int>>);
static_assert(AwaitableOf<std::suspend_always, void>);
static_assert(!Awaitable<int>);
static_assert(!Awaitable<Status>);

struct WithMemberCoAwait {
  std::suspend_never operator co_await() && { return {}; }
};
static_assert(AwaitableOf<WithMemberCoAwait, void>);

// Interfaces are written the way the HAL and io concepts are: an operation
// whose result is awaitable. (Awaiters are immovable; they are created where
// they are awaited.)
template <typename T>
concept IntSource = requires(T& source) {
  { source.receive() } -> AwaitableOf<std::optional<int>>;
};
static_assert(IntSource<Channel<int, 2>>);
static_assert(!IntSource<Channel<long, 2>>);

template <IntSource Source>
Task<int> doubled(Source& source) {
  std::optional<int> value = co_await source.receive();
  co_return value ? 2 * *value : -1;
}

TEST(AwaitableTest, GenericCodeAwaitsWhatTheConceptAccepts) {
  platform::SimDriver driver;
  Executor executor(driver);
  Channel<int, 2> channel;
  ASSERT_TRUE(channel.try_send(21).ok());
  int result = 0;
  TaskStorage<512> storage;
  auto main = [](Channel<int, 2>& channel, int& result) -> Task<void> {
    result = co_await doubled(channel);
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(channel), std::ref(result)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(result, 42);
}

}  // namespace
}  // namespace mote::async
