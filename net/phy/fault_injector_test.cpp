#include "mote/net/phy/fault_injector.hpp"

#include <bit>
#include <gtest/gtest.h>
#include <set>
#include <vector>

#include "mote/net/phy/loopback.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;

class FaultInjectorTest : public ::testing::Test {
 protected:
  // Frames of 100 bytes numbered in their first two bytes, "sent" into the
  // loopback (as if they arrived), read back through the injector.
  void arrive(int count) {
    for (int i = 0; i < count; ++i) {
      std::array<std::byte, 100> frame{};
      store_be16(frame.data(), static_cast<std::uint16_t>(next_++));
      ASSERT_TRUE(link_.transmit(now_, frame).ok());
    }
  }
  std::vector<int> drain(FaultInjector<Loopback>& faults) {
    std::vector<int> got;
    std::array<std::byte, 1500> buffer{};
    for (;;) {
      Result<std::size_t> frame = faults.receive(now_, buffer);
      if (!frame.ok()) break;
      got.push_back(load_be16(buffer.data()));
    }
    return got;
  }

  Instant now_ = Instant{} + 5s;
  StaticLoopback<65536> link_;
  std::array<std::byte, 65536> held_{};
  int next_ = 0;
};

TEST_F(FaultInjectorTest, PassesEverythingWhenHarmless) {
  FaultInjector<Loopback> faults(link_, FaultConfig{}, held_);
  arrive(50);
  const std::vector<int> got = drain(faults);
  ASSERT_EQ(got.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(got[i], i);
}

TEST_F(FaultInjectorTest, DropsAboutTheShareAskedAndTheSameOnesForTheSameSeed) {
  FaultConfig config;
  config.seed = 42;
  config.drop_percent = 30;
  FaultInjector<Loopback> first(link_, config, held_);
  std::vector<int> kept;
  for (int round = 0; round < 10; ++round) {
    arrive(100);
    for (int n : drain(first)) kept.push_back(n);
  }
  EXPECT_GT(kept.size(), 620u);
  EXPECT_LT(kept.size(), 780u);
  EXPECT_EQ(first.stats().dropped, 1000u - kept.size());

  next_ = 0;
  std::array<std::byte, 65536> other{};
  FaultInjector<Loopback> second(link_, config, other);
  std::vector<int> again;
  for (int round = 0; round < 10; ++round) {
    arrive(100);
    for (int n : drain(second)) again.push_back(n);
  }
  EXPECT_EQ(again, kept);
}

TEST_F(FaultInjectorTest, DuplicatesAndCorruptsOneBit) {
  FaultConfig config;
  config.duplicate_percent = 100;
  config.corrupt_percent = 100;
  FaultInjector<Loopback> faults(link_, config, held_);
  std::array<std::byte, 100> sent{};
  ASSERT_TRUE(link_.transmit(now_, sent).ok());
  std::array<std::byte, 100> got{};
  for (int copy = 0; copy < 2; ++copy) {
    ASSERT_EQ(faults.receive(now_, got).value_or(0), 100u);
    int flipped = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      flipped += std::popcount(std::to_integer<unsigned>(got[i] ^ sent[i]));
    }
    EXPECT_EQ(flipped, 1);
  }
  EXPECT_EQ(faults.receive(now_, got).status(), Status::unavailable());
}

TEST_F(FaultInjectorTest, DelaysAndReorders) {
  FaultConfig config;
  config.delay = 20ms;
  config.reorder_percent = 50;
  config.reorder_delay = 5ms;
  FaultInjector<Loopback> faults(link_, config, held_);
  arrive(40);
  EXPECT_TRUE(drain(faults).empty());
  EXPECT_EQ(faults.poll_at(), now_ + 20ms);
  now_ += 20ms;
  std::vector<int> got = drain(faults);
  EXPECT_EQ(got.size(), 40u - faults.stats().reordered);
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_EQ(faults.poll_at(), now_ + 5ms);
  now_ += 5ms;
  const std::vector<int> late = drain(faults);
  EXPECT_EQ(late.size(), faults.stats().reordered);
  got.insert(got.end(), late.begin(), late.end());
  EXPECT_FALSE(std::is_sorted(got.begin(), got.end()));  // overtaken
  EXPECT_EQ(std::set<int>(got.begin(), got.end()).size(), 40u);
  EXPECT_EQ(faults.poll_at(), async::kNever);
}

TEST_F(FaultInjectorTest, RateLimitsTransmission) {
  FaultConfig config;
  config.rate_bytes_per_second = 1000;
  config.burst_bytes = 1500;
  FaultInjector<Loopback> faults(link_, config, held_);
  std::array<std::byte, 500> frame{};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(faults.transmit(now_, frame).ok());
  EXPECT_EQ(link_.queued_frames(), 3u);
  EXPECT_EQ(faults.stats().rate_limited, 7u);
  now_ += 1s;  // 1000 more bytes of tokens
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(faults.transmit(now_, frame).ok());
  EXPECT_EQ(link_.queued_frames(), 5u);
}

