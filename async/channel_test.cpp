#include "mote/async/channel.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <ostream>
#include <utility>
#include <variant>
#include <vector>

#include "mote/async/join.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/timeout.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async {
namespace {

using namespace std::chrono_literals;

class ChannelTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  Executor executor{driver};
};

// One received value (or nullopt) and who received it.
struct Received {
  int who;
  std::optional<int> value;
  friend bool operator==(const Received&, const Received&) = default;
  friend void PrintTo(const Received& r, std::ostream* os) {
    *os << "{who " << r.who << ", ";
    if (r.value) {
      *os << *r.value;
    } else {
      *os << "nullopt";
    }
    *os << "}";
  }
};

// A completed send and its status.
struct Sent {
  int who;
  int value;
  Status status;
  friend bool operator==(const Sent&, const Sent&) = default;
  friend void PrintTo(const Sent& sent, std::ostream* os) {
    *os << "{who " << sent.who << ", value " << sent.value << ", " << sent.status.str() << "}";
  }
};

template <typename C>
Task<void> receive_n(C& channel, std::vector<Received>& log, int who, int count) {
  for (int i = 0; i < count; ++i) {
    std::optional<int> value = co_await channel.receive();
    log.push_back({who, value});
  }
}

template <typename C>
Task<void> receive_all(C& channel, std::vector<int>& out, bool& saw_end) {
  while (std::optional<int> value = co_await channel.receive()) out.push_back(*value);
  saw_end = true;
}

template <typename C>
Task<void> send_values(C& channel, std::vector<Sent>& log, int who, std::vector<int> values) {
  for (int value : values) {
    Status status = co_await channel.send(value);
    log.push_back({who, value, status});
  }
}

template <typename C>
Task<void> send_range_then_close(C& channel, int count, int& failures) {
  for (int i = 0; i < count; ++i) {
    Status status = co_await channel.send(i);
    if (!status.ok()) ++failures;
  }
  channel.close();
}

// As Tasks for select() and with_timeout().
template <typename C>
Task<std::optional<int>> recv(C& channel) {
  co_return co_await channel.receive();
}
template <typename C>
Task<Status> send_task(C& channel, int value) {
  co_return co_await channel.send(value);
}

// --- Without waiting -----------------------------------------------------------

TEST_F(ChannelTest, TrySendAndTryReceiveAreFifoAndBounded) {
  Channel<int, 3> channel;
  EXPECT_EQ(channel.capacity(), 3u);
  EXPECT_TRUE(channel.empty());
  EXPECT_EQ(channel.try_receive(), std::nullopt);
  EXPECT_EQ(channel.try_send(1), ok_status());
  EXPECT_EQ(channel.try_send(2), ok_status());
  EXPECT_EQ(channel.try_send(3), ok_status());
  EXPECT_EQ(channel.try_send(4), Status::resource_exhausted());
  EXPECT_EQ(channel.size(), 3u);
  EXPECT_EQ(channel.try_receive(), 1);
  EXPECT_EQ(channel.try_send(5), ok_status());
  EXPECT_EQ(channel.try_receive(), 2);
  EXPECT_EQ(channel.try_receive(), 3);
  EXPECT_EQ(channel.try_receive(), 5);
  EXPECT_EQ(channel.try_receive(), std::nullopt);
  EXPECT_TRUE(channel.empty());
  // Many laps around the ring keep the order.
  std::vector<int> out;
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(channel.try_send(2 * i), ok_status());
    ASSERT_EQ(channel.try_send(2 * i + 1), ok_status());
    out.push_back(*channel.try_receive());
    out.push_back(*channel.try_receive());
  }
  std::vector<int> expected;
  for (int i = 0; i < 100; ++i) expected.push_back(i);
  EXPECT_EQ(out, expected);
}

TEST_F(ChannelTest, TrySendOfAMoveOnlyValueIsNotConsumedWhenRefused) {
  Channel<std::unique_ptr<int>, 1> channel;
  EXPECT_EQ(channel.try_send(std::make_unique<int>(1)), ok_status());
  auto second = std::make_unique<int>(2);
  EXPECT_EQ(channel.try_send(std::move(second)), Status::resource_exhausted());
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(*second, 2);
  std::optional<std::unique_ptr<int>> first = channel.try_receive();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(**first, 1);
  channel.close();
  EXPECT_EQ(channel.try_send(std::move(second)), Status::failed_precondition());
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(*second, 2);
  EXPECT_EQ(channel.try_receive(), std::nullopt);
}

// --- Waiting ---------------------------------------------------------------------

