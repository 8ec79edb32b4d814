#pragma once
// Topic names and topic filters (MQTT 5 §4.7, the same rules in 3.1.1 §4.7).
//
//   name:   "sensors/kitchen/temperature"  (no wildcards; levels may be empty)
//   filter: "sensors/+/temperature", "sensors/#", "#", "+/+"
//   shared: "$share/{group}/{filter}"       (MQTT 5 §4.8.2)
//
// Levels are split on '/'. An empty topic or filter is invalid; so is a NUL
// character anywhere (§1.5.4). UTF-8 well-formedness is the codec's job.

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace mote::broker {

inline constexpr std::size_t kMaxTopicLength = 65535;  // a UTF-8 string's length field

// A topic name a client may publish to: not empty, no '+' or '#', no NUL.
bool is_valid_topic_name(std::string_view topic);

// A topic filter a client may subscribe to: '#' only as the whole last
// level, '+' only as a whole level. Shared filters are checked with
// parse_shared_filter first.
bool is_valid_topic_filter(std::string_view filter);

// "$share/group/filter" split into its parts.
struct SharedFilter {
  std::string_view group;   // not empty, no wildcards
  std::string_view filter;  // a valid topic filter
};

// nullopt when `filter` does not start with "$share/"; a SharedFilter with
// an empty group or filter when it does but is malformed (callers reject it).
std::optional<SharedFilter> parse_shared_filter(std::string_view filter);

// True when `filter` (a whole subscription, "$share/..." included) is valid.
bool is_valid_subscription(std::string_view filter);

// The levels of a topic or filter ("a//b" gives "a", "", "b").
void split_levels(std::string_view topic, std::vector<std::string_view>& levels);

// Whether `topic` matches `filter` (both valid; the filter not shared).
// Topics starting with '$' are not matched by a filter starting with a
// wildcard (§4.7.2).
bool topic_matches(std::string_view filter, std::string_view topic);

}  // namespace mote::broker
