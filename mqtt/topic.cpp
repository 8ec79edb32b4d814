#include "mote/mqtt/topic.hpp"

#include <cstddef>
#include <cstdint>

#include "mote/base/text.hpp"
namespace mote::mqtt {

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<std::uint8_t>(text[i]);
    if (lead == 0) return false;  // U+0000 [MQTT-1.5.4-2]
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    std::uint32_t code_point = 0;
    std::uint32_t minimum = 0;
    if ((lead & 0xe0u) == 0xc0u) {
      extra = 1;
      code_point = lead & 0x1fu;
      minimum = 0x80;
    } else if ((lead & 0xf0u) == 0xe0u) {
      extra = 2;
      code_point = lead & 0x0fu;
      minimum = 0x800;
    } else if ((lead & 0xf8u) == 0xf0u) {
      extra = 3;
      code_point = lead & 0x07u;
      minimum = 0x10000;
    } else {
      return false;  // a continuation byte, or 0xf8..0xff
    }
    if (text.size() - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<std::uint8_t>(text[i + k]);
      if ((next & 0xc0u) != 0x80u) return false;
      code_point = (code_point << 6) | (next & 0x3fu);
    }
    if (code_point < minimum) return false;                            // overlong
    if (code_point > 0x10ffffu) return false;                          // RFC 3629
    if (code_point >= 0xd800u && code_point <= 0xdfffu) return false;  // [MQTT-1.5.4-1]
    i += extra + 1;
  }
  return true;
}

bool is_valid_topic_name(std::string_view name) {
  if (name.empty()) return false;
  return name.find_first_of("+#") == std::string_view::npos;
}

namespace {

constexpr std::string_view kSharePrefix = "$share/";

bool is_valid_plain_filter(std::string_view filter) {
  if (filter.empty()) return false;
  for (std::size_t i = 0; i < filter.size(); ++i) {
    const char c = filter[i];
    const bool level_start = i == 0 || filter[i - 1] == '/';
    const bool level_end = i + 1 == filter.size() || filter[i + 1] == '/';
    if (c == '#' && !(level_start && i + 1 == filter.size())) return false;
    if (c == '+' && !(level_start && level_end)) return false;
  }
  return true;
}

}  // namespace

bool is_valid_topic_filter(std::string_view filter, bool shared_allowed) {
  if (shared_allowed && filter.starts_with(kSharePrefix)) {
    const std::string_view rest = slice(filter, kSharePrefix.size());
    const std::size_t slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos) return false;
    const std::string_view share_name = slice(rest, 0, slash);
    if (share_name.find_first_of("+#") != std::string_view::npos) return false;
    return is_valid_plain_filter(slice(rest, slash + 1));
  }
  return is_valid_plain_filter(filter);
}

SharedFilter split_shared_filter(std::string_view filter) {
  if (!filter.starts_with(kSharePrefix)) return {{}, filter};
  const std::string_view rest = slice(filter, kSharePrefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return {{}, filter};
  return {slice(rest, 0, slash), slice(rest, slash + 1)};
}

bool topic_matches(std::string_view filter, std::string_view name) {
  // §4.7.2: a filter starting with a wildcard does not match "$..." names.
  if (!name.empty() && name.front() == '$' && !filter.empty() &&
      (filter.front() == '+' || filter.front() == '#')) {
    return false;
  }
  std::size_t f = 0;
  std::size_t n = 0;
  for (;;) {
    const std::size_t f_end = filter.find('/', f);
    const std::string_view f_level = slice(filter, f, f_end - f);
    if (f_level == "#") return true;  // also matches the parent level (§4.7.1.2)
    const std::size_t n_end = name.find('/', n);
    const std::string_view n_level = slice(name, n, n_end - n);
    if (f_level != "+" && f_level != n_level) return false;
    const bool f_last = f_end == std::string_view::npos;
    const bool n_last = n_end == std::string_view::npos;
    if (n_last) {
      if (f_last) return true;
      // "a/#" matches "a": the filter's only remaining level is '#'.
      return slice(filter, f_end + 1) == "#";
    }
    if (f_last) return false;
    f = f_end + 1;
    n = n_end + 1;
  }
}

}  // namespace mote::mqtt
