#pragma once
// Reading a running `mote gateway` through its REST API (docs/gateway.md),
// for system tests: GET with curl (a real HTTP client), JSON with
// nlohmann-json, and a bounded poll. Header only; host tests only.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "mote/testing/process.hpp"

namespace mote::testing {

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string body;
};

// GET http://127.0.0.1:<port><path> with curl (5 s at most).
inline HttpAnswer http_get(std::uint16_t port, const std::string& path) {
  ChildProcess curl({"curl", "-s", "-S", "--max-time", "5", "-w", "\n%{http_code}",
                     "http://127.0.0.1:" + std::to_string(port) + path});
  if (curl.wait_for_exit(std::chrono::seconds(10)) != 0) return {};
  const std::string out = curl.stdout_text();
  const std::size_t newline = out.rfind('\n');
  if (newline == std::string::npos) return {};
  return {std::atoi(out.c_str() + newline + 1), out.substr(0, newline)};
}

// The JSON body of a 200 answer; null otherwise.
inline nlohmann::json get_json(std::uint16_t port, const std::string& path) {
  const HttpAnswer answer = http_get(port, path);
  if (answer.status != 200) return nlohmann::json();
  return nlohmann::json::parse(answer.body, nullptr, false);
}

// The device `name` from GET /api/devices; null when it is not listed.
inline nlohmann::json find_device(std::uint16_t port, const std::string& name) {
  const nlohmann::json devices = get_json(port, "/api/devices");
  if (!devices.is_object() || !devices.contains("devices")) return nlohmann::json();
  for (const nlohmann::json& device : devices["devices"]) {
    if (device.value("name", "") == name) return device;
  }
  return nlohmann::json();
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

// How many readings are stored, whatever resolution the history picked.
inline std::size_t history_count(std::uint16_t port, const std::string& device,
                                 const std::string& metric) {
  std::size_t count = 0;
  for (const nlohmann::json& point : history_points(port, device, metric, 0)) {
    count += point[4].get<std::size_t>();
  }
  return count;
}

// Polls `check` every 100 ms until it holds or `timeout` passes (a hang
// guard, never a timing assertion).
template <typename Check>
bool eventually(Check check, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!check()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace mote::testing
