#pragma once
// Text rules of MQTT: UTF-8 Encoded Strings (§1.5.4), Topic Names and Topic
// Filters (§4.7), shared subscriptions (§4.8.2) and matching a name against a
// filter. Freestanding, no allocation.

#include <string_view>

namespace mote::mqtt {

// §1.5.4: well-formed UTF-8 (RFC 3629: no overlong forms, nothing above
// U+10FFFF), no surrogates U+D800..U+DFFF [MQTT-1.5.4-1], no U+0000
// [MQTT-1.5.4-2]. Control characters and non-characters are allowed: the
// spec says senders SHOULD NOT use them and receivers MAY refuse them.
[[nodiscard]] bool is_valid_utf8(std::string_view text);

// §4.7.3: at least one character, valid UTF-8 (the caller checks that; the
// codec already has) and no wildcard ('+' or '#') [MQTT-3.3.2-2].
[[nodiscard]] bool is_valid_topic_name(std::string_view name);

// §4.7.1: at least one character; '#' only alone or after '/' and last
// [MQTT-4.7.1-1]; '+' only as a whole level [MQTT-4.7.1-2]. With
// `shared_allowed` (MQTT 5), a filter starting with "$share/" must be
// "$share/{ShareName}/{filter}" with a non-empty ShareName free of '/', '+'
// and '#' and a valid filter after it (§4.8.2).
[[nodiscard]] bool is_valid_topic_filter(std::string_view filter, bool shared_allowed = true);

// A shared subscription's parts (§4.8.2); `share_name` is empty for an
// ordinary filter. Precondition: is_valid_topic_filter(filter, true).
struct SharedFilter {
  std::string_view share_name;
  std::string_view filter;
};
[[nodiscard]] SharedFilter split_shared_filter(std::string_view filter);

// §4.7: whether the Topic Name `name` matches `filter` (both valid; for a
// shared subscription pass the filter part). Wildcards at the start of a
// filter do not match names starting with '$' (§4.7.2).
[[nodiscard]] bool topic_matches(std::string_view filter, std::string_view name);

}  // namespace mote::mqtt
