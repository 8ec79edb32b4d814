#pragma once
// Header fields as the parser hands them out: name/value views into the
// caller's buffer, looked up case-insensitively (RFC 9110 §5.1), with the
// list syntax of RFC 9110 §5.6.1 for fields such as Connection, Upgrade and
// Transfer-Encoding. Freestanding; nothing here copies or allocates.
//
//   if (head.headers.has_token("Connection", "upgrade") &&
//       head.headers.has_token("Upgrade", "websocket")) { ... }
//   std::optional<std::string_view> key = head.headers.get("Sec-WebSocket-Key");
//   head.headers.for_each_token("Sec-WebSocket-Protocol", [&](std::string_view protocol) { ... });

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace mote::http {

// ASCII case-insensitive equality (field names, tokens, methods are ASCII).
[[nodiscard]] constexpr char to_lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
[[nodiscard]] constexpr bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower_ascii(a[i]) != to_lower_ascii(b[i])) return false;
  }
  return true;
}

namespace internal {

inline constexpr unsigned char kTokenChar = 1;
inline constexpr unsigned char kFieldValueChar = 2;

// One byte of flags per character: parsers look each byte up once instead
// of comparing it against a list.
struct CharClasses {
  unsigned char flags[256] = {};
  constexpr CharClasses() {
    for (int c = 0; c < 256; ++c) {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      bool token = alnum;
      for (char extra : std::string_view("!#$%&'*+-.^_`|~")) {
        if (c == static_cast<unsigned char>(extra)) token = true;
      }
      if (token) flags[c] |= kTokenChar;
      if (c == '\t' || (c >= 0x20 && c != 0x7f)) flags[c] |= kFieldValueChar;
    }
  }
};
inline constexpr CharClasses kCharClasses{};

}  // namespace internal

// tchar (RFC 9110 §5.6.2): the characters of tokens, field names and methods.
[[nodiscard]] constexpr bool is_token_char(char c) {
  return (internal::kCharClasses.flags[static_cast<unsigned char>(c)] & internal::kTokenChar) != 0;
}
[[nodiscard]] constexpr bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

// field-vchar, SP or HTAB (RFC 9110 §5.5): what a field value may hold. No
// CR, LF, NUL or other controls, so a value can never end a line early.
[[nodiscard]] constexpr bool is_field_value_char(char c) {
  return (internal::kCharClasses.flags[static_cast<unsigned char>(c)] &
          internal::kFieldValueChar) != 0;
}
[[nodiscard]] constexpr bool is_field_value(std::string_view text) {
  for (char c : text) {
    if (!is_field_value_char(c)) return false;
  }
  return true;
}

// One field line: views into the received bytes, the value without its
// leading and trailing whitespace (RFC 9112 §5.1).
struct Header {
  std::string_view name;
  std::string_view value;
};

// The elements of a comma-separated list (RFC 9110 §5.6.1) in one or more
// field values: empty elements are skipped, each element is trimmed of
// whitespace, and commas inside quoted strings do not split.
//   for (std::string_view element : TokenList("close, Upgrade")) -> "close", "Upgrade"
class TokenList {
 public:
  class iterator {
   public:
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    std::string_view operator*() const { return current_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      advance();
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) {
      return a.done_ == b.done_ && (a.done_ || a.rest_.data() == b.rest_.data());
    }

   private:
    friend class TokenList;
    explicit iterator(std::string_view text) : rest_(text), done_(false) { advance(); }
    void advance();

    std::string_view rest_;
    std::string_view current_;
    bool done_ = true;
  };

  constexpr explicit TokenList(std::string_view text) : text_(text) {}
  [[nodiscard]] iterator begin() const { return iterator(text_); }
  [[nodiscard]] iterator end() const { return {}; }
  // Whether an element equals `token`, ignoring case and any parameters after
  // a ';' ("chunked" matches "Chunked" and "chunked;x=1").
  [[nodiscard]] bool contains(std::string_view token) const;

 private:
  std::string_view text_;
};

// An element's token: the part before any ';' parameters, trimmed.
[[nodiscard]] std::string_view token_of_element(std::string_view element);

// The header fields of one message, in the order received. A view: the
// fields live in the parser's storage and point into the caller's buffer.
class HeaderList {
 public:
  using iterator = const Header*;

  constexpr HeaderList() = default;
  constexpr explicit HeaderList(std::span<const Header> fields) : fields_(fields) {}

  [[nodiscard]] constexpr std::size_t size() const { return fields_.size(); }
  [[nodiscard]] constexpr bool empty() const { return fields_.empty(); }
  [[nodiscard]] constexpr iterator begin() const { return fields_.data(); }
  [[nodiscard]] constexpr iterator end() const { return fields_.data() + fields_.size(); }
  [[nodiscard]] constexpr const Header& operator[](std::size_t index) const {
    return fields_[index];
  }

  // The value of the first field line named `name` (any case).
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
  [[nodiscard]] bool contains(std::string_view name) const { return get(name).has_value(); }
  // How many field lines are named `name`.
  [[nodiscard]] std::size_t count(std::string_view name) const;
  // Whether any `name` field line's list holds `token` (see TokenList::contains):
  //   has_token("Connection", "upgrade")
  [[nodiscard]] bool has_token(std::string_view name, std::string_view token) const;

  // The values of every field line named `name`, in order.
  class Values {
   public:
    class iterator {
     public:
      using value_type = std::string_view;
      using difference_type = std::ptrdiff_t;
      iterator() = default;
      std::string_view operator*() const { return position_->value; }
      iterator& operator++() {
        position_ = next(position_ + 1);
        return *this;
      }
      iterator operator++(int) {
        iterator before = *this;
        ++*this;
        return before;
      }
      friend bool operator==(const iterator& a, const iterator& b) {
        return a.position_ == b.position_;
      }

     private:
      friend class Values;
      iterator(const Values* values, const Header* position)
          : values_(values), position_(next(position)) {}
      const Header* next(const Header* from) const {
        const Header* end = values_->fields_.data() + values_->fields_.size();
        while (from != end && !equals_ignore_case(from->name, values_->name_)) {
          ++from;
        }
        return from;
      }
      const Values* values_ = nullptr;
      const Header* position_ = nullptr;
    };
    Values(std::span<const Header> fields, std::string_view name) : fields_(fields), name_(name) {}
    [[nodiscard]] iterator begin() const { return {this, fields_.data()}; }
    [[nodiscard]] iterator end() const { return {this, fields_.data() + fields_.size()}; }

   private:
    std::span<const Header> fields_;
    std::string_view name_;
  };
  [[nodiscard]] Values values(std::string_view name) const { return {fields_, name}; }

  // Calls f(element) for each list element of every `name` field line, in
  // order (a list may be split over several field lines, RFC 9110 §5.3).
  template <typename F>
  void for_each_token(std::string_view name, F&& f) const {
    for (std::string_view value : values(name)) {
      for (std::string_view element : TokenList(value)) f(element);
    }
  }

 private:
  std::span<const Header> fields_;
};

}  // namespace mote::http
