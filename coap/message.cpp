#include "mote/coap/message.hpp"

#include <array>

namespace mote::coap {
namespace {

// §3.1: 13 means one extension byte (value - 13), 14 two (value - 269).
constexpr std::uint32_t kOneByteBase = 13;
constexpr std::uint32_t kTwoByteBase = 269;
constexpr std::uint32_t kMaxExtended = kTwoByteBase + 0xffff;

struct OptionHeader {
  std::uint32_t delta = 0;
  std::uint32_t length = 0;
  std::size_t header_size = 0;
};

// Reads an extended delta or length nibble from `bytes` at `*position`.
// nullopt when the nibble is the reserved 15 or the bytes run out.
std::optional<std::uint32_t> read_extended(std::uint32_t nibble, ConstByteSpan bytes,
                                           std::size_t* position) {
  if (nibble < kOneByteBase) return nibble;
  if (nibble == kOneByteBase) {
    if (*position + 1 > bytes.size()) return std::nullopt;
    const std::uint32_t value = std::to_integer<std::uint32_t>(bytes[*position]) + kOneByteBase;
    *position += 1;
    return value;
  }
  if (nibble == 14) {
    if (*position + 2 > bytes.size()) return std::nullopt;
    const std::uint32_t value = load_be16(bytes.data() + *position) + kTwoByteBase;
    *position += 2;
    return value;
  }
  return std::nullopt;  // 15: "Reserved for future use ... MUST be processed as a message format
                        // error"
}

// Decodes the option header at the start of `bytes` (not the payload marker).
std::optional<OptionHeader> read_option_header(ConstByteSpan bytes) {
  if (bytes.empty()) return std::nullopt;
  const auto first = std::to_integer<std::uint32_t>(bytes[0]);
  std::size_t position = 1;
  const std::optional<std::uint32_t> delta = read_extended(first >> 4, bytes, &position);
  if (!delta) return std::nullopt;
  const std::optional<std::uint32_t> length = read_extended(first & 0xf, bytes, &position);
  if (!length) return std::nullopt;
  return OptionHeader{*delta, *length, position};
}

constexpr std::array<OptionDefinition, 20> kOptions = {{
    {OptionNumber::if_match, "If-Match", OptionFormat::opaque, 0, 8, true},
    {OptionNumber::uri_host, "Uri-Host", OptionFormat::string, 1, 255, false},
    {OptionNumber::etag, "ETag", OptionFormat::opaque, 1, 8, true},
    {OptionNumber::if_none_match, "If-None-Match", OptionFormat::empty, 0, 0, false},
    {OptionNumber::observe, "Observe", OptionFormat::uint, 0, 3, false},
    {OptionNumber::uri_port, "Uri-Port", OptionFormat::uint, 0, 2, false},
    {OptionNumber::location_path, "Location-Path", OptionFormat::string, 0, 255, true},
    {OptionNumber::uri_path, "Uri-Path", OptionFormat::string, 0, 255, true},
    {OptionNumber::content_format, "Content-Format", OptionFormat::uint, 0, 2, false},
    {OptionNumber::max_age, "Max-Age", OptionFormat::uint, 0, 4, false},
    {OptionNumber::uri_query, "Uri-Query", OptionFormat::string, 0, 255, true},
    {OptionNumber::accept, "Accept", OptionFormat::uint, 0, 2, false},
    {OptionNumber::location_query, "Location-Query", OptionFormat::string, 0, 255, true},
    {OptionNumber::block2, "Block2", OptionFormat::uint, 0, 3, false},
    {OptionNumber::block1, "Block1", OptionFormat::uint, 0, 3, false},
    {OptionNumber::size2, "Size2", OptionFormat::uint, 0, 4, false},
    {OptionNumber::proxy_uri, "Proxy-Uri", OptionFormat::string, 1, 1034, false},
    {OptionNumber::proxy_scheme, "Proxy-Scheme", OptionFormat::string, 1, 255, false},
    {OptionNumber::size1, "Size1", OptionFormat::uint, 0, 4, false},
    {OptionNumber::no_response, "No-Response", OptionFormat::uint, 0, 1, false},
}};

}  // namespace

const char* to_string(Type type) {
  switch (type) {
    case Type::confirmable: return "CON";
    case Type::non_confirmable: return "NON";
    case Type::acknowledgement: return "ACK";
    case Type::reset: return "RST";
  }
  return "?";
}

std::size_t Code::format(char (&out)[4]) const {
  out[0] = static_cast<char>('0' + code_class());
  out[1] = '.';
  out[2] = static_cast<char>('0' + detail() / 10);
  out[3] = static_cast<char>('0' + detail() % 10);
  return 4;
}

const OptionDefinition* find_option(std::uint16_t number) {
  for (const OptionDefinition& definition : kOptions) {
    if (static_cast<std::uint16_t>(definition.number) == number) return &definition;
  }
  return nullptr;
}

Result<std::uint32_t> Option::as_uint() const {
  if (value.size() > 4) return Status::out_of_range();
  std::uint32_t result = 0;
  for (std::byte b : value) result = (result << 8) | std::to_integer<std::uint32_t>(b);
  return result;
}

void OptionIterator::advance() {
  const std::optional<OptionHeader> header =
      rest_.empty() || rest_[0] == kPayloadMarker ? std::nullopt : read_option_header(rest_);
  if (!header) {
    done_ = true;
    rest_ = {};
    return;
  }
  done_ = false;
  current_.number = static_cast<std::uint16_t>(current_.number + header->delta);
  current_.value = rest_.subspan(header->header_size, header->length);
  rest_ = rest_.subspan(header->header_size + header->length);
}

Result<Message> Message::parse(ConstByteSpan bytes) {
  // §3: "Ver ... Implementations of this specification MUST set this field
  // to 1 (01 binary). Other values are reserved for future versions.
  // Messages with unknown version numbers MUST be silently ignored."
  if (bytes.size() < kHeaderSize) return Status::data_loss();
  const auto first = std::to_integer<std::uint8_t>(bytes[0]);
  if ((first >> 6) != kVersion) return Status::data_loss();
  const std::size_t token_length = first & 0xf;
  // "Lengths 9-15 are reserved, MUST NOT be sent, and MUST be processed as a
  // message format error."
  if (token_length > kMaxTokenSize) return Status::data_loss();
  Message message;
  message.bytes_ = bytes;
  message.type_ = static_cast<Type>((first >> 4) & 0x3);
  message.code_ = Code(std::to_integer<std::uint8_t>(bytes[1]));
  message.message_id_ = load_be16(bytes.data() + 2);
  // §4.1: "An Empty message has the Code field set to 0.00. The Token Length
  // field MUST be set to 0 and bytes of data MUST NOT be present after the
  // Message ID field. If there are any bytes, they MUST be processed as a
  // message format error."
  if (message.code_.is_empty() && bytes.size() != kHeaderSize) return Status::data_loss();
  if (bytes.size() < kHeaderSize + token_length) return Status::data_loss();
  message.token_ = bytes.subspan(kHeaderSize, token_length);

  const std::size_t options_start = kHeaderSize + token_length;
  std::size_t position = options_start;
  std::uint32_t number = 0;
  while (position < bytes.size() && bytes[position] != kPayloadMarker) {
    const std::optional<OptionHeader> header = read_option_header(bytes.subspan(position));
    if (!header) return Status::data_loss();
    number += header->delta;
    if (number > 0xffff) return Status::data_loss();
    position += header->header_size;
    if (header->length > bytes.size() - position) return Status::data_loss();
    position += header->length;
  }
  message.options_ = bytes.subspan(options_start, position - options_start);
  if (position < bytes.size()) {
    // "The presence of a marker followed by a zero-length payload MUST be
    // processed as a message format error."
    if (position + 1 == bytes.size()) return Status::data_loss();
    message.payload_ = bytes.subspan(position + 1);
  }
  return message;
}

std::optional<Option> Message::find(OptionNumber number) const {
  const auto wanted = static_cast<std::uint16_t>(number);
  for (const Option& option : options()) {
    if (option.number == wanted) return option;
    if (option.number > wanted) break;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> Message::find_uint(OptionNumber number) const {
  const std::optional<Option> option = find(number);
  if (!option) return std::nullopt;
  const Result<std::uint32_t> value = option->as_uint();
  if (!value.ok()) return std::nullopt;
  return *value;
}

std::optional<std::uint16_t> Message::first_unrecognised_critical() const {
  std::uint32_t previous = 0x10000;  // no option yet
  for (const Option& option : options()) {
    const bool repeated = option.number == previous;
    previous = option.number;
    if (!is_critical(option.number)) continue;
    const OptionDefinition* definition = find_option(option.number);
    if (definition == nullptr) return option.number;
    // §5.4.3: a length outside the range is treated like an unrecognised
    // option; §5.4.5: so is a repeat of a non-repeatable critical option.
    if (option.value.size() < definition->min_length ||
        option.value.size() > definition->max_length || (repeated && !definition->repeatable)) {
      return option.number;
    }
  }
  return std::nullopt;
}

bool Message::uri_path_is(std::string_view path) const {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  const auto uri_path = static_cast<std::uint16_t>(OptionNumber::uri_path);
  bool any = false;
  for (const Option& option : options()) {
    if (option.number < uri_path) continue;
    if (option.number > uri_path) break;
    if (any) {
      if (path.empty() || path.front() != '/') return false;
      path.remove_prefix(1);
    }
    any = true;
    const std::string_view segment = option.as_string();
    if (slice(path, 0, segment.size()) != segment) return false;
    path.remove_prefix(segment.size());
  }
  return path.empty();
}

Result<std::size_t> Message::uri_path(std::span<char> out) const {
  const auto uri_path = static_cast<std::uint16_t>(OptionNumber::uri_path);
  std::size_t size = 0;
  bool any = false;
  for (const Option& option : options()) {
    if (option.number != uri_path) continue;
    const std::size_t needed = option.value.size() + (any ? 1 : 0);
    if (needed > out.size() - size) return Status::resource_exhausted();
    if (any) out[size++] = '/';
    any = true;
    for (std::byte b : option.value) out[size++] = static_cast<char>(b);
  }
  return size;
}

MessageWriter::MessageWriter(ByteSpan buffer, Type type, Code code, std::uint16_t message_id,
                             ConstByteSpan token)
    : writer_(buffer) {
  if (token.size() > kMaxTokenSize) {
    status_ = Status::invalid_argument();
    return;
  }
  const auto first = static_cast<std::uint8_t>((kVersion << 6) |
                                               (static_cast<unsigned>(type) << 4) | token.size());
  if (!writer_.write_u8(first).ok() || !writer_.write_u8(code.value()).ok() ||
      !writer_.write_be16(message_id).ok() || !writer_.write_bytes(token).ok()) {
    status_ = Status::resource_exhausted();
  }
}

MessageWriter& MessageWriter::add(std::uint16_t number, ConstByteSpan value) {
  if (!status_.ok()) return *this;
  if (payload_written_ || number < last_number_ || value.size() > kMaxExtended) {
    status_ = Status::invalid_argument();
    return *this;
  }
  const auto nibble = [](std::uint32_t v) -> std::uint32_t {
    return v < kOneByteBase ? v : v < kTwoByteBase ? 13 : 14;
  };
  const std::uint32_t delta = number - last_number_;
  const auto length = static_cast<std::uint32_t>(value.size());
  const auto extension = [this](std::uint32_t v) -> Status {
    if (v < kOneByteBase) return ok_status();
    if (v < kTwoByteBase) return writer_.write_u8(static_cast<std::uint8_t>(v - kOneByteBase));
    return writer_.write_be16(static_cast<std::uint16_t>(v - kTwoByteBase));
  };
  Status written =
      writer_.write_u8(static_cast<std::uint8_t>((nibble(delta) << 4) | nibble(length)));
  if (written.ok()) written = extension(delta);
  if (written.ok()) written = extension(length);
  if (written.ok()) written = writer_.write_bytes(value);
  if (!written.ok()) {
    status_ = written;
    return *this;
  }
  last_number_ = number;
  return *this;
}

MessageWriter& MessageWriter::add_path(OptionNumber number, std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    add_string(number, slice(path, 0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return *this;
}

MessageWriter& MessageWriter::set_payload(ConstByteSpan payload) {
  if (!status_.ok()) return *this;
  if (payload_written_) {
    status_ = Status::invalid_argument();
    return *this;
  }
  payload_written_ = true;
  if (payload.empty()) return *this;
  if (payload.size() + 1 > writer_.remaining()) {
    status_ = Status::resource_exhausted();
    return *this;
  }
  static_cast<void>(writer_.write_bytes(ConstByteSpan(&kPayloadMarker, 1)));
  static_cast<void>(writer_.write_bytes(payload));
  return *this;
}

std::size_t MessageWriter::payload_room() const {
  return writer_.remaining() > 0 ? writer_.remaining() - 1 : 0;
}

Result<std::size_t> MessageWriter::finish() const {
  if (!status_.ok()) return status_;
  return writer_.size();
}

Result<std::size_t> encode_copy(const Message& message, ByteSpan out) {
  MessageWriter writer(out, message.type(), message.code(), message.message_id(), message.token());
  for (const Option& option : message.options()) writer.add(option.number, option.value);
  writer.set_payload(message.payload());
  return writer.finish();
}

}  // namespace mote::coap
