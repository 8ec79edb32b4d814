// The load generator's latency histogram and option checks, in-process.

#include "mqtt_load.hpp"

#include <algorithm>
#include <cstdint>
#include <gtest/gtest.h>
#include <random>
#include <vector>

namespace mote::cli::mqtt_load {
namespace {

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.add(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_EQ(h.quantile(0.5), 50u);
  EXPECT_EQ(h.quantile(0.99), 99u);
  EXPECT_EQ(h.quantile(1.0), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogram, QuantilesWithinOnePercentOfTheExactOnes) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> latency(11.0, 1.5);  // ~60 µs median, long tail
  std::vector<std::uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<std::uint64_t>(latency(random));
    values.push_back(v);
    h.add(v);
  }
  std::sort(values.begin(), values.end());
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const auto exact = static_cast<double>(values[static_cast<std::size_t>(q * 100000) - 1]);
    const auto estimate = static_cast<double>(h.quantile(q));
    EXPECT_GE(estimate, exact) << q;  // the upper edge of the bucket
    EXPECT_LE(estimate, exact * 1.01) << q;
  }
  EXPECT_EQ(h.quantile(1.0), values.back());
  EXPECT_EQ(h.max(), values.back());
}

TEST(LatencyHistogram, MergeAddsCountsAndKeepsExtremes) {
  LatencyHistogram a;
  LatencyHistogram b;
  a.add(10);
  a.add(1'000'000);
  b.add(5);
  b.add(std::uint64_t{1} << 62);
  a.merge(b);
  EXPECT_EQ(a.count(), 4u);
  EXPECT_EQ(a.min(), 5u);
  EXPECT_EQ(a.max(), std::uint64_t{1} << 62);
  EXPECT_EQ(a.quantile(0.25), 5u);
  EXPECT_EQ(a.quantile(1.0), std::uint64_t{1} << 62);
  LatencyHistogram empty;
  EXPECT_EQ(empty.quantile(0.5), 0u);
  EXPECT_EQ(empty.min(), 0u);
}

TEST(LoadOptions, RunsMustBeBoundedAndPayloadsHoldTheHeader) {
  LoadOptions o;
  EXPECT_EQ(check_options(o), "");
  o.count = 0;
  EXPECT_NE(check_options(o), "");
  o.duration = std::chrono::seconds(1);
  EXPECT_EQ(check_options(o), "");
  o.scenario = Scenario::idle;
  o.duration = {};
  EXPECT_EQ(check_options(o), "");  // idle holds for 10 s by default
  o = {};
  o.payload_size = kHeaderBytes - 1;
  EXPECT_NE(check_options(o), "");
  o = {};
  o.inflight = 0;
  EXPECT_NE(check_options(o), "");
}

}  // namespace
}  // namespace mote::cli::mqtt_load
