#include "mote/http/message_writer.hpp"

#include <array>

#include "mote/http/headers.hpp"

namespace mote::http {

std::string_view reason_phrase(std::uint16_t status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

std::string_view format_decimal(std::span<char> buffer, std::uint64_t value) {
  std::size_t start = buffer.size();
  do {
    buffer[--start] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && start > 0);
  return {buffer.data() + start, buffer.size() - start};
}

Status HeadWriter::append_line(std::initializer_list<std::string_view> parts) {
  std::size_t total = 2;  // CRLF
  for (std::string_view part : parts) total += part.size();
  // All or nothing: a line that does not fit leaves no half behind.
  if (total > buffer_.size() - size_) return Status::resource_exhausted();
  for (std::string_view part : parts) {
    for (char ch : part) buffer_[size_++] = static_cast<std::byte>(ch);
  }
  buffer_[size_++] = std::byte{'\r'};
  buffer_[size_++] = std::byte{'\n'};
  return ok_status();
}

Status HeadWriter::status_line(std::uint16_t status, std::string_view reason) {
  if (status < 100 || status > 999) return Status::invalid_argument();
  if (reason.empty()) reason = reason_phrase(status);
  for (char c : reason) {
    if (!is_field_value_char(c)) return Status::invalid_argument();
  }
  const char code[4] = {static_cast<char>('0' + status / 100),
                        static_cast<char>('0' + status / 10 % 10),
                        static_cast<char>('0' + status % 10), ' '};
  return append_line({"HTTP/1.1 ", std::string_view(code, 4), reason});
}

Status HeadWriter::request_line(std::string_view method, std::string_view target) {
  if (!is_token(method) || target.empty()) return Status::invalid_argument();
  for (char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) return Status::invalid_argument();
  }
  return append_line({method, " ", target, " HTTP/1.1"});
}

Status HeadWriter::field(std::string_view name, std::string_view value) {
  if (!is_token(name) || !is_field_value(value)) return Status::invalid_argument();
  if (!value.empty() && (value.front() == ' ' || value.front() == '\t' || value.back() == ' ' ||
                         value.back() == '\t')) {
    return Status::invalid_argument();
  }
  return append_line({name, ": ", value});
}

Status HeadWriter::field(std::string_view name, std::uint64_t value) {
  std::array<char, 20> digits;
  return field(name, format_decimal(digits, value));
}

Result<ConstByteSpan> HeadWriter::finish() {
  MOTE_TRY(append_line({}));
  return ConstByteSpan(buffer_.first(size_));
}

Result<ConstByteSpan> write_chunk_size_line(ByteSpan buffer, std::uint64_t size) {
  std::array<char, 16> digits;
  std::size_t start = digits.size();
  do {
    digits[--start] = "0123456789abcdef"[size & 0xf];
    size >>= 4;
  } while (size != 0);
  ByteWriter writer(buffer);
  MOTE_TRY(
      writer.write_bytes(bytes_of(std::string_view(digits.data() + start, digits.size() - start))));
  MOTE_TRY(writer.write_bytes(bytes_of(kChunkEnd)));
  return ConstByteSpan(writer.written());
}

}  // namespace mote::http