// The bottleneck: frames of 100 bytes at 10,000 bytes/s take 10 ms each.
TEST_F(FaultInjectorTest, BottleneckSendsFramesOneAfterAnotherAtTheRate) {
  FaultConfig config;
  config.bottleneck_bytes_per_second = 10000;
  FaultInjector<Loopback> faults(link_, config, held_);
  arrive(5);
  EXPECT_TRUE(drain(faults).empty());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(faults.poll_at(), now_ + 10ms);
    now_ += 9ms;
    EXPECT_TRUE(drain(faults).empty());
    now_ += 1ms;
    EXPECT_EQ(drain(faults), std::vector<int>{i});
  }
  EXPECT_EQ(faults.poll_at(), async::kNever);
  EXPECT_EQ(faults.stats().arrived, 5u);
  EXPECT_EQ(faults.stats().queue_dropped, 0u);
  EXPECT_EQ(faults.stats().queue_high_water, 500u);
}

TEST_F(FaultInjectorTest, BottleneckTailDropsWhatTheQueueCannotHold) {
  FaultConfig config;
  config.bottleneck_bytes_per_second = 10000;
  config.queue_bytes = 300;
  FaultInjector<Loopback> faults(link_, config, held_);
  arrive(10);  // 0, 1, 2 fit; 3..9 are dropped at the tail
  EXPECT_TRUE(drain(faults).empty());
  EXPECT_EQ(faults.stats().queue_dropped, 7u);
  now_ += 10ms;  // 0 has left: room for one more
  EXPECT_EQ(drain(faults), std::vector<int>{0});
  arrive(2);  // 10 fits, 11 does not
  EXPECT_TRUE(drain(faults).empty());
  EXPECT_EQ(faults.stats().queue_dropped, 8u);
  now_ += 30ms;
  EXPECT_EQ(drain(faults), (std::vector<int>{1, 2, 10}));
  EXPECT_EQ(faults.stats().arrived, 12u);
  EXPECT_EQ(faults.stats().queue_high_water, 300u);
}

TEST_F(FaultInjectorTest, DelayCountsFromLeavingTheBottleneck) {
  FaultConfig config;
  config.bottleneck_bytes_per_second = 10000;
  config.delay = 50ms;
  FaultInjector<Loopback> faults(link_, config, held_);
  arrive(2);
  EXPECT_TRUE(drain(faults).empty());  // taken in now: the arrival time
  EXPECT_EQ(faults.poll_at(), now_ + 60ms);
  now_ += 60ms;
  EXPECT_EQ(drain(faults), std::vector<int>{0});
  EXPECT_EQ(faults.poll_at(), now_ + 10ms);
  // An idle bottleneck adds only the frame's own time.
  now_ += 1s;
  EXPECT_EQ(drain(faults), std::vector<int>{1});
  arrive(1);
  EXPECT_TRUE(drain(faults).empty());
  EXPECT_EQ(faults.poll_at(), now_ + 60ms);
}

// Rates that do not divide a second into whole microseconds per frame still
// come out exact over a long run: the remainder is carried, not dropped.
TEST_F(FaultInjectorTest, BottleneckKeepsTheExactRateOverALongRun) {
  FaultConfig config;
  config.bottleneck_bytes_per_second = 322945;  // smoltcp's netsim figure
  config.queue_bytes = 1000000;
  FaultInjector<Loopback> faults(link_, config, held_);
  const Instant start = now_;
  arrive(200);  // 20,000 bytes
  std::vector<int> got = drain(faults);
  while (faults.poll_at() != async::kNever) {
    now_ = faults.poll_at();
    for (int n : drain(faults)) got.push_back(n);
  }
  ASSERT_EQ(got.size(), 200u);
  EXPECT_EQ(faults.stats().overflowed, 0u);
  // 20,000 / 322,945 s = 61,930.4 µs: the last byte leaves in the 61,930th µs.
  EXPECT_EQ((now_ - start).count(), 61930);
}

TEST_F(FaultInjectorTest, BottleneckWithLossIsTheSameForTheSameSeed) {
  FaultConfig config;
  config.seed = 99;
  config.drop_percent = 20;
  config.duplicate_percent = 10;
  config.reorder_percent = 10;
  config.delay = 5ms;
  config.bottleneck_bytes_per_second = 20000;
  config.queue_bytes = 1000;
  const auto run = [&](ByteSpan storage) {
    next_ = 0;
    now_ = Instant{} + 5s;
    FaultInjector<Loopback> faults(link_, config, storage);
    std::vector<int> got;
    for (int round = 0; round < 50; ++round) {
      arrive(4);
      now_ += 10ms;
      for (int n : drain(faults)) got.push_back(n);
    }
    now_ += 1s;
    for (int n : drain(faults)) got.push_back(n);
    const FaultStats& stats = faults.stats();
    EXPECT_GT(stats.queue_dropped, 0u);
    EXPECT_EQ(got.size(), stats.arrived - stats.queue_dropped);
    return got;
  };
  std::array<std::byte, 65536> other{};
  const std::vector<int> first = run(held_);
  EXPECT_EQ(run(other), first);
}

}  // namespace
}  // namespace mote::net
