#pragma once
// How readings reach the gateway (docs/gateway.md, "Wire format"): the
// topic or path names the device and the metric, the payload carries the
// value.
//
//   MQTT   <prefix>/<device>/<metric>   payload: 21.43  or  {"value": 21.43,
//                                       "unit": "°C", "time_ms": 1795219200000}
//          <prefix>/<device>/status     payload: online | offline (a node's
//                                       will says offline; retained)
//   CoAP   POST/PUT /<prefix>/<device>/<metric>  the same payloads
//
// time_ms is optional: a node without a clock leaves it out and the
// gateway's receive time is used; a node that buffered readings while the
// gateway was away sends each with the time it was taken.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mote/base/result.hpp"

namespace mote::gateway {

// Device and metric names: 1 to 64 of [A-Za-z0-9_.-] — safe in a topic
// level, a URL path segment, a file name and a Prometheus label.
bool valid_name(std::string_view name);

struct Route {
  enum class Kind : std::uint8_t { reading, status };
  Kind kind = Kind::reading;
  std::string device;
  std::string metric;  // empty for status
};

// Splits "<prefix>/<device>/<metric>" (or ".../status"). invalid_argument for
// anything else: another prefix, a wrong number of levels, a bad name.
Result<Route> route_topic(std::string_view prefix, std::string_view topic);

struct ReadingPayload {
  double value = 0;
  std::string unit;
  std::optional<std::int64_t> time_ms;
};

// A plain number ("21.43", surrounding white space allowed) or a JSON object
// with "value" (number, required), "unit" (string, ≤ 16 bytes) and
// "time_ms" (integer). invalid_argument for anything else, including NaN,
// infinities and payloads over 1 KiB.
Result<ReadingPayload> parse_reading(std::string_view payload);

// "online" / "offline" (also "1"/"0", "true"/"false"); invalid_argument
// otherwise.
Result<bool> parse_status(std::string_view payload);

}  // namespace mote::gateway