TEST_F(ChannelTest, ValuesPassBetweenTasksInFifoOrder) {
  Channel<int, 4> channel;
  std::vector<int> out;
  bool saw_end = false;
  int failures = 0;
  TaskStorage<1024> producer, consumer;
  ASSERT_TRUE(executor
                  .spawn(consumer, receive_all<Channel<int, 4>>, std::ref(channel), std::ref(out),
                         std::ref(saw_end))
                  .ok());
  ASSERT_TRUE(executor
                  .spawn(producer, send_range_then_close<Channel<int, 4>>, std::ref(channel), 100,
                         std::ref(failures))
                  .ok());
  EXPECT_TRUE(executor.run().ok());
  std::vector<int> expected;
  for (int i = 0; i < 100; ++i) expected.push_back(i);
  EXPECT_EQ(out, expected);
  EXPECT_TRUE(saw_end);
  EXPECT_EQ(failures, 0);
  EXPECT_TRUE(channel.closed());
  EXPECT_TRUE(channel.empty());
}

TEST_F(ChannelTest, SendWaitsWhileFullAndResumesWhenAReceiverTakesOne) {
  using C = Channel<int, 2>;
  C channel;
  std::vector<Sent> sent;
  TaskStorage<1024> sender;
  ASSERT_TRUE(executor
                  .spawn(sender, send_values<C>, std::ref(channel), std::ref(sent), 1,
                         std::vector<int>{10, 20, 30})
                  .ok());
  executor.run_until_stalled();
  EXPECT_EQ(sent, (std::vector<Sent>{{1, 10, ok_status()}, {1, 20, ok_status()}}));
  EXPECT_EQ(sender.state(), TaskState::running);
  EXPECT_EQ(channel.size(), 2u);

  EXPECT_EQ(channel.try_receive(), 10);
  // The freed slot is promised to the waiting sender: nobody else gets it.
  EXPECT_EQ(channel.try_send(99), Status::resource_exhausted());
  EXPECT_EQ(sent.size(), 2u);
  executor.run_until_stalled();
  EXPECT_EQ(sent,
            (std::vector<Sent>{{1, 10, ok_status()}, {1, 20, ok_status()}, {1, 30, ok_status()}}));
  EXPECT_EQ(sender.state(), TaskState::finished);
  EXPECT_EQ(channel.try_receive(), 20);
  EXPECT_EQ(channel.try_receive(), 30);
  EXPECT_EQ(channel.try_receive(), std::nullopt);
}

TEST_F(ChannelTest, ReceiveWaitsWhileEmpty) {
  using C = Channel<int, 2>;
  C channel;
  std::vector<Received> log;
  TaskStorage<1024> receiver;
  ASSERT_TRUE(executor.spawn(receiver, receive_n<C>, std::ref(channel), std::ref(log), 1, 2).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  driver.advance(1s);
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(channel.try_send(7), ok_status());
  // Promised to the waiting receiver, not yet taken.
  EXPECT_EQ(channel.size(), 1u);
  EXPECT_TRUE(log.empty());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Received>{{1, 7}}));
  EXPECT_TRUE(channel.empty());
  EXPECT_EQ(receiver.state(), TaskState::running);
  EXPECT_EQ(channel.try_send(8), ok_status());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<Received>{{1, 7}, {1, 8}}));
}

TEST_F(ChannelTest, ReceiveOfABufferedValueDoesNotWait) {
  using C = Channel<int, 2>;
  C channel;
  ASSERT_EQ(channel.try_send(3), ok_status());
  ASSERT_EQ(channel.try_send(4), ok_status());
  std::vector<Received> log;
  TaskStorage<1024> receiver;
  ASSERT_TRUE(executor.spawn(receiver, receive_n<C>, std::ref(channel), std::ref(log), 1, 2).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Received>{{1, 3}, {1, 4}}));
  EXPECT_EQ(receiver.state(), TaskState::finished);
}

Task<void> send_unique(Channel<std::unique_ptr<int>, 1>& channel, int count) {
  for (int i = 0; i < count; ++i) {
    Status status = co_await channel.send(std::make_unique<int>(i * i));
    if (!status.ok()) co_return;
  }
  channel.close();
}

Task<void> receive_unique(Channel<std::unique_ptr<int>, 1>& channel, std::vector<int>& out) {
  while (std::optional<std::unique_ptr<int>> value = co_await channel.receive()) {
    out.push_back(*value != nullptr ? **value : -1);
  }
}

