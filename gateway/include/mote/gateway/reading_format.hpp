#pragma once
// The node side of the gateway's wire format (docs/gateway.md): the topic
// a reading goes to and its JSON payload. Freestanding and header-only, so
// Linux nodes and firmware nodes format readings the same way; the gateway
// parses them with ingest.hpp.
//
//   char topic[96];
//   format_topic(topic, "mote", "greenhouse", "temperature");  // "mote/greenhouse/temperature"
//   std::byte payload[96];
//   format_reading(payload, 21437, "°C", 1795219200000);
//     // {"value":21.437,"unit":"°C","time_ms":1795219200000}
//
// Values are given in thousandths (hal::MilliCelsius is one), so no
// floating-point printf is needed on a board whose libc has none.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"

namespace mote::gateway {

namespace internal {

class TextWriter {
 public:
  explicit TextWriter(std::span<char> out) : out_(out) {}
  void text(std::string_view part) {
    for (const char c : part) put(c);
  }
  void put(char c) {
    if (size_ < out_.size()) {
      out_[size_] = c;
    } else {
      overflow_ = true;
    }
    ++size_;
  }
  void unsigned_decimal(std::uint64_t value, int min_digits = 1) {
    char digits[20];
    int count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    for (int i = count; i < min_digits; ++i) put('0');
    while (count > 0) put(digits[--count]);
  }
  // -21437 -> "-21.437"
  void thousandths(std::int64_t value) {
    std::uint64_t magnitude =
        value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
    if (value < 0) put('-');
    unsigned_decimal(magnitude / 1000);
    put('.');
    unsigned_decimal(magnitude % 1000, 3);
  }
  Result<std::size_t> finish() const {
    if (overflow_) return Status::resource_exhausted();
    return size_;
  }

 private:
  std::span<char> out_;
  std::size_t size_ = 0;
  bool overflow_ = false;
};

// Names as ingest.hpp's valid_name(): 1..64 of [A-Za-z0-9_.-].
constexpr bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace internal

// "<prefix>/<device>/<metric>" into `out` (not NUL-terminated); the length.
// invalid_argument for a name the gateway would refuse; resource_exhausted
// when `out` is too small.
inline Result<std::size_t> format_topic(std::span<char> out, std::string_view prefix,
                                        std::string_view device, std::string_view metric) {
  if (prefix.empty() || !internal::is_valid_name(device) ||
      (metric != "status" && !internal::is_valid_name(metric))) {
    return Status::invalid_argument();
  }
  internal::TextWriter writer(out);
  writer.text(prefix);
  writer.put('/');
  writer.text(device);
  writer.put('/');
  writer.text(metric);
  return writer.finish();
}

// {"value":<milli/1000>,"unit":"<unit>","time_ms":<time>}; "unit" is left
// out when empty, "time_ms" when nullopt (the gateway then uses its receive
// time). invalid_argument for a unit over 16 bytes or with characters JSON
// would need to escape; resource_exhausted when `out` is too small.
inline Result<std::size_t> format_reading(ByteSpan out, std::int64_t milli_value,
                                          std::string_view unit,
                                          std::optional<std::int64_t> time_ms) {
  if (unit.size() > 16) return Status::invalid_argument();
  for (const char c : unit) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return Status::invalid_argument();
    }
  }
  if (time_ms && *time_ms < 0) return Status::invalid_argument();
  internal::TextWriter writer(std::span<char>(reinterpret_cast<char*>(out.data()), out.size()));
  writer.text("{\"value\":");
  writer.thousandths(milli_value);
  if (!unit.empty()) {
    writer.text(R"(,"unit":")");
    writer.text(unit);
    writer.put('"');
  }
  if (time_ms) {
    writer.text(",\"time_ms\":");
    writer.unsigned_decimal(static_cast<std::uint64_t>(*time_ms));
  }
  writer.put('}');
  return writer.finish();
}

}  // namespace mote::gateway
