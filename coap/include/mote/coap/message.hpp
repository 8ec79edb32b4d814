#pragma once
// CoAP messages (RFC 7252 §3): a zero-copy view over received bytes and an
// encoder into a caller's buffer. Freestanding, no heap.
//
//   Result<Message> m = Message::parse(bytes);   // every format rule checked
//   for (Option option : m->options()) ...       // cannot fail once parsed
//
//   MessageWriter w(buffer, Type::confirmable, codes::kGet, id, token);
//   w.add_string(OptionNumber::uri_path, "sensors");
//   w.add_uint(OptionNumber::content_format, 0);
//   w.set_payload(body);
//   Result<std::size_t> size = w.finish();
//
// Errors: parse() returns data_loss for a malformed message (§3: version,
// token length 9-15, option nibble 15 outside the payload marker, a payload
// marker with nothing after it, an option number past 65535, an empty
// message with anything after the message ID, truncation). The encoder
// returns resource_exhausted when the buffer is too small and
// invalid_argument for options out of order or longer than 65804 bytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/base/text.hpp"

namespace mote::coap {

// §3: "Implementations of this specification MUST set this field to 1".
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 4;
inline constexpr std::size_t kMaxTokenSize = 8;
inline constexpr std::byte kPayloadMarker{0xff};
// §4.6: "a CoAP message ... SHOULD fit within a single IP packet"; 1152 is
// the size the RFC derives for an IPv6 path MTU of 1280.
inline constexpr std::size_t kMaxMessageSize = 1152;

enum class Type : std::uint8_t {
  confirmable = 0,
  non_confirmable = 1,
  acknowledgement = 2,
  reset = 3,
};
const char* to_string(Type type);

// A code c.dd (§3, §12.1): the class in the top 3 bits, the detail below.
class Code {
 public:
  constexpr Code() = default;
  constexpr explicit Code(std::uint8_t value) : value_(value) {}
  constexpr Code(std::uint8_t code_class, std::uint8_t detail)
      : value_(static_cast<std::uint8_t>((code_class << 5) | (detail & 0x1f))) {}

  [[nodiscard]] constexpr std::uint8_t value() const { return value_; }
  [[nodiscard]] constexpr std::uint8_t code_class() const { return value_ >> 5; }
  [[nodiscard]] constexpr std::uint8_t detail() const { return value_ & 0x1f; }
  [[nodiscard]] constexpr bool is_empty() const { return value_ == 0; }
  [[nodiscard]] constexpr bool is_request() const { return code_class() == 0 && value_ != 0; }
  [[nodiscard]] constexpr bool is_response() const {
    return code_class() >= 2 && code_class() <= 5;
  }
  [[nodiscard]] constexpr bool is_success() const { return code_class() == 2; }
  // "2.05"; `out` needs 4 characters.
  std::size_t format(char (&out)[4]) const;

  friend constexpr bool operator==(Code, Code) = default;