TEST_F(ChannelTest, MoveOnlyValuesPassBetweenTasks) {
  Channel<std::unique_ptr<int>, 1> channel;
  std::vector<int> out;
  TaskStorage<1024> producer, consumer;
  ASSERT_TRUE(executor.spawn(producer, send_unique, std::ref(channel), 6).ok());
  ASSERT_TRUE(executor.spawn(consumer, receive_unique, std::ref(channel), std::ref(out)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(out, (std::vector<int>{0, 1, 4, 9, 16, 25}));
}

// --- Close -----------------------------------------------------------------------

TEST_F(ChannelTest, CloseLetsReceiversDrainThenGivesNullopt) {
  using C = Channel<int, 3>;
  C channel;
  ASSERT_EQ(channel.try_send(1), ok_status());
  ASSERT_EQ(channel.try_send(2), ok_status());
  channel.close();
  EXPECT_TRUE(channel.closed());
  EXPECT_EQ(channel.try_send(3), Status::failed_precondition());
  EXPECT_EQ(channel.size(), 2u);
  std::vector<Received> log;
  TaskStorage<1024> receiver;
  ASSERT_TRUE(executor.spawn(receiver, receive_n<C>, std::ref(channel), std::ref(log), 1, 4).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Received>{{1, 1}, {1, 2}, {1, std::nullopt}, {1, std::nullopt}}));
  EXPECT_EQ(receiver.state(), TaskState::finished);
}

TEST_F(ChannelTest, CloseWakesEveryWaitingReceiverWithNullopt) {
  using C = Channel<int, 2>;
  C channel;
  std::vector<Received> log;
  TaskStorage<1024> r1, r2, r3;
  ASSERT_TRUE(executor.spawn(r1, receive_n<C>, std::ref(channel), std::ref(log), 1, 1).ok());
  ASSERT_TRUE(executor.spawn(r2, receive_n<C>, std::ref(channel), std::ref(log), 2, 1).ok());
  ASSERT_TRUE(executor.spawn(r3, receive_n<C>, std::ref(channel), std::ref(log), 3, 1).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  channel.close();
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Received>{{1, std::nullopt}, {2, std::nullopt}, {3, std::nullopt}}));
  EXPECT_EQ(executor.live_tasks(), 0u);
}

TEST_F(ChannelTest, CloseDoesNotTakeAValueAlreadyPromisedToAReceiver) {
  using C = Channel<int, 2>;
  C channel;
  std::vector<Received> log;
  TaskStorage<1024> r1, r2;
  ASSERT_TRUE(executor.spawn(r1, receive_n<C>, std::ref(channel), std::ref(log), 1, 2).ok());
  ASSERT_TRUE(executor.spawn(r2, receive_n<C>, std::ref(channel), std::ref(log), 2, 1).ok());
  executor.run_until_stalled();
  ASSERT_EQ(channel.try_send(5), ok_status());  // promised to r1
  channel.close();                              // r2 is told the channel ended
  executor.run_until_stalled();
  // r1 gets 5, then (without waiting) the end; r2 only the end.
  EXPECT_EQ(log, (std::vector<Received>{{1, 5}, {1, std::nullopt}, {2, std::nullopt}}));
  EXPECT_EQ(executor.live_tasks(), 0u);
  EXPECT_TRUE(channel.empty());
}

TEST_F(ChannelTest, CloseFailsWaitingAndLaterSenders) {
  using C = Channel<int, 1>;
  C channel;
  ASSERT_EQ(channel.try_send(1), ok_status());
  std::vector<Sent> sent;
  TaskStorage<1024> s1, s2;
  ASSERT_TRUE(
      executor.spawn(s1, send_values<C>, std::ref(channel), std::ref(sent), 1, std::vector<int>{2})
          .ok());
  ASSERT_TRUE(
      executor.spawn(s2, send_values<C>, std::ref(channel), std::ref(sent), 2, std::vector<int>{3})
          .ok());
  executor.run_until_stalled();
  EXPECT_TRUE(sent.empty());
  channel.close();
  executor.run_until_stalled();
  EXPECT_EQ(sent, (std::vector<Sent>{{1, 2, Status::failed_precondition()},
                                     {2, 3, Status::failed_precondition()}}));
  // A send after close fails at once.
  TaskStorage<1024> s3;
  ASSERT_TRUE(
      executor.spawn(s3, send_values<C>, std::ref(channel), std::ref(sent), 3, std::vector<int>{4})
          .ok());
  executor.run_until_stalled();
  EXPECT_EQ(s3.state(), TaskState::finished);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2], (Sent{3, 4, Status::failed_precondition()}));
  // Only the value sent before close is there.
  EXPECT_EQ(channel.try_receive(), 1);
  EXPECT_EQ(channel.try_receive(), std::nullopt);
}

// A sender promised a slot just before close(): whatever its send reports,
// nothing is lost or made up. If it reports ok, a receiver still gets the value.
TEST_F(ChannelTest, CloseAfterASenderWasPromisedASlotLosesNothing) {
  using C = Channel<int, 1>;
  C channel;
  ASSERT_EQ(channel.try_send(1), ok_status());
  std::vector<Sent> sent;
  TaskStorage<1024> sender;
  ASSERT_TRUE(
      executor
          .spawn(sender, send_values<C>, std::ref(channel), std::ref(sent), 1, std::vector<int>{2})
          .ok());
  executor.run_until_stalled();
  EXPECT_EQ(channel.try_receive(), 1);  // the slot is promised to the sender
  channel.close();
  executor.run_until_stalled();
  ASSERT_EQ(sent.size(), 1u);
  if (sent[0].status.ok()) {
    EXPECT_EQ(channel.try_receive(), 2);
  } else {
    EXPECT_EQ(sent[0].status, Status::failed_precondition());
  }
  EXPECT_EQ(channel.try_receive(), std::nullopt);
  EXPECT_EQ(channel.try_send(3), Status::failed_precondition());
}

