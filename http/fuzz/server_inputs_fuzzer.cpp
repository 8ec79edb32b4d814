// The small parsers the server applies to request fields: percent-decoding,
// path patterns, HTTP dates and byte ranges. Properties: decoding never
// grows and never yields NUL; a parsed date formats and parses back to
// itself; a partial range lies inside the representation; matching never
// leaves stray parameters.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mote/base/assert.hpp"
#include "mote/http/router.hpp"
#include "mote/http/static_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mote::http;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Two strings: before and after the first newline.
  const std::size_t newline = input.find('\n');
  const std::string_view first = input.substr(0, newline);
  const std::string_view second =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  mote::Result<std::string> decoded = percent_decode(input);
  if (decoded.ok()) {
    MOTE_ASSERT(decoded->size() <= input.size());
    MOTE_ASSERT(decoded->find('\0') == std::string::npos);
  }

  if (const std::optional<std::int64_t> date = parse_http_date(input)) {
    if (*date >= 0 && *date < 253402300800) {  // years 1970-9999
      MOTE_ASSERT(parse_http_date(format_http_date(*date)) == date);
    }
  }

  const std::string_view path = path_of_target(input);
  MOTE_ASSERT(path.size() + query_of_target(input).size() <= input.size());

  const std::uint64_t length = size * 37;
  ByteRange range;
  if (parse_byte_range(input, length, range) == RangeOutcome::partial) {
    MOTE_ASSERT(range.length >= 1 && range.first < length && range.length <= length - range.first);
  }

  mote::Result<PathPattern> pattern = PathPattern::parse(first);
  if (pattern.ok()) {
    std::vector<std::pair<std::string, std::string>> params;
    mote::Result<bool> matched = pattern->match(second, params);
    if (!matched.ok() || !*matched) MOTE_ASSERT(params.empty());
  }
  return 0;
}