 private:
  std::uint8_t value_ = 0;
};

namespace codes {
inline constexpr Code kEmpty{0, 0};
// Methods (§12.1.1; FETCH/PATCH/iPATCH from RFC 8132 are not handled).
inline constexpr Code kGet{0, 1};
inline constexpr Code kPost{0, 2};
inline constexpr Code kPut{0, 3};
inline constexpr Code kDelete{0, 4};
// Responses (§12.1.2, RFC 7959 §2.9).
inline constexpr Code kCreated{2, 1};
inline constexpr Code kDeleted{2, 2};
inline constexpr Code kValid{2, 3};
inline constexpr Code kChanged{2, 4};
inline constexpr Code kContent{2, 5};
inline constexpr Code kContinue{2, 31};
inline constexpr Code kBadRequest{4, 0};
inline constexpr Code kUnauthorized{4, 1};
inline constexpr Code kBadOption{4, 2};
inline constexpr Code kForbidden{4, 3};
inline constexpr Code kNotFound{4, 4};
inline constexpr Code kMethodNotAllowed{4, 5};
inline constexpr Code kNotAcceptable{4, 6};
inline constexpr Code kRequestEntityIncomplete{4, 8};
inline constexpr Code kPreconditionFailed{4, 12};
inline constexpr Code kRequestEntityTooLarge{4, 13};
inline constexpr Code kUnsupportedContentFormat{4, 15};
inline constexpr Code kInternalServerError{5, 0};
inline constexpr Code kNotImplemented{5, 1};
inline constexpr Code kBadGateway{5, 2};
inline constexpr Code kServiceUnavailable{5, 3};
inline constexpr Code kGatewayTimeout{5, 4};
inline constexpr Code kProxyingNotSupported{5, 5};
}  // namespace codes

// Registered option numbers (§12.2, RFC 7641, RFC 7959, RFC 7967).
enum class OptionNumber : std::uint16_t {
  if_match = 1,
  uri_host = 3,
  etag = 4,
  if_none_match = 5,
  observe = 6,
  uri_port = 7,
  location_path = 8,
  uri_path = 11,
  content_format = 12,
  max_age = 14,
  uri_query = 15,
  accept = 17,
  location_query = 20,
  block2 = 23,
  block1 = 27,
  size2 = 28,
  proxy_uri = 35,
  proxy_scheme = 39,
  size1 = 60,
  no_response = 258,
};

// §5.4.6: bit 0 critical, bit 1 unsafe, bits 1-4 all set: NoCacheKey.
constexpr bool is_critical(std::uint16_t number) { return (number & 1) != 0; }
constexpr bool is_unsafe(std::uint16_t number) { return (number & 2) != 0; }
constexpr bool is_no_cache_key(std::uint16_t number) { return (number & 0x1e) == 0x1c; }

// §3.2 option value formats.
enum class OptionFormat : std::uint8_t { empty, opaque, uint, string };

// What §5.10 (and the later RFCs) define for a registered option.
struct OptionDefinition {
  OptionNumber number;
  const char* name;
  OptionFormat format;
  std::uint16_t min_length;
  std::uint16_t max_length;
  bool repeatable;
};
// nullptr for an option number this implementation does not know.
const OptionDefinition* find_option(std::uint16_t number);

// Content-Format identifiers (§12.3, RFC 7252 registry as of RFC 8428).
enum class ContentFormat : std::uint16_t {
  text_plain = 0,
  link_format = 40,
  xml = 41,
  octet_stream = 42,
  exi = 47,
  json = 50,
  cbor = 60,
  senml_json = 110,
  senml_cbor = 112,
};

// A token kept beyond the message it came in (§5.3.1: 0 to 8 bytes).
struct Token {
  std::array<std::byte, kMaxTokenSize> data{};
  std::uint8_t size = 0;

  static Token from(ConstByteSpan bytes) {
    Token token;
    token.size =
        static_cast<std::uint8_t>(bytes.size() < kMaxTokenSize ? bytes.size() : kMaxTokenSize);
    for (std::size_t i = 0; i < token.size; ++i) token.data[i] = bytes[i];
    return token;
  }
  [[nodiscard]] ConstByteSpan bytes() const { return ConstByteSpan(data.data(), size); }
  [[nodiscard]] bool matches(ConstByteSpan other) const {
    if (other.size() != size) return false;
    for (std::size_t i = 0; i < size; ++i) {
      if (other[i] != data[i]) return false;
    }
    return true;
  }
  friend bool operator==(const Token&, const Token&) = default;
};

// One option as it appears in a message; `value` points into the message.
struct Option {
  std::uint16_t number = 0;
  ConstByteSpan value;

  [[nodiscard]] std::string_view as_string() const { return as_string_view(value); }
  // §3.2: a uint in network order without leading zeros (accepted here if
  // present); out_of_range for more than 4 bytes.
  [[nodiscard]] Result<std::uint32_t> as_uint() const;
};

// Walks the options of a parsed message. The bytes were checked by parse(),
// so iteration cannot fail.
class OptionIterator {
 public:
  using value_type = Option;
  using difference_type = std::ptrdiff_t;

  OptionIterator() = default;
  explicit OptionIterator(ConstByteSpan rest) : rest_(rest) { advance(); }

  const Option& operator*() const { return current_; }
  const Option* operator->() const { return &current_; }
  OptionIterator& operator++() {
    advance();
    return *this;
  }
  OptionIterator operator++(int) {
    OptionIterator old = *this;
    advance();
    return old;
  }
  friend bool operator==(const OptionIterator& a, const OptionIterator& b) {
    return a.done_ == b.done_ && (a.done_ || a.rest_.data() == b.rest_.data());
  }

 private:
  void advance();

  ConstByteSpan rest_;
  Option current_;
  bool done_ = true;
};

class OptionRange {
 public:
  OptionRange() = default;
  explicit OptionRange(ConstByteSpan bytes) : bytes_(bytes) {}
  [[nodiscard]] OptionIterator begin() const { return OptionIterator(bytes_); }
  [[nodiscard]] OptionIterator end() const { return {}; }
  [[nodiscard]] ConstByteSpan bytes() const { return bytes_; }

 private:
  ConstByteSpan bytes_;
};

// A checked view of one message. Spans point into the parsed buffer, which
// must outlive the view.
class Message {
 public:
  static Result<Message> parse(ConstByteSpan bytes);