// --- Fairness --------------------------------------------------------------------

TEST_F(ChannelTest, WaitingReceiversAreServedFifo) {
  using C = Channel<int, 4>;
  C channel;
  std::vector<Received> log;
  TaskStorage<1024> r1, r2, r3;
  // Spawned out of id order: the order of waiting is what counts.
  ASSERT_TRUE(executor.spawn(r2, receive_n<C>, std::ref(channel), std::ref(log), 2, 1).ok());
  ASSERT_TRUE(executor.spawn(r3, receive_n<C>, std::ref(channel), std::ref(log), 3, 1).ok());
  ASSERT_TRUE(executor.spawn(r1, receive_n<C>, std::ref(channel), std::ref(log), 1, 1).ok());
  executor.run_until_stalled();
  ASSERT_EQ(channel.try_send(10), ok_status());
  ASSERT_EQ(channel.try_send(20), ok_status());
  ASSERT_EQ(channel.try_send(30), ok_status());
  ASSERT_EQ(channel.try_send(40), ok_status());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Received>{{2, 10}, {3, 20}, {1, 30}}));
  EXPECT_EQ(channel.try_receive(), 40);
  EXPECT_EQ(executor.live_tasks(), 0u);
}

TEST_F(ChannelTest, WaitingSendersAreServedFifo) {
  using C = Channel<int, 1>;
  C channel;
  ASSERT_EQ(channel.try_send(0), ok_status());
  std::vector<Sent> sent;
  TaskStorage<1024> s1, s2, s3, receiver;
  ASSERT_TRUE(
      executor.spawn(s3, send_values<C>, std::ref(channel), std::ref(sent), 3, std::vector<int>{3})
          .ok());
  ASSERT_TRUE(
      executor.spawn(s1, send_values<C>, std::ref(channel), std::ref(sent), 1, std::vector<int>{1})
          .ok());
  ASSERT_TRUE(
      executor.spawn(s2, send_values<C>, std::ref(channel), std::ref(sent), 2, std::vector<int>{2})
          .ok());
  executor.run_until_stalled();
  EXPECT_TRUE(sent.empty());
  std::vector<Received> log;
  ASSERT_TRUE(executor.spawn(receiver, receive_n<C>, std::ref(channel), std::ref(log), 9, 4).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<Received>{{9, 0}, {9, 3}, {9, 1}, {9, 2}}));
  EXPECT_EQ(sent,
            (std::vector<Sent>{{3, 3, ok_status()}, {1, 1, ok_status()}, {2, 2, ok_status()}}));
  EXPECT_TRUE(channel.empty());
}

// The value that woke a receiver is the one it gets: a receiver that comes
// along before the woken one runs does not take it (FIFO: the first to wait is
// the first served).
TEST_F(ChannelTest, WokenReceiverGetsTheValueThatWokeIt) {
  using C = Channel<int, 4>;
  C channel;
  std::vector<Received> log;
  TaskStorage<1024> r1;
  ASSERT_TRUE(executor.spawn(r1, receive_n<C>, std::ref(channel), std::ref(log), 1, 1).ok());
  executor.run_until_stalled();
  ASSERT_EQ(channel.try_send(1), ok_status());  // wakes r1: 1 is promised to it
  ASSERT_EQ(channel.try_send(2), ok_status());
  EXPECT_EQ(channel.try_receive(), 2);
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Received>{{1, 1}}));
  EXPECT_TRUE(channel.empty());
}

// --- Ping-pong -------------------------------------------------------------------

constexpr int kRounds = 1000;

Task<void> ping(Channel<int, 1>& out, Channel<int, 1>& in, int& mismatches, int& rounds) {
  for (int i = 0; i < kRounds; ++i) {
    Status sent = co_await out.send(2 * i);
    if (!sent.ok()) ++mismatches;
    std::optional<int> answer = co_await in.receive();
    if (answer != 2 * i + 1) ++mismatches;
    ++rounds;
  }
  out.close();
}

Task<void> pong(Channel<int, 1>& in, Channel<int, 1>& out, int& mismatches) {
  int expected = 0;
  while (std::optional<int> value = co_await in.receive()) {
    if (*value != expected) ++mismatches;
    expected += 2;
    Status sent = co_await out.send(*value + 1);
    if (!sent.ok()) ++mismatches;
  }
}

