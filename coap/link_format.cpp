#include "mote/coap/link_format.hpp"

#include <array>

#include "mote/coap/message.hpp"

namespace mote::coap {
namespace {

// RFC 6690 §2 parmname: 1*( ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" /
// "-" / "." / "^" / "_" / "`" / "|" / "~" ) plus "*" for ext-name-star.
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$&+-.^_`|~*").find(c) != std::string_view::npos;
}

// ptoken characters (RFC 5988 §5): the visible ASCII except separators.
bool is_token_char(char c) {
  return c > 0x20 && c < 0x7f && std::string_view("\",;<>\\").find(c) == std::string_view::npos;
}

// Scans one parameter "name[=value]" at the start of `s`; returns its length
// or nullopt when malformed.
std::optional<std::size_t> scan_parameter(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_name_char(s[i])) ++i;
  if (i == 0) return std::nullopt;
  if (i == s.size() || s[i] != '=') return i;
  ++i;
  if (i < s.size() && s[i] == '"') {
    ++i;
    for (; i < s.size(); ++i) {
      if (s[i] == '\\') {
        ++i;
        continue;
      }
      if (s[i] == '"') return i + 1;
    }
    return std::nullopt;
  }
  const std::size_t start = i;
  while (i < s.size() && is_token_char(s[i])) ++i;
  if (i == start) return std::nullopt;
  return i;
}

}  // namespace

void LinkFormatWriter::text(std::string_view s) {
  if (status_.ok()) status_ = writer_.write_bytes(bytes_of(s));
}

void LinkFormatWriter::quoted(std::string_view name, std::string_view value) {
  if (value.empty()) return;
  if (value.find_first_of("\"\\") != std::string_view::npos) status_ = Status::invalid_argument();
  text(";");
  text(name);
  text("=\"");
  text(value);
  text("\"");
}

LinkFormatWriter& LinkFormatWriter::add(std::string_view path, const LinkAttributes& attributes) {
  if (path.find('>') != std::string_view::npos) status_ = Status::invalid_argument();
  text(first_ ? "</" : ",</");
  first_ = false;
  text(path);
  text(">");
  quoted("rt", attributes.resource_type);
  quoted("if", attributes.interface);
  if (attributes.content_format) {
    std::array<char, 8> digits{};
    std::size_t n = 0;
    std::uint32_t value = *attributes.content_format;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    text(";ct=");
    while (n > 0) text(std::string_view(&digits[--n], 1));
  }
  if (attributes.observable) text(";obs");
  quoted("title", attributes.title);
  return *this;
}

Result<std::size_t> LinkFormatWriter::finish() const {
  if (!status_.ok()) return status_;
  return writer_.size();
}

std::optional<std::string_view> Link::parameter(std::string_view name) const {
  std::string_view rest = parameters;
  while (!rest.empty() && rest.front() == ';') {
    rest.remove_prefix(1);
    const std::optional<std::size_t> length = scan_parameter(rest);
    if (!length) return std::nullopt;
    std::string_view parameter = slice(rest, 0, *length);
    rest.remove_prefix(*length);
    const std::size_t equals = parameter.find('=');
    if (slice(parameter, 0, equals) != name) continue;
    if (equals == std::string_view::npos) return std::string_view();
    std::string_view value = slice(parameter, equals + 1);
    if (value.size() >= 2 && value.front() == '"') value = slice(value, 1, value.size() - 2);
    return value;
  }
  return std::nullopt;
}

Result<std::optional<Link>> LinkFormatReader::next() {
  if (rest_.empty()) return std::optional<Link>();
  if (!first_) {
    if (rest_.front() != ',') return Status::data_loss();
    rest_.remove_prefix(1);
  }
  first_ = false;
  if (rest_.empty() || rest_.front() != '<') return Status::data_loss();
  const std::size_t close = rest_.find('>');
  if (close == std::string_view::npos) return Status::data_loss();
  Link link;
  link.target = slice(rest_, 1, close - 1);
  if (link.target.find_first_of("<\"") != std::string_view::npos) return Status::data_loss();
  std::size_t i = close + 1;
  const std::size_t parameters_start = i;
  while (i < rest_.size() && rest_[i] == ';') {
    const std::optional<std::size_t> length = scan_parameter(slice(rest_, i + 1));
    if (!length) return Status::data_loss();
    i += 1 + *length;
  }
  if (i < rest_.size() && rest_[i] != ',') return Status::data_loss();
  link.parameters = slice(rest_, parameters_start, i - parameters_start);
  rest_.remove_prefix(i);
  if (rest_.size() == 1) return Status::data_loss();  // a trailing ','
  return std::optional<Link>(link);
}

}  // namespace mote::coap
