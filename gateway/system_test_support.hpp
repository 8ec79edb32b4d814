#pragma once
// What the tests of the built `mote gateway` share (gateway_system_test,
// firmware_node_test, and apps/mote's mote_sensor_test and mote_demo_test): its loopback ports,
// HTTP GETs through curl, the API's device list and history, the firmware node's image, and
// polling until something holds. Test-only, header-only.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/socket.h>
#include <thread>

#include "mote/testing/process.hpp"

namespace mote::gateway::system_test {

// The gateway's three ports, free on 127.0.0.1 when chosen.
struct Ports {
  std::uint16_t mqtt = testing::unused_port(SOCK_STREAM);
  std::uint16_t http = testing::unused_port(SOCK_STREAM);
  std::uint16_t coap = testing::unused_port(SOCK_DGRAM);
};

// GET over curl: the status and the body (status 0 when curl failed).
struct HttpAnswer {
  int status = 0;
  std::string body;
};
inline HttpAnswer http_get(std::uint16_t port, const std::string& path) {
  using namespace std::chrono_literals;
  testing::ChildProcess curl({"curl", "-s", "-S", "--max-time", "5", "-w", "\n%{http_code}",
                              "http://127.0.0.1:" + std::to_string(port) + path});
  if (curl.wait_for_exit(10s) != 0) return {};
  const std::string out = curl.stdout_text();
  const std::size_t newline = out.rfind('\n');
  if (newline == std::string::npos) return {};
  return {std::atoi(out.c_str() + newline + 1), out.substr(0, newline)};
}

// The body of a 200 answer as JSON; null otherwise.
inline nlohmann::json get_json(std::uint16_t port, const std::string& path) {
  const HttpAnswer answer = http_get(port, path);
  if (answer.status != 200) return nlohmann::json();
  return nlohmann::json::parse(answer.body, nullptr, false);
}

// The device called `name` in a /api/devices answer; null when absent.
inline nlohmann::json device_of(const nlohmann::json& devices, const std::string& name) {
  if (!devices.is_object() || !devices.contains("devices")) return nlohmann::json();
  for (const nlohmann::json& device : devices["devices"]) {
    if (device.value("name", "") == name) return device;
  }
  return nlohmann::json();
}

// The device called `name` in GET /api/devices; null when absent.
inline nlohmann::json find_device(std::uint16_t port, const std::string& name) {
  return device_of(get_json(port, "/api/devices"), name);
}

// A metric's history from `from_ms` (default: an hour ago, which raw
// samples still cover, so each point is one reading) as [time_ms, min, max,
// mean, count] points, oldest first; empty when there is none.
inline nlohmann::json history_points(std::uint16_t port, const std::string& device,
                                     const std::string& metric, std::int64_t from_ms = -1) {
  if (from_ms < 0) {
    from_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count() -
              3'600'000;
  }
  const nlohmann::json history =
      get_json(port, "/api/devices/" + device + "/metrics/" + metric +
                         "/history?from=" + std::to_string(from_ms) + "&points=100000");
  if (!history.is_object() || !history.contains("points")) return nlohmann::json::array();
  return history["points"];
}

// How many readings history points stand for (the sum of their counts).
inline std::size_t readings_in(const nlohmann::json& points) {
  std::size_t count = 0;
  for (const nlohmann::json& point : points) count += point[4].get<std::size_t>();
  return count;
}

// How many readings are stored, whatever resolution the history picked.
inline std::size_t history_count(std::uint16_t port, const std::string& device,
                                 const std::string& metric) {
  return readings_in(history_points(port, device, metric, 0));
}

// The firmware node's image (firmware/sensor_node_net) for the tests that
// run it: $MOTE_SENSOR_NODE_NET_IMAGE (the cortex-m3 build's tests set it),
// else `in_tree`, where the cortex-m3 preset builds it.
inline std::string sensor_node_net_image(const char* in_tree) {
  const char* path = std::getenv("MOTE_SENSOR_NODE_NET_IMAGE");
  return path != nullptr && *path != '\0' ? path : in_tree;
}

// Polls `check` every 100 ms until it holds or `timeout` passes.
template <typename Check>
bool eventually(Check check, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!check()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace mote::gateway::system_test