TEST_F(ChannelTest, CapacityOnePingPongForManyRounds) {
  Channel<int, 1> a_to_b, b_to_a;
  int mismatches = 0, rounds = 0;
  TaskStorage<1024> a, b;
  ASSERT_TRUE(executor
                  .spawn(a, ping, std::ref(a_to_b), std::ref(b_to_a), std::ref(mismatches),
                         std::ref(rounds))
                  .ok());
  ASSERT_TRUE(
      executor.spawn(b, pong, std::ref(a_to_b), std::ref(b_to_a), std::ref(mismatches)).ok());
  const Instant start = executor.now();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(rounds, kRounds);
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(executor.now(), start);  // nothing ever waited for time
  EXPECT_TRUE(a_to_b.empty());
  EXPECT_TRUE(b_to_a.empty());
  // Nothing piled up in the frames over the rounds.
  EXPECT_LT(a.high_water_mark(), 1024u);
  EXPECT_LT(b.high_water_mark(), 1024u);
}

TEST_F(ChannelTest, CapacityOneStreamKeepsEveryValueInOrder) {
  using C = Channel<int, 1>;
  C channel;
  std::vector<int> out;
  bool saw_end = false;
  int failures = 0;
  TaskStorage<1024> producer, consumer;
  ASSERT_TRUE(
      executor
          .spawn(producer, send_range_then_close<C>, std::ref(channel), kRounds, std::ref(failures))
          .ok());
  ASSERT_TRUE(
      executor.spawn(consumer, receive_all<C>, std::ref(channel), std::ref(out), std::ref(saw_end))
          .ok());
  EXPECT_TRUE(executor.run().ok());
  ASSERT_EQ(out.size(), static_cast<std::size_t>(kRounds));
  for (int i = 0; i < kRounds; ++i) ASSERT_EQ(out[i], i) << "at " << i;
  EXPECT_TRUE(saw_end);
  EXPECT_EQ(failures, 0);
}

Task<void> produce_tagged(Channel<int, 2>& channel, int id, int count, int& failures) {
  for (int i = 0; i < count; ++i) {
    Status status = co_await channel.send(id * 1000 + i);
    if (!status.ok()) ++failures;
    if (i % 7 == id) co_await yield_now();
  }
}

Task<void> close_after(Channel<int, 2>& channel, TaskStorageBase& a, TaskStorageBase& b,
                       TaskStorageBase& c) {
  (void)co_await a.join();
  (void)co_await b.join();
  (void)co_await c.join();
  channel.close();
}

TEST_F(ChannelTest, ManySendersAndReceiversDeliverEveryValueOnceInPerSenderOrder) {
  using C = Channel<int, 2>;
  C channel;
  constexpr int kEach = 200;
  int failures = 0;
  std::vector<int> got[2];
  bool ended[2] = {false, false};
  TaskStorage<1024> p1, p2, p3, r1, r2, closer;
  ASSERT_TRUE(
      executor.spawn(r1, receive_all<C>, std::ref(channel), std::ref(got[0]), std::ref(ended[0]))
          .ok());
  ASSERT_TRUE(
      executor.spawn(p1, produce_tagged, std::ref(channel), 1, kEach, std::ref(failures)).ok());
  ASSERT_TRUE(
      executor.spawn(p2, produce_tagged, std::ref(channel), 2, kEach, std::ref(failures)).ok());
  ASSERT_TRUE(
      executor.spawn(r2, receive_all<C>, std::ref(channel), std::ref(got[1]), std::ref(ended[1]))
          .ok());
  ASSERT_TRUE(
      executor.spawn(p3, produce_tagged, std::ref(channel), 3, kEach, std::ref(failures)).ok());
  ASSERT_TRUE(
      executor
          .spawn(closer, close_after, std::ref(channel), std::ref(p1), std::ref(p2), std::ref(p3))
          .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(failures, 0);
  EXPECT_TRUE(ended[0]);
  EXPECT_TRUE(ended[1]);
  // Both receivers got a share, and each sees each sender's values in order.
  EXPECT_FALSE(got[0].empty());
  EXPECT_FALSE(got[1].empty());
  std::vector<int> all;
  for (const auto& list : got) {
    int last[4] = {-1, -1, -1, -1};
    for (int value : list) {
      const int id = value / 1000, i = value % 1000;
      ASSERT_GE(id, 1);
      ASSERT_LE(id, 3);
      EXPECT_GT(i, last[id]) << "sender " << id << " out of order";
      last[id] = i;
      all.push_back(value);
    }
  }
  std::sort(all.begin(), all.end());
  std::vector<int> expected;
  for (int id = 1; id <= 3; ++id) {
    for (int i = 0; i < kEach; ++i) expected.push_back(id * 1000 + i);
  }
  EXPECT_EQ(all, expected);
}

// --- Cancellation safety -----------------------------------------------------------

TEST_F(ChannelTest, WokenReceiverCancelledBeforeRunningLeavesTheValueInTheChannel) {
  using C = Channel<int, 2>;
  C channel;
  std::vector<Received> log;
  TaskStorage<1024> r1;
  ASSERT_TRUE(executor.spawn(r1, receive_n<C>, std::ref(channel), std::ref(log), 1, 1).ok());
  executor.run_until_stalled();
  ASSERT_EQ(channel.try_send(5), ok_status());  // promised to r1, which is ready
  r1.cancel();
  EXPECT_EQ(r1.exit_status(), Status::cancelled());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(channel.size(), 1u);
  EXPECT_EQ(channel.try_receive(), 5);
  EXPECT_EQ(channel.try_receive(), std::nullopt);
}

TEST_F(ChannelTest, WokenReceiverCancelledBeforeRunningPassesTheValueToTheNextReceiver) {
  using C = Channel<int, 2>;
  C channel;
  std::vector<Received> log;
  TaskStorage<1024> r1, r2, r3;
  ASSERT_TRUE(executor.spawn(r1, receive_n<C>, std::ref(channel), std::ref(log), 1, 1).ok());
  ASSERT_TRUE(executor.spawn(r2, receive_n<C>, std::ref(channel), std::ref(log), 2, 1).ok());
  ASSERT_TRUE(executor.spawn(r3, receive_n<C>, std::ref(channel), std::ref(log), 3, 1).ok());
  executor.run_until_stalled();
  ASSERT_EQ(channel.try_send(5), ok_status());  // promised to r1
  r1.cancel();                                  // passes to r2
  // The value is still promised (to r2): a try_receive cannot take it.
  EXPECT_EQ(channel.try_receive(), std::nullopt);
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Received>{{2, 5}}));
  EXPECT_EQ(r3.state(), TaskState::running);
  ASSERT_EQ(channel.try_send(6), ok_status());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Received>{{2, 5}, {3, 6}}));
  EXPECT_EQ(executor.live_tasks(), 0u);
}

