#pragma once
// The MQTT load generator behind `mote bench mqtt`: drives any MQTT 3.1.1 or
// 5.0 broker with publishers and subscribers on the kernel's sockets and
// mote's executor, and measures what arrives.
//
// Scenarios (the topics are `<prefix>/<run id>/<k>`):
//   fan-in   N publishers -> one topic -> 1 subscriber
//   fan-out  1 publisher  -> one topic -> N subscribers
//   pairs    publisher i  -> topic i   -> subscriber i, N pairs
//   idle     N connections that only connect and stay (memory per connection)
//
// Every payload starts with 16 bytes: the send time (CLOCK_MONOTONIC, ns),
// the publisher's index and the message's sequence number (little-endian),
// so a subscriber measures latency and finds losses and duplicates itself.
// Publishers encode one PUBLISH with mote's codec and patch the packet id and
// those 16 bytes for each message; they keep up to `inflight` QoS 1/2
// messages unacknowledged (the broker's Receive Maximum, in MQTT 5, if lower)
// and write whole batches at once. Clients are spread over `threads` threads,
// each with its own epoll driver and executor.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mote/mqtt/types.hpp"

namespace mote::cli::mqtt_load {

enum class Scenario : std::uint8_t { fan_in, fan_out, pairs, idle };
const char* scenario_name(Scenario scenario);

struct LoadOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  Scenario scenario = Scenario::fan_in;
  // Publishers in fan-in, subscribers in fan-out, pairs in pairs, connections in idle.
  std::uint32_t clients = 16;
  mqtt::QoS qos = mqtt::QoS::at_most_once;
  mqtt::ProtocolVersion version = mqtt::ProtocolVersion::v311;
  std::uint32_t payload_size = 16;  // at least kHeaderBytes
  // Messages per publisher; 0: until `duration`.
  std::uint64_t count = 10000;
  // Publishing stops after this long; zero: until `count`. Idle: how long the
  // connections are held once all are up.
  std::chrono::milliseconds duration{0};
  // Messages per second, all publishers together; 0: as fast as possible.
  double rate = 0;
  std::uint32_t threads = 1;
  std::uint32_t inflight = 64;  // QoS 1/2 messages unacknowledged per publisher
  // After the publishers finish, how long subscribers may take to receive the rest.
  std::chrono::milliseconds drain{5000};
  std::chrono::milliseconds connect_timeout{30000};
  std::uint32_t max_connecting = 100;  // connections being set up at once
  std::uint16_t keep_alive = 0;        // seconds; idle connections ping at this period
  std::string topic_prefix = "mote-bench";
};

inline constexpr std::uint32_t kHeaderBytes = 16;  // send time, publisher, sequence

// Latency in nanoseconds, log-linear buckets: 128 per power of two (< 0.8 % error).
class LatencyHistogram {
 public:
  void add(std::uint64_t ns);
  void merge(const LatencyHistogram& other);
  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] std::uint64_t max() const { return max_; }
  [[nodiscard]] std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
  [[nodiscard]] double mean() const {
    return count_ == 0 ? 0 : static_cast<double>(sum_) / static_cast<double>(count_);
  }
  // The value at quantile q (0..1): the upper edge of its bucket, never above max().
  [[nodiscard]] std::uint64_t quantile(double q) const;

 private:
  static constexpr unsigned kSubBits = 7;
  static constexpr unsigned kBuckets = (64 - kSubBits + 1) << kSubBits;
  static unsigned index_of(std::uint64_t ns);
  static std::uint64_t upper_edge(unsigned index);
  std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(kBuckets);
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = ~std::uint64_t{0};
  std::uint64_t sum_ = 0;
};

struct LoadReport {
  LoadOptions options;
  std::uint32_t publishers = 0;
  std::uint32_t subscribers = 0;
  std::uint32_t connected = 0;     // connections that got a successful CONNACK
  std::uint32_t failed = 0;        // connections that failed (see errors)
  std::uint64_t sent = 0;          // PUBLISH packets written
  std::uint64_t acknowledged = 0;  // PUBACK (QoS 1) / PUBCOMP (QoS 2) received
  std::uint64_t expected = 0;      // deliveries the subscribers should have seen
  std::uint64_t received = 0;      // distinct messages received
  std::uint64_t duplicates = 0;    // received again
  std::uint64_t lost = 0;          // expected - received
  double publish_seconds = 0;      // first publish to last publish written (and acked)
  double receive_seconds = 0;      // first publish to last message received
  double connect_seconds = 0;      // start to every connection up (and subscribed)
  double cpu_seconds = 0;          // the generator's own CPU time (user + system), all threads
  LatencyHistogram latency;
  std::vector<std::string> errors;  // the first few, with the client they concern
  [[nodiscard]] double sent_per_second() const {
    return publish_seconds > 0 ? static_cast<double>(sent) / publish_seconds : 0;
  }
  [[nodiscard]] double received_per_second() const {
    return receive_seconds > 0 ? static_cast<double>(received + duplicates) / receive_seconds : 0;
  }
};

// What the progress display reads while the run goes on (any thread).
struct LoadProgress {
  std::atomic<std::uint32_t> connected{0};
  std::atomic<std::uint32_t> failed{0};
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<bool> publishing{false};
  std::atomic<bool> holding{false};  // idle: every connection is up
};

// Checks options that exclude each other; an empty string when fine.
std::string check_options(const LoadOptions& options);

// Runs the load to its end (count, duration, drain) or until `stop` is set
// (a signal). `on_tick` is called about every 100 ms on the calling thread.
LoadReport run_load(const LoadOptions& options, LoadProgress& progress,
                    const std::atomic<bool>& stop, const std::function<void()>& on_tick);

}  // namespace mote::cli::mqtt_load
