// Fuzzes the command-line duration parser: any input either is refused or
// parses to a non-negative duration that formats and parses back unchanged.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "duration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = mote::cli::parse_duration(text);
  if (!parsed) return 0;
  if (parsed->count() < 0) std::abort();
  const auto again = mote::cli::parse_duration(mote::cli::format_duration(*parsed));
  if (!again || *again != *parsed) std::abort();
  return 0;
}