Task<void> send_then_cancel(Channel<int, 2>& channel, TaskStorageBase& victim, int value) {
  Status status = co_await channel.send(value);
  EXPECT_TRUE(status.ok());
  victim.cancel();  // the woken receiver has not run yet
}

TEST_F(ChannelTest, ReceiverCancelledByTheSendingTaskDoesNotLoseTheValue) {
  using C = Channel<int, 2>;
  C channel;
  std::vector<Received> log;
  TaskStorage<1024> r1, sender, r2;
  ASSERT_TRUE(executor.spawn(r1, receive_n<C>, std::ref(channel), std::ref(log), 1, 1).ok());
  executor.run_until_stalled();
  ASSERT_TRUE(executor.spawn(sender, send_then_cancel, std::ref(channel), std::ref(r1), 8).ok());
  executor.run_until_stalled();
  EXPECT_EQ(r1.exit_status(), Status::cancelled());
  EXPECT_TRUE(sender.exit_status().ok());
  EXPECT_TRUE(log.empty());
  ASSERT_TRUE(executor.spawn(r2, receive_n<C>, std::ref(channel), std::ref(log), 2, 1).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Received>{{2, 8}}));
  EXPECT_TRUE(channel.empty());
}

TEST_F(ChannelTest, CancelledWokenReceiverKeepsTheOrderOfValues) {
  using C = Channel<int, 2>;
  C channel;
  std::vector<Received> log;
  TaskStorage<1024> r1, r2;
  ASSERT_TRUE(executor.spawn(r1, receive_n<C>, std::ref(channel), std::ref(log), 1, 1).ok());
  executor.run_until_stalled();
  ASSERT_EQ(channel.try_send(5), ok_status());
  r1.cancel();
  ASSERT_EQ(channel.try_send(6), ok_status());
  ASSERT_TRUE(executor.spawn(r2, receive_n<C>, std::ref(channel), std::ref(log), 2, 2).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Received>{{2, 5}, {2, 6}}));
}

TEST_F(ChannelTest, WokenSenderCancelledBeforeRunningDoesNotSendAndPassesTheSlotOn) {
  using C = Channel<int, 1>;
  C channel;
  ASSERT_EQ(channel.try_send(0), ok_status());
  std::vector<Sent> sent;
  TaskStorage<1024> s1, s2;
  ASSERT_TRUE(
      executor.spawn(s1, send_values<C>, std::ref(channel), std::ref(sent), 1, std::vector<int>{1})
          .ok());
  ASSERT_TRUE(
      executor.spawn(s2, send_values<C>, std::ref(channel), std::ref(sent), 2, std::vector<int>{2})
          .ok());
  executor.run_until_stalled();
  EXPECT_EQ(channel.try_receive(), 0);  // the slot is promised to s1
  s1.cancel();                          // ... and passes to s2
  EXPECT_EQ(s1.exit_status(), Status::cancelled());
  EXPECT_TRUE(channel.empty());
  EXPECT_EQ(channel.try_send(99), Status::resource_exhausted());
  executor.run_until_stalled();
  EXPECT_EQ(sent, (std::vector<Sent>{{2, 2, ok_status()}}));
  EXPECT_EQ(s2.state(), TaskState::finished);
  EXPECT_EQ(channel.try_receive(), 2);
  EXPECT_EQ(channel.try_receive(), std::nullopt);
}

