#include "mote/broker/topic.hpp"

namespace mote::broker {

void split_levels(std::string_view topic, std::vector<std::string_view>& levels) {
  levels.clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = topic.find('/', start);
    if (end == std::string_view::npos) {
      levels.push_back(topic.substr(start));
      return;
    }
    levels.push_back(topic.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace mote::broker
