#pragma once
// Text views for code that also runs on firmware.
//
// std::string_view::substr checks its position and throws std::out_of_range
// past the end; that throw path links libstdc++'s exception machinery (and
// its formatting) into images built without exceptions. slice() clamps
// instead, so parsers can cut views with the same meaning and no throw path.

#include <cstddef>
#include <string_view>

namespace mote {

// text[from, from + count), clamped to the text: `from` past the end gives an
// empty view at the end, `count` past the end stops at the end.
[[nodiscard]] constexpr std::string_view slice(std::string_view text, std::size_t from,
                                               std::size_t count = std::string_view::npos) {
  from = from < text.size() ? from : text.size();
  const std::size_t left = text.size() - from;
  return {text.data() + from, count < left ? count : left};
}

}  // namespace mote