TEST_F(ChannelTest, WokenSenderCancelledWithNoOtherSenderFreesTheSlot) {
  using C = Channel<int, 1>;
  C channel;
  ASSERT_EQ(channel.try_send(0), ok_status());
  std::vector<Sent> sent;
  TaskStorage<1024> s1;
  ASSERT_TRUE(
      executor.spawn(s1, send_values<C>, std::ref(channel), std::ref(sent), 1, std::vector<int>{1})
          .ok());
  executor.run_until_stalled();
  EXPECT_EQ(channel.try_receive(), 0);
  s1.cancel();
  executor.run_until_stalled();
  EXPECT_TRUE(sent.empty());
  EXPECT_TRUE(channel.empty());
  EXPECT_EQ(channel.try_send(7), ok_status());
  EXPECT_EQ(channel.try_receive(), 7);
}

TEST_F(ChannelTest, WaitingSenderCancelledLeavesTheQueue) {
  using C = Channel<int, 1>;
  C channel;
  ASSERT_EQ(channel.try_send(0), ok_status());
  std::vector<Sent> sent;
  TaskStorage<1024> s1, s2;
  ASSERT_TRUE(
      executor.spawn(s1, send_values<C>, std::ref(channel), std::ref(sent), 1, std::vector<int>{1})
          .ok());
  ASSERT_TRUE(
      executor.spawn(s2, send_values<C>, std::ref(channel), std::ref(sent), 2, std::vector<int>{2})
          .ok());
  executor.run_until_stalled();
  s1.cancel();  // still waiting, nothing promised
  EXPECT_EQ(channel.try_receive(), 0);
  executor.run_until_stalled();
  EXPECT_EQ(sent, (std::vector<Sent>{{2, 2, ok_status()}}));
  EXPECT_EQ(channel.try_receive(), 2);
  EXPECT_EQ(channel.try_receive(), std::nullopt);
}

template <typename C>
Task<void> select_two(C& a, C& b, std::size_t& index, std::optional<int>& value) {
  auto result = co_await select(recv(a), recv(b));
  index = result.index();
  value = index == 0 ? std::get<0>(result) : std::get<1>(result);
}

TEST_F(ChannelTest, SelectOfTwoReceivesLeavesTheLosersValueInItsChannel) {
  using C = Channel<int, 2>;
  C a, b;
  std::size_t index = 99;
  std::optional<int> value;
  TaskStorage<4096> task;
  ASSERT_TRUE(
      executor
          .spawn(task, select_two<C>, std::ref(a), std::ref(b), std::ref(index), std::ref(value))
          .ok());
  executor.run_until_stalled();
  EXPECT_EQ(index, 99u);
  // Both branches are woken with a value promised; b's runs first and wins.
  ASSERT_EQ(b.try_send(20), ok_status());
  ASSERT_EQ(a.try_send(10), ok_status());
  executor.run_until_stalled();
  EXPECT_EQ(task.state(), TaskState::finished);
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(value, 20);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(a.try_receive(), 10);
}

TEST_F(ChannelTest, SelectWithAValueReadyTakesOnlyThatOne) {
  using C = Channel<int, 2>;
  C a, b;
  ASSERT_EQ(a.try_send(1), ok_status());
  ASSERT_EQ(b.try_send(2), ok_status());
  std::size_t index = 99;
  std::optional<int> value;
  TaskStorage<4096> task;
  ASSERT_TRUE(
      executor
          .spawn(task, select_two<C>, std::ref(a), std::ref(b), std::ref(index), std::ref(value))
          .ok());
  executor.run_until_stalled();
  EXPECT_EQ(index, 0u);
  EXPECT_EQ(value, 1);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b.try_receive(), 2);
}

TEST_F(ChannelTest, SelectLoserThatWasStillWaitingLeavesItsChannel) {
  using C = Channel<int, 2>;
  C a, b;
  std::size_t index = 99;
  std::optional<int> value;
  TaskStorage<4096> task;
  ASSERT_TRUE(
      executor
          .spawn(task, select_two<C>, std::ref(a), std::ref(b), std::ref(index), std::ref(value))
          .ok());
  executor.run_until_stalled();
  ASSERT_EQ(b.try_send(3), ok_status());
  executor.run_until_stalled();
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(value, 3);
  // The loser no longer waits on a: a new value stays for the next receiver.
  ASSERT_EQ(a.try_send(4), ok_status());
  EXPECT_EQ(a.try_receive(), 4);
}

