#pragma once
// InlineString<N>: up to N chars stored inside the object, always
// NUL-terminated so c_str() can go straight to C APIs. Never allocates.
//
// Text that does not fit is an error value, not a truncation: append() and
// assign() return resource_exhausted and leave the string unchanged, because
// a silently shortened topic name or path is worse than a reported failure.

#include <cstddef>
#include <string_view>

#include "mote/base/assert.hpp"
#include "mote/base/status.hpp"

namespace mote {

template <std::size_t N>
class InlineString {
 public:
  constexpr InlineString() = default;

  // From a string literal: whether it fits is checked at compile time, against
  // the array's size (so a char buffer counts at its full size, less the NUL).
  //   InlineString<16> name = "sensor";
  template <std::size_t kSize>
  constexpr InlineString(const char (&text)[kSize]) {  // NOLINT(google-explicit-constructor)
    static_assert(kSize - 1 <= N, "the literal does not fit in this InlineString");
    while (size_ + 1 < kSize && text[size_] != '\0') {
      data_[size_] = text[size_];
      ++size_;
    }
  }

  [[nodiscard]] constexpr std::size_t size() const { return size_; }
  [[nodiscard]] constexpr bool empty() const { return size_ == 0; }
  [[nodiscard]] static constexpr std::size_t capacity() { return N; }

  [[nodiscard]] constexpr std::string_view view() const { return {data_, size_}; }
  // NOLINTNEXTLINE(google-explicit-constructor): a string_view is what it is.
  constexpr operator std::string_view() const { return view(); }
  [[nodiscard]] constexpr const char* c_str() const { return data_; }
  [[nodiscard]] constexpr const char* data() const { return data_; }
  constexpr const char* begin() const { return data_; }
  constexpr const char* end() const { return data_ + size_; }
  // Precondition: index < size().
  constexpr char operator[](std::size_t index) const {
    MOTE_ASSERT(index < size_);
    return data_[index];
  }

  constexpr Status append(std::string_view text) {
    if (text.size() > N - size_) return Status::resource_exhausted();
    for (char c : text) data_[size_++] = c;
    data_[size_] = '\0';
    return ok_status();
  }
  constexpr Status append(char c) { return append(std::string_view(&c, 1)); }

  constexpr Status assign(std::string_view text) {
    if (text.size() > N) return Status::resource_exhausted();
    // `text` may point into this string, so copy forwards before clearing.
    for (std::size_t i = 0; i < text.size(); ++i) data_[i] = text[i];
    size_ = text.size();
    data_[size_] = '\0';
    return ok_status();
  }

  constexpr void clear() {
    size_ = 0;
    data_[0] = '\0';
  }

 private:
  char data_[N + 1] = {};
  std::size_t size_ = 0;
};

template <std::size_t N, std::size_t kOtherCapacity>
constexpr bool operator==(const InlineString<N>& a, const InlineString<kOtherCapacity>& b) {
  return a.view() == b.view();
}
template <std::size_t N>
constexpr bool operator==(const InlineString<N>& a, std::string_view b) {
  return a.view() == b;
}

}  // namespace mote
