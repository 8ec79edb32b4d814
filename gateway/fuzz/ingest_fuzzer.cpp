// Hostile payloads, topics, configs and history queries for the gateway: parsing must
// never crash, and what it accepts must be sane.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mote/gateway/api_json.hpp"
#include "mote/gateway/config.hpp"
#include "mote/gateway/ingest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto reading = mote::gateway::parse_reading(text); reading.ok()) {
    if (!std::isfinite(reading->value) || reading->unit.size() > 16) std::abort();
    if (reading->time_ms && *reading->time_ms < 0) std::abort();
  }
  (void)mote::gateway::parse_status(text);
  if (const auto route = mote::gateway::route_topic("mote", text); route.ok()) {
    if (!mote::gateway::valid_name(route->device)) std::abort();
  }
  if (const auto range = mote::gateway::parse_history_query(text, 1795219200000); range.ok()) {
    if (range->from_ms >= range->to_ms || range->points < 1 || range->points > 100000) {
      std::abort();
    }
  }
  std::string error;
  if (!mote::gateway::parse_gateway_config(text, "fuzz.toml", error).ok() && error.empty()) {
    std::abort();  // every rejection says why
  }
  return 0;
}