template <typename C>
Task<void> receive_with_timeout(C& channel, Duration timeout, std::vector<Status>& statuses,
                                std::vector<Received>& log) {
  Result<std::optional<int>> first = co_await with_timeout(timeout, recv(channel));
  statuses.push_back(first.status());
  if (first.ok()) log.push_back({1, *first});
  // The channel still works afterwards.
  std::optional<int> second = co_await channel.receive();
  log.push_back({2, second});
}

TEST_F(ChannelTest, TimedOutReceiveTakesNothingAndLeavesTheChannelUsable) {
  using C = Channel<int, 2>;
  C channel;
  std::vector<Status> statuses;
  std::vector<Received> log;
  TaskStorage<4096> task;
  ASSERT_TRUE(executor
                  .spawn(task, receive_with_timeout<C>, std::ref(channel), Duration(10ms),
                         std::ref(statuses), std::ref(log))
                  .ok());
  executor.run_until_stalled();
  driver.advance(9ms);
  executor.run_until_stalled();
  EXPECT_TRUE(statuses.empty());
  driver.advance(1ms);
  executor.run_until_stalled();
  EXPECT_EQ(statuses, std::vector<Status>{Status::deadline_exceeded()});
  EXPECT_TRUE(log.empty());
  ASSERT_EQ(channel.try_send(7), ok_status());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Received>{{2, 7}}));
  EXPECT_EQ(task.state(), TaskState::finished);
  EXPECT_TRUE(channel.empty());
}

TEST_F(ChannelTest, ReceiveWithinItsTimeoutGetsTheValue) {
  using C = Channel<int, 2>;
  C channel;
  std::vector<Status> statuses;
  std::vector<Received> log;
  TaskStorage<4096> task;
  ASSERT_TRUE(executor
                  .spawn(task, receive_with_timeout<C>, std::ref(channel), Duration(10ms),
                         std::ref(statuses), std::ref(log))
                  .ok());
  executor.run_until_stalled();
  driver.advance(5ms);
  ASSERT_EQ(channel.try_send(1), ok_status());
  ASSERT_EQ(channel.try_send(2), ok_status());
  executor.run_until_stalled();
  EXPECT_EQ(statuses, std::vector<Status>{ok_status()});
  EXPECT_EQ(log, (std::vector<Received>{{1, 1}, {2, 2}}));
  EXPECT_EQ(task.state(), TaskState::finished);
}

Task<void> send_later(Channel<int, 2>& channel, Duration delay, int value) {
  co_await sleep_for(delay);
  EXPECT_EQ(channel.try_send(value), ok_status());
}

TEST_F(ChannelTest, TimeoutAtTheInstantOfASendLosesNothing) {
  using C = Channel<int, 2>;
  C channel;
  std::vector<Status> statuses;
  std::vector<Received> log;
  TaskStorage<4096> receiver;
  TaskStorage<1024> sender;
  ASSERT_TRUE(executor
                  .spawn(receiver, receive_with_timeout<C>, std::ref(channel), Duration(10ms),
                         std::ref(statuses), std::ref(log))
                  .ok());
  ASSERT_TRUE(executor.spawn(sender, send_later, std::ref(channel), Duration(10ms), 42).ok());
  executor.run_until_stalled();
  driver.advance(10ms);
  executor.run_until_stalled();
  ASSERT_EQ(statuses.size(), 1u);
  // Either way round, 42 is received exactly once.
  if (statuses[0].ok()) {
    EXPECT_EQ(log, (std::vector<Received>{{1, 42}}));
    ASSERT_EQ(channel.try_send(43), ok_status());
    executor.run_until_stalled();
    EXPECT_EQ(log, (std::vector<Received>{{1, 42}, {2, 43}}));
  } else {
    EXPECT_EQ(statuses[0], Status::deadline_exceeded());
    EXPECT_EQ(log, (std::vector<Received>{{2, 42}}));
  }
  EXPECT_EQ(executor.live_tasks(), 0u);
  EXPECT_TRUE(channel.empty());
}

Task<void> send_with_timeout(Channel<int, 1>& channel, int value, Status& status) {
  status = co_await with_timeout(10ms, send_task(channel, value));
}

TEST_F(ChannelTest, TimedOutSendHasNotSent) {
  Channel<int, 1> channel;
  ASSERT_EQ(channel.try_send(1), ok_status());
  Status status = Status::unknown();
  TaskStorage<4096> task;
  ASSERT_TRUE(executor.spawn(task, send_with_timeout, std::ref(channel), 2, std::ref(status)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(status, Status::deadline_exceeded());
  EXPECT_EQ(channel.try_receive(), 1);
  EXPECT_EQ(channel.try_receive(), std::nullopt);
  // The timed-out sender holds no slot.
  EXPECT_EQ(channel.try_send(3), ok_status());
  EXPECT_EQ(channel.try_receive(), 3);
}

}  // namespace
}  // namespace mote::async
