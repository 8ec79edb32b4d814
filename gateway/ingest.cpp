#include "mote/gateway/ingest.hpp"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace mote::gateway {
namespace {

constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kMaxUnitLength = 16;
constexpr std::size_t kMaxPayload = 1024;

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

// Splits off the text up to the next '/', or all of it.
std::string_view next_level(std::string_view& rest) {
  const std::size_t slash = rest.find('/');
  std::string_view level = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  return level;
}

}  // namespace

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<Route> route_topic(std::string_view prefix, std::string_view topic) {
  if (topic.size() <= prefix.size() + 1 || topic.substr(0, prefix.size()) != prefix ||
      topic[prefix.size()] != '/') {
    return Status::invalid_argument();
  }
  std::string_view rest = topic.substr(prefix.size() + 1);
  const std::string_view device = next_level(rest);
  const bool has_metric = !rest.empty();
  const std::string_view metric = next_level(rest);
  if (!has_metric || !rest.empty() || !valid_name(device) || !valid_name(metric)) {
    return Status::invalid_argument();
  }
  Route route;
  route.device = std::string(device);
  if (metric == "status") {
    route.kind = Route::Kind::status;
  } else {
    route.metric = std::string(metric);
  }
  return route;
}

Result<ReadingPayload> parse_reading(std::string_view payload) {
  if (payload.size() > kMaxPayload) return Status::invalid_argument();
  const std::string_view text = trim(payload);
  if (text.empty()) return Status::invalid_argument();
  ReadingPayload reading;
  if (text.front() != '{') {
    const char* end = text.data() + text.size();
    const auto [ptr, error] = std::from_chars(text.data(), end, reading.value);
    if (error != std::errc() || ptr != end || !std::isfinite(reading.value)) {
      return Status::invalid_argument();
    }
    return reading;
  }
  // allow_exceptions = false: a malformed document becomes a discarded value
  // instead of an exception (the build has none).
  const nlohmann::json document = nlohmann::json::parse(text, nullptr, false);
  if (document.is_discarded() || !document.is_object()) return Status::invalid_argument();
  const auto value = document.find("value");
  if (value == document.end() || !value->is_number()) return Status::invalid_argument();
  reading.value = value->get<double>();
  if (!std::isfinite(reading.value)) return Status::invalid_argument();
  if (const auto unit = document.find("unit"); unit != document.end()) {
    if (!unit->is_string()) return Status::invalid_argument();
    reading.unit = unit->get<std::string>();
    if (reading.unit.size() > kMaxUnitLength) return Status::invalid_argument();
  }
  if (const auto time = document.find("time_ms"); time != document.end()) {
    if (!time->is_number_integer()) return Status::invalid_argument();
    reading.time_ms = time->get<std::int64_t>();
    if (*reading.time_ms < 0) return Status::invalid_argument();
  }
  return reading;
}

Result<bool> parse_status(std::string_view payload) {
  const std::string_view text = trim(payload);
  if (text == "online" || text == "1" || text == "true") return true;
  if (text == "offline" || text == "0" || text == "false") return false;
  return Status::invalid_argument();
}

}  // namespace mote::gateway
