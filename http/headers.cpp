#include "mote/http/headers.hpp"

#include "mote/base/text.hpp"

namespace mote::http {
namespace {

constexpr bool is_whitespace(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_whitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_whitespace(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

void TokenList::iterator::advance() {
  for (;;) {
    if (rest_.empty()) {
      done_ = true;
      current_ = {};
      return;
    }
    // The element runs to the first comma outside a quoted string.
    std::size_t end = 0;
    bool quoted = false;
    for (; end < rest_.size(); ++end) {
      const char c = rest_[end];
      if (quoted && c == '\\') {
        ++end;  // quoted-pair: the next character is literal
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        break;
      }
    }
    if (end > rest_.size()) end = rest_.size();  // a trailing backslash
    std::string_view element = trim(slice(rest_, 0, end));
    rest_.remove_prefix(end < rest_.size() ? end + 1 : end);
    // "Recipients MUST accept empty list elements" and ignore them (§5.6.1.2).
    if (!element.empty()) {
      current_ = element;
      return;
    }
  }
}

std::string_view token_of_element(std::string_view element) {
  const std::size_t semicolon = element.find(';');
  return trim(slice(element, 0, semicolon));
}

bool TokenList::contains(std::string_view token) const {
  for (std::string_view element : *this) {
    if (equals_ignore_case(token_of_element(element), token)) return true;
  }
  return false;
}

std::optional<std::string_view> HeaderList::get(std::string_view name) const {
  for (const Header& field : fields_) {
    if (equals_ignore_case(field.name, name)) return field.value;
  }
  return std::nullopt;
}

std::size_t HeaderList::count(std::string_view name) const {
  std::size_t n = 0;
  for (const Header& field : fields_) {
    if (equals_ignore_case(field.name, name)) ++n;
  }
  return n;
}

bool HeaderList::has_token(std::string_view name, std::string_view token) const {
  for (std::string_view value : values(name)) {
    if (TokenList(value).contains(token)) return true;
  }
  return false;
}

}  // namespace mote::http
