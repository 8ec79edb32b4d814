// `mote bench mqtt` against `mote broker` (both the built binary, on
// loopback) with small counts: every message arrives once, the counts and
// the JSON report say so. No assertion on timings.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "mote/testing/process.hpp"

namespace mote::cli {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::ChildProcess;

class BenchMqttTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::unused_port(SOCK_STREAM);
    broker_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{MOTE_BINARY, "broker", "-p", std::to_string(port_)});
    ASSERT_TRUE(broker_->started());
    ASSERT_TRUE(testing::wait_for_tcp_listener(port_, 10s)) << broker_->describe();
  }

  // Runs `mote bench mqtt -p PORT args... --json`; its exit code and parsed report.
  json bench(std::vector<std::string> args, int expected_exit = 0) {
    std::vector<std::string> argv = {MOTE_BINARY, "bench", "mqtt", "-p", std::to_string(port_)};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.emplace_back("--json");
    ChildProcess run(argv);
    const std::optional<int> exit = run.wait_for_exit(60s);
    EXPECT_EQ(exit, expected_exit) << run.describe();
    json report = json::parse(run.stdout_text(), nullptr, false);
    EXPECT_FALSE(report.is_discarded()) << run.describe();
    return report;
  }

  static void expect_shape(const json& r) {
    for (const char* key : {"broker",
                            "port",
                            "scenario",
                            "protocol",
                            "qos",
                            "publishers",
                            "subscribers",
                            "connections",
                            "payload_bytes",
                            "threads",
                            "connected",
                            "failed",
                            "cpu_seconds",
                            "sent",
                            "acknowledged",
                            "expected",
                            "received",
                            "lost",
                            "duplicates",
                            "publish_seconds",
                            "receive_seconds",
                            "sent_per_second",
                            "received_per_second",
                            "latency_us",
                            "errors"}) {
      EXPECT_TRUE(r.contains(key)) << key << " missing in " << r.dump();
    }
    for (const char* key : {"count", "min", "mean", "p50", "p90", "p99", "max"}) {
      EXPECT_TRUE(r["latency_us"].contains(key)) << key << " missing in " << r.dump();
    }
    EXPECT_TRUE(r["errors"].is_array());
    if (r["latency_us"]["count"].get<std::uint64_t>() > 0) {
      EXPECT_LE(r["latency_us"]["p50"].get<double>(), r["latency_us"]["p99"].get<double>());
      EXPECT_LE(r["latency_us"]["p99"].get<double>(), r["latency_us"]["max"].get<double>());
    }
  }

  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> broker_;
};

TEST_F(BenchMqttTest, FanInQos1Counts) {
  const json r = bench({"-s", "fan-in", "-c", "3", "-q", "1", "-n", "50", "--threads", "2"});
  expect_shape(r);
  EXPECT_EQ(r["scenario"], "fan-in");
  EXPECT_EQ(r["protocol"], "3.1.1");
  EXPECT_EQ(r["publishers"], 3);
  EXPECT_EQ(r["subscribers"], 1);
  EXPECT_EQ(r["connected"], 4);
  EXPECT_EQ(r["sent"], 150);
  EXPECT_EQ(r["acknowledged"], 150);
  EXPECT_EQ(r["expected"], 150);
  EXPECT_EQ(r["received"], 150);
  EXPECT_EQ(r["lost"], 0);
  EXPECT_EQ(r["duplicates"], 0);
  EXPECT_EQ(r["latency_us"]["count"], 150);
  EXPECT_TRUE(r["errors"].empty()) << r.dump();
}

TEST_F(BenchMqttTest, FanOutQos2Mqtt5Counts) {
  const json r =
      bench({"-s", "fan-out", "-c", "3", "-q", "2", "-V", "5", "-n", "40", "--size", "100"});
  expect_shape(r);
  EXPECT_EQ(r["protocol"], "5");
  EXPECT_EQ(r["qos"], 2);
  EXPECT_EQ(r["payload_bytes"], 100);
  EXPECT_EQ(r["sent"], 40);
  EXPECT_EQ(r["acknowledged"], 40);  // PUBCOMPs
  EXPECT_EQ(r["expected"], 120);     // every subscriber gets every message
  EXPECT_EQ(r["received"], 120);
  EXPECT_EQ(r["duplicates"], 0);
  EXPECT_EQ(r["lost"], 0);
}

TEST_F(BenchMqttTest, PairsQos0Counts) {
  const json r = bench({"-s", "pairs", "-c", "2", "-q", "0", "-n", "30"});
  expect_shape(r);
  EXPECT_EQ(r["publishers"], 2);
  EXPECT_EQ(r["subscribers"], 2);
  EXPECT_EQ(r["sent"], 60);
  EXPECT_EQ(r["acknowledged"], 0);  // QoS 0 has none
  EXPECT_EQ(r["expected"], 60);     // each subscriber only its own publisher's
  EXPECT_EQ(r["received"], 60);
}

TEST_F(BenchMqttTest, IdleConnectionsConnectAndHold) {
  const json r = bench({"-s", "idle", "-c", "20", "-d", "200ms"});
  expect_shape(r);
  EXPECT_EQ(r["scenario"], "idle");
  EXPECT_EQ(r["connections"], 20);
  EXPECT_EQ(r["connected"], 20);
  EXPECT_EQ(r["failed"], 0);
  EXPECT_EQ(r["sent"], 0);
}

TEST_F(BenchMqttTest, NoBrokerIsAFailureWithTheReason) {
  broker_->stop();
  const json r = bench({"-s", "fan-in", "-c", "1", "-n", "5"}, 1);
  EXPECT_EQ(r["connected"], 0);
  EXPECT_EQ(r["failed"], 2);
  ASSERT_FALSE(r["errors"].empty());
  EXPECT_NE(r["errors"][0].get<std::string>().find("connect"), std::string::npos) << r.dump();
}

TEST(BenchMqttUsage, UnboundedOrBadOptionsAreUsageErrors) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"bench", "mqtt", "-n", "0"},         // neither count nor duration
           {"bench", "mqtt", "-s", "sideways"},  // no such scenario
           {"bench", "mqtt", "-V", "3"},         // no such version
           {"bench", "http"},                    // only mqtt
           {"bench", "mqtt", "--size", "8"}}) {  // no room for the header
    std::vector<std::string> argv = {MOTE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess run(argv);
    EXPECT_EQ(run.wait_for_exit(10s), 2) << run.describe();
  }
}

TEST(BenchMqttUsage, HelpIsLongOnlySinceDashHIsTheHost) {
  ChildProcess run({MOTE_BINARY, "bench", "--help"});
  EXPECT_EQ(run.wait_for_exit(10s), 0) << run.describe();
  EXPECT_NE(run.stdout_text().find("-h,--host"), std::string::npos) << run.describe();
}

}  // namespace
}  // namespace mote::cli
