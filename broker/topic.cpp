#include "mote/broker/topic.hpp"

#include <algorithm>

namespace mote::broker {
namespace {

constexpr std::string_view kSharePrefix = "$share/";

bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

}  // namespace

bool is_valid_topic_name(std::string_view topic) {
  return !topic.empty() && topic.size() <= kMaxTopicLength && !has_nul(topic) &&
         topic.find_first_of("+#") == std::string_view::npos;
}

bool is_valid_topic_filter(std::string_view filter) {
  if (filter.empty() || filter.size() > kMaxTopicLength || has_nul(filter)) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = filter.find('/', start);
    const std::string_view level =
        filter.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (level.size() > 1 && level.find_first_of("+#") != std::string_view::npos) return false;
    // §4.7.1.2: '#' is the last character of the filter.
    if (level == "#" && end != std::string_view::npos) return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

std::optional<SharedFilter> parse_shared_filter(std::string_view filter) {
  if (!filter.starts_with(kSharePrefix)) return std::nullopt;
  const std::string_view rest = filter.substr(kSharePrefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return SharedFilter{};
  return SharedFilter{rest.substr(0, slash), rest.substr(slash + 1)};
}

bool is_valid_subscription(std::string_view filter) {
  if (const std::optional<SharedFilter> shared = parse_shared_filter(filter)) {
    // §4.8.2: the share name has no '/', '+' or '#'.
    return !shared->group.empty() && shared->group.find_first_of("+#") == std::string_view::npos &&
           is_valid_topic_filter(shared->filter);
  }
  return is_valid_topic_filter(filter);
}

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

bool topic_matches(std::string_view filter, std::string_view topic) {
  if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
      (filter.front() == '+' || filter.front() == '#')) {
    return false;
  }
  std::size_t f = 0;
  std::size_t t = 0;
  for (;;) {
    const std::size_t f_end = std::min(filter.find('/', f), filter.size());
    const std::string_view level = filter.substr(f, f_end - f);
    if (level == "#") return true;
    const std::size_t t_end = std::min(topic.find('/', t), topic.size());
    if (level != "+" && level != topic.substr(t, t_end - t)) return false;
    const bool filter_done = f_end == filter.size();
    const bool topic_done = t_end == topic.size();
    if (filter_done || topic_done) {
      if (filter_done && topic_done) return true;
      // "a/#" matches "a" (§4.7.1.2: '#' includes the parent level).
      return topic_done && filter.substr(f_end) == "/#";
    }
    f = f_end + 1;
    t = t_end + 1;
  }
}

}  // namespace mote::broker