  [[nodiscard]] Type type() const { return type_; }
  [[nodiscard]] Code code() const { return code_; }
  [[nodiscard]] std::uint16_t message_id() const { return message_id_; }
  [[nodiscard]] ConstByteSpan token() const { return token_; }
  [[nodiscard]] OptionRange options() const { return OptionRange(options_); }
  [[nodiscard]] ConstByteSpan payload() const { return payload_; }
  [[nodiscard]] ConstByteSpan bytes() const { return bytes_; }

  // The first option with this number.
  [[nodiscard]] std::optional<Option> find(OptionNumber number) const;
  // The first option with this number as a uint; nullopt if absent or not a uint.
  [[nodiscard]] std::optional<std::uint32_t> find_uint(OptionNumber number) const;
  [[nodiscard]] bool has(OptionNumber number) const { return find(number).has_value(); }

  // §5.4.1: the first critical option the receiver does not recognise
  // (unknown number, or a known one whose length is outside its range, or a
  // non-repeatable one repeated: §5.4.3, §5.4.5). nullopt when all are fine.
  [[nodiscard]] std::optional<std::uint16_t> first_unrecognised_critical() const;

  // Whether the Uri-Path options equal `path` ("a/b", leading '/' ignored).
  [[nodiscard]] bool uri_path_is(std::string_view path) const;
  // Writes the Uri-Path options as "a/b" into `out`; resource_exhausted if
  // it does not fit.
  Result<std::size_t> uri_path(std::span<char> out) const;

 private:
  ConstByteSpan bytes_;
  ConstByteSpan token_;
  ConstByteSpan options_;
  ConstByteSpan payload_;
  std::uint16_t message_id_ = 0;
  Type type_ = Type::confirmable;
  Code code_;
};

// The minimal-length encoding of a uint option value (§3.2): 0 is empty.
struct UintBytes {
  std::byte data[4] = {};
  std::uint8_t size = 0;
  [[nodiscard]] ConstByteSpan bytes() const { return ConstByteSpan(data, size); }
};
constexpr UintBytes encode_uint(std::uint32_t value) {
  UintBytes out;
  std::uint8_t size = value == 0          ? 0
                      : value <= 0xff     ? 1
                      : value <= 0xffff   ? 2
                      : value <= 0xffffff ? 3
                                          : 4;
  out.size = size;
  for (std::uint8_t i = 0; i < size; ++i) {
    out.data[i] = static_cast<std::byte>(value >> (8 * (size - 1 - i)));
  }
  return out;
}

// Encodes a message into a caller's buffer in one pass. Options must be
// added in ascending number order (repeats allowed); the first error sticks
// and finish() returns it.
class MessageWriter {
 public:
  MessageWriter(ByteSpan buffer, Type type, Code code, std::uint16_t message_id,
                ConstByteSpan token);

  MessageWriter& add(std::uint16_t number, ConstByteSpan value);
  MessageWriter& add(OptionNumber number, ConstByteSpan value) {
    return add(static_cast<std::uint16_t>(number), value);
  }
  MessageWriter& add_uint(OptionNumber number, std::uint32_t value) {
    return add(number, encode_uint(value).bytes());
  }
  MessageWriter& add_string(OptionNumber number, std::string_view value) {
    return add(number, bytes_of(value));
  }
  MessageWriter& add_empty(OptionNumber number) { return add(number, ConstByteSpan()); }
  // One Uri-Path (or Location-Path) option per segment of "a/b/c"; a leading
  // '/' is skipped, an empty path adds nothing.
  MessageWriter& add_path(OptionNumber number, std::string_view path);
  // Writes the payload marker and the payload (nothing when it is empty,
  // §3: "the payload marker ... MUST NOT" precede a zero-length payload).
  // Ends the options.
  MessageWriter& set_payload(ConstByteSpan payload);
  // Room for the payload that set_payload() would need, after the marker.
  [[nodiscard]] std::size_t payload_room() const;

  [[nodiscard]] Status status() const { return status_; }
  [[nodiscard]] std::uint16_t last_option() const { return last_number_; }
  // The message's size, or the first error.
  Result<std::size_t> finish() const;

 private:
  ByteWriter writer_;
  Status status_;
  std::uint16_t last_number_ = 0;
  bool payload_written_ = false;
};

// Builds a message with the header of `message` (optionally another type,
// code, message ID) and the same options and payload, byte for byte.
Result<std::size_t> encode_copy(const Message& message, ByteSpan out);

}  // namespace mote::coap
