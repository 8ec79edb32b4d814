#include "mote/async/timer_queue.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <memory>
#include <random>
#include <vector>

namespace mote::async {
namespace {

struct RecordingTimer : TimerNode {
  RecordingTimer() : TimerNode(&RecordingTimer::fired) {}
  static void fired(TimerNode* node) {
    auto* self = static_cast<RecordingTimer*>(node);
    self->log->push_back(self->id);
  }
  int id = 0;
  std::vector<int>* log = nullptr;
};

Instant at(std::int64_t us) { return Instant(Duration(us)); }

TEST(TimerQueueTest, ExpiresDueTimersEarliestFirst) {
  std::vector<int> log;
  RecordingTimer t[5];
  TimerQueue queue;
  const std::int64_t deadlines[5] = {50, 10, 40, 20, 30};
  for (int i = 0; i < 5; ++i) {
    t[i].id = i;
    t[i].log = &log;
    queue.insert(t[i], at(deadlines[i]));
  }
  EXPECT_EQ(queue.next_deadline(), at(10));
  EXPECT_EQ(queue.expire(at(25)), 2u);
  EXPECT_EQ(log, (std::vector<int>{1, 3}));
  EXPECT_FALSE(t[1].armed());
  EXPECT_TRUE(t[0].armed());
  EXPECT_EQ(queue.expire(at(100)), 3u);
  EXPECT_EQ(log, (std::vector<int>{1, 3, 4, 2, 0}));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.next_deadline(), kNever);
}

TEST(TimerQueueTest, RemoveFromAnywhere) {
  std::vector<int> log;
  RecordingTimer t[6];
  TimerQueue queue;
  for (int i = 0; i < 6; ++i) {
    t[i].id = i;
    t[i].log = &log;
    queue.insert(t[i], at(10 * (i + 1)));
  }
  queue.expire(at(0));  // restructure nothing; all pending
  queue.remove(t[0]);   // the root
  queue.remove(t[3]);   // an inner node
  queue.remove(t[3]);   // removing twice is harmless
  EXPECT_FALSE(t[0].armed());
  EXPECT_EQ(queue.next_deadline(), at(20));
  queue.expire(at(1000));
  EXPECT_EQ(log, (std::vector<int>{1, 2, 4, 5}));
}

// Random inserts, removals and expiries against a sorted reference.
TEST(TimerQueueTest, MatchesAReferenceUnderRandomOperations) {
  std::mt19937 random(12345);
  constexpr int kTimers = 500;
  std::vector<int> log;
  auto timers = std::make_unique<RecordingTimer[]>(kTimers);
  std::vector<std::pair<std::int64_t, int>> reference;  // (deadline, id) pending
  TimerQueue queue;
  for (int i = 0; i < kTimers; ++i) {
    timers[i].id = i;
    timers[i].log = &log;
  }
  std::int64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    const int id = static_cast<int>(random() % kTimers);
    switch (random() % 3) {
      case 0:
        if (!timers[id].armed()) {
          // Distinct deadlines, so the expected order is unique.
          const std::int64_t deadline =
              (now + 1 + static_cast<std::int64_t>(random() % 1000)) * kTimers + id;
          queue.insert(timers[id], at(deadline));
          reference.emplace_back(deadline, id);
        }
        break;
      case 1:
        if (timers[id].armed()) {
          queue.remove(timers[id]);
          std::erase_if(reference, [&](auto& e) { return e.second == id; });
        }
        break;
      case 2: {
        now += static_cast<std::int64_t>(random() % 2000);
        log.clear();
        const std::int64_t due = now * kTimers + kTimers - 1;
        queue.expire(at(due));
        std::sort(reference.begin(), reference.end());
        std::vector<int> expected;
        while (!reference.empty() && reference.front().first <= due) {
          expected.push_back(reference.front().second);
          reference.erase(reference.begin());
        }
        ASSERT_EQ(log, expected) << "at step " << step;
        break;
      }
    }
    const auto earliest = std::min_element(reference.begin(), reference.end());
    ASSERT_EQ(queue.next_deadline(), earliest == reference.end() ? kNever : at(earliest->first));
  }
  for (int i = 0; i < kTimers; ++i) queue.remove(timers[i]);
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace mote::async
