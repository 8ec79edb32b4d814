#pragma once
// Topic levels for the broker's tries. The rules for names and filters
// (validity, shared subscriptions, matching) are the codec's:
// mote/mqtt/topic.hpp.

#include <string_view>
#include <vector>

namespace mote::broker {

// The levels of a topic or filter ("a//b" gives "a", "", "b").
void split_levels(std::string_view topic, std::vector<std::string_view>& levels);

}  // namespace mote::broker
