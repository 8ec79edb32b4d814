// Differential fuzzer: random insert/remove/expire operations on TimerQueue
// against a sorted reference. Any mismatch aborts.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "mote/async/timer_queue.hpp"

namespace {

using mote::async::Duration;
using mote::async::Instant;
using mote::async::TimerNode;
using mote::async::TimerQueue;

struct FuzzTimer : TimerNode {
  FuzzTimer() : TimerNode(&FuzzTimer::fired) {}
  static void fired(TimerNode* node) {
    auto* self = static_cast<FuzzTimer*>(node);
    self->fired_log->push_back(self->id);
  }
  int id = 0;
  std::vector<int>* fired_log = nullptr;
};

constexpr int kTimers = 32;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<int> fired;
  FuzzTimer timers[kTimers];
  std::vector<std::pair<std::int64_t, int>> pending;
  for (int i = 0; i < kTimers; ++i) {
    timers[i].id = i;
    timers[i].fired_log = &fired;
  }
  TimerQueue queue;
  std::int64_t now = 0;
  for (std::size_t i = 0; i + 1 < size; i += 2) {
    const int id = data[i] % kTimers;
    const int op = (data[i] >> 5) % 3;
    const std::int64_t arg = data[i + 1];
    if (op == 0 && !timers[id].armed()) {
      // Deadline ties broken by id so the expected order is unique.
      const std::int64_t deadline = (now + arg) * kTimers + id;
      queue.insert(timers[id], Instant(Duration(deadline)));
      pending.emplace_back(deadline, id);
    } else if (op == 1 && timers[id].armed()) {
      queue.remove(timers[id]);
      std::erase_if(pending, [&](auto& p) { return p.second == id; });
    } else if (op == 2) {
      now += arg;
      fired.clear();
      queue.expire(Instant(Duration(now * kTimers + kTimers - 1)));
      std::sort(pending.begin(), pending.end());
      std::vector<int> expected;
      while (!pending.empty() && pending.front().first <= now * kTimers + kTimers - 1) {
        expected.push_back(pending.front().second);
        pending.erase(pending.begin());
      }
      if (fired != expected) std::abort();
    }
    const auto earliest = std::min_element(pending.begin(), pending.end());
    const Instant expected_next =
        earliest == pending.end() ? mote::async::kNever : Instant(Duration(earliest->first));
    if (queue.next_deadline() != expected_next) std::abort();
  }
  for (auto& timer : timers) queue.remove(timer);
  if (!queue.empty()) std::abort();
  return 0;
}
