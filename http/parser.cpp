#include "mote/http/parser.hpp"

#include <cstdint>
#include <cstring>

#include "mote/base/text.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mote::http {
namespace {

// The head is scanned a machine word at a time (8 bytes on x86-64, 4 on a
// Cortex-M0; 16 with SSE2) while no byte in the word needs a look of its
// own: most bytes of a head are field-value characters. This made
// parse_head about twice as fast as one table lookup per byte.
using Word = std::uintptr_t;
constexpr Word kOnes = ~Word{0} / 0xff;  // 0x0101...01
constexpr Word kHighBits = kOnes * 0x80;

// Whether no byte of the word at `p` is a control (below 0x20, HTAB
// included: it takes the byte-wise path) or DEL. "hasless" and "haszero"
// from the bit-twiddling folklore: exact for whether any byte matches,
// though not for which one.
inline bool plain_word(const char* p) {
  Word word;
  std::memcpy(&word, p, sizeof word);
  const Word below_space = (word - kOnes * 0x20) & ~word & kHighBits;
  const Word without_del = word ^ (kOnes * 0x7f);
  const Word del = (without_del - kOnes) & ~without_del & kHighBits;
  return (below_space | del) == 0;
}

// The first index from `i` on whose byte needs a look of its own, or from
// which too few bytes remain for a word. With SSE2 (every x86-64), 16 bytes
// at a time, landing on the byte itself; obs-text (0x80 and up, signed
// negative) stops it too and the caller steps over it.
inline std::size_t skip_plain(const char* text, std::size_t i, std::size_t limit) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7f);
  while (limit - i >= 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + i));
    const int special =
        _mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(bytes, space), _mm_cmpeq_epi8(bytes, del)));
    if (special != 0)
      return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(special)));
    i += 16;
  }
#endif
  while (limit - i >= sizeof(Word) && plain_word(text + i)) i += sizeof(Word);
  return i;
}

constexpr bool is_whitespace(char c) { return c == ' ' || c == '\t'; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
// VCHAR and obs-text (RFC 9110 §5.6.2, §5.5).
constexpr bool is_visible_or_obs_text(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte > 0x20 && byte != 0x7f;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view text_of(ConstByteSpan bytes) { return as_string_view(bytes); }

// "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3).
Result<Version> parse_version(std::string_view text) {
  if (text.size() != 8 || slice(text, 0, 5) != "HTTP/" || !is_digit(text[5]) || text[6] != '.' ||
      !is_digit(text[7])) {
    return Status::invalid_argument();
  }
  return Version{static_cast<std::uint8_t>(text[5] - '0'),
                 static_cast<std::uint8_t>(text[7] - '0')};
}

// 1*DIGIT without overflow.
bool parse_decimal(std::string_view text, std::uint64_t& value) {
  if (text.empty()) return false;
  value = 0;
  for (char c : text) {
    if (!is_digit(c)) return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  return true;
}

// RFC 9112 §9.3: "close" ends the connection after this message; otherwise
// 1.1 persists and 1.0 persists only with "keep-alive".
bool persists(Version version, const HeaderList& headers) {
  if (headers.has_token("Connection", "close")) return false;
  if (version.minor >= 1) return true;
  return headers.has_token("Connection", "keep-alive");
}

}  // namespace

const char* to_string(ParseError error) {
  switch (error) {
    case ParseError::none: return "none";
    case ParseError::bad_request_line: return "bad_request_line";
    case ParseError::bad_method: return "bad_method";
    case ParseError::bad_target: return "bad_target";
    case ParseError::request_line_too_long: return "request_line_too_long";
    case ParseError::bad_version: return "bad_version";
    case ParseError::unsupported_version: return "unsupported_version";
    case ParseError::bad_status_line: return "bad_status_line";
    case ParseError::bare_cr: return "bare_cr";
    case ParseError::bare_lf: return "bare_lf";
    case ParseError::bad_field_name: return "bad_field_name";
    case ParseError::whitespace_before_colon: return "whitespace_before_colon";
    case ParseError::obs_fold: return "obs_fold";
    case ParseError::bad_field_value: return "bad_field_value";
    case ParseError::head_too_large: return "head_too_large";
    case ParseError::too_many_headers: return "too_many_headers";
    case ParseError::missing_host: return "missing_host";
    case ParseError::duplicate_host: return "duplicate_host";
    case ParseError::content_length_with_transfer_encoding:
      return "content_length_with_transfer_encoding";
    case ParseError::bad_content_length: return "bad_content_length";
    case ParseError::duplicate_content_length: return "duplicate_content_length";
    case ParseError::transfer_encoding_in_http10: return "transfer_encoding_in_http10";
    case ParseError::bad_transfer_encoding: return "bad_transfer_encoding";
    case ParseError::unsupported_transfer_coding: return "unsupported_transfer_coding";
    case ParseError::bad_chunk_size: return "bad_chunk_size";
    case ParseError::chunk_size_overflow: return "chunk_size_overflow";
    case ParseError::bad_chunk_extension: return "bad_chunk_extension";
    case ParseError::chunk_line_too_long: return "chunk_line_too_long";
    case ParseError::bad_chunk_end: return "bad_chunk_end";
    case ParseError::bad_trailer: return "bad_trailer";
    case ParseError::trailer_too_large: return "trailer_too_large";
    case ParseError::body_too_large: return "body_too_large";
    case ParseError::truncated_message: return "truncated_message";
  }
  return "unknown";
}

std::uint16_t status_code_for(ParseError error) {
  switch (error) {
    case ParseError::request_line_too_long: return 414;
    case ParseError::head_too_large:
    case ParseError::too_many_headers:
    case ParseError::trailer_too_large: return 431;
    case ParseError::body_too_large: return 413;
    case ParseError::unsupported_transfer_coding: return 501;
    case ParseError::unsupported_version: return 505;
    default: return 400;
  }
}

Status status_of(ParseError error) {
  switch (error) {
    case ParseError::none: return ok_status();
    case ParseError::request_line_too_long:
    case ParseError::head_too_large:
    case ParseError::too_many_headers:
    case ParseError::chunk_line_too_long:
    case ParseError::trailer_too_large:
    case ParseError::body_too_large: return Status::resource_exhausted();
    case ParseError::unsupported_version:
    case ParseError::unsupported_transfer_coding: return Status::unimplemented();
    case ParseError::truncated_message: return Status::data_loss();
    default: return Status::invalid_argument();
  }
}

Method method_from(std::string_view text) {
  if (text == "GET") return Method::get;
  if (text == "HEAD") return Method::head;
  if (text == "POST") return Method::post;
  if (text == "PUT") return Method::put;
  if (text == "DELETE") return Method::delete_;
  if (text == "CONNECT") return Method::connect;
  if (text == "OPTIONS") return Method::options;
  if (text == "TRACE") return Method::trace;
  if (text == "PATCH") return Method::patch;
  return Method::other;
}

std::string_view to_string(Method method) {
  switch (method) {
    case Method::get: return "GET";
    case Method::head: return "HEAD";
    case Method::post: return "POST";
    case Method::put: return "PUT";
    case Method::delete_: return "DELETE";
    case Method::connect: return "CONNECT";
    case Method::options: return "OPTIONS";
    case Method::trace: return "TRACE";
    case Method::patch: return "PATCH";
    case Method::other: return "";
  }
  return "";
}

// --- The head -------------------------------------------------------------

void MessageParser::reset_message() {
  field_count_ = 0;
  line_has_control_ = false;
  line_start_ = 0;
  scan_ = 0;
  start_line_seen_ = false;
  state_ = State::head;
  error_ = ParseError::none;
  remaining_ = 0;
  chunk_size_ = 0;
  chunk_line_size_ = 0;
  trailer_size_ = 0;
  body_received_ = 0;
}

Status MessageParser::fail(ParseError error) {
  error_ = error;
  state_ = State::failed;
  return status_of(error);
}

Result<std::size_t> MessageParser::scan_head(ConstByteSpan buffer) {
  if (state_ == State::failed) return status_of(error_);
  MOTE_ASSERT(state_ == State::head);
  const std::string_view text = text_of(buffer);
  // Nothing beyond the limit is looked at, so whether a head is too large
  // does not depend on how its bytes were split into reads.
  const std::size_t limit =
      text.size() < limits_.max_head_size ? text.size() : limits_.max_head_size;
  for (;;) {
    std::size_t i = scan_;
    bool line_ended = false;
    for (; i < limit; ++i) {
      i = skip_plain(text.data(), i, limit);
      if (i == limit) break;
      const char c = text[i];
      if (is_field_value_char(c)) continue;  // a tab, or a word's other bytes
      if (c == '\n') return fail(ParseError::bare_lf);
      if (c == '\r') {
        if (i + 1 >= limit) break;  // its LF has not arrived (or is beyond the limit)
        if (text[i + 1] != '\n') return fail(ParseError::bare_cr);
        line_ended = true;
        break;
      }
      line_has_control_ = true;  // the line's parser says which rule that breaks
    }
    if (!line_ended) {
      scan_ = i;
      if (text.size() < limits_.max_head_size) return std::size_t{0};
      if (!start_line_seen_ && kind_ == Kind::request) {
        return fail(ParseError::request_line_too_long);
      }
      return fail(ParseError::head_too_large);
    }
    const std::string_view line = slice(text, line_start_, i - line_start_);
    line_start_ = i + 2;
    scan_ = line_start_;
    const bool has_control = line_has_control_;
    line_has_control_ = false;
    if (!start_line_seen_) {
      // "A server ... SHOULD ignore at least one empty line (CRLF) received
      // prior to the request-line" (RFC 9112 §2.2).
      if (line.empty() && kind_ == Kind::request) continue;
      MOTE_TRY(parse_start_line(line));
      start_line_seen_ = true;
    } else if (line.empty()) {
      MOTE_TRY(finish_head());
      return line_start_;
    } else {
      MOTE_TRY(parse_field_line(line, has_control));
    }
  }
}

Status MessageParser::parse_field_line(std::string_view line, bool has_control) {
  // "A recipient that receives whitespace between the start-line and the
  // first header field MUST either reject the message as invalid or ..."
  // (§2.2); later lines starting with whitespace are obs-fold (§5.2).
  if (is_whitespace(line.front())) return fail(ParseError::obs_fold);
  // The name's characters are checked on the way to the colon.
  std::size_t colon = 0;
  while (colon < line.size() && is_token_char(line[colon])) ++colon;
  if (colon == 0 || colon == line.size()) return fail(ParseError::bad_field_name);
  if (line[colon] != ':') {
    // "No whitespace is allowed between the field name and colon ... A
    // server MUST reject ... with a response status code of 400" (§5.1).
    const std::size_t real_colon = line.find(':', colon);
    if (real_colon == std::string_view::npos) return fail(ParseError::bad_field_name);
    for (std::size_t j = colon; j < real_colon; ++j) {
      if (!is_whitespace(line[j])) return fail(ParseError::bad_field_name);
    }
    return fail(ParseError::whitespace_before_colon);
  }
  const std::string_view name = slice(line, 0, colon);
  std::string_view value = slice(line, colon + 1);
  // The scan has already looked at every byte; only a line with a control
  // character needs a second look.
  if (has_control && !is_field_value(value)) return fail(ParseError::bad_field_value);
  while (!value.empty() && is_whitespace(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_whitespace(value.back())) value.remove_suffix(1);
  if (field_count_ == fields_.size()) return fail(ParseError::too_many_headers);
  fields_[field_count_++] = Header{name, value};
  return ok_status();
}

Status MessageParser::frame_body(Version version, BodyFraming& framing, std::uint64_t& length) {
  const HeaderList fields = parsed_fields();
  const std::size_t content_lengths = fields.count("Content-Length");
  const bool has_transfer_encoding = fields.contains("Transfer-Encoding");
  length = 0;
  if (has_transfer_encoding) {
    // §6.1: "A server or client that receives an HTTP/1.0 message containing
    // a Transfer-Encoding header field MUST treat the message as if the
    // framing is faulty".
    if (version.minor == 0) return fail(ParseError::transfer_encoding_in_http10);
    // §6.3 rule 3: both at once "ought to be handled as an error"; a server
    // MAY reject it, and so does this parser for responses too.
    if (content_lengths > 0) return fail(ParseError::content_length_with_transfer_encoding);
    std::size_t codings = 0;
    bool chunked_seen = false;
    bool chunked_last = false;
    bool other_coding = false;
    for (std::string_view value : fields.values("Transfer-Encoding")) {
      for (std::string_view element : TokenList(value)) {
        ++codings;
        // "A sender MUST NOT apply the chunked transfer coding more than
        // once to a message body" (§7.1).
        if (chunked_seen) return fail(ParseError::bad_transfer_encoding);
        if (equals_ignore_case(element, "chunked")) {
          chunked_seen = chunked_last = true;
        } else {
          other_coding = true;
        }
      }
    }
    if (codings == 0) return fail(ParseError::bad_transfer_encoding);
    if (!chunked_last) {
      // §6.3 rule 4: a request whose final coding is not chunked MUST be
      // answered with 400. A response would be read until close, but its
      // body is in a coding this parser does not undo.
      return fail(kind_ == Kind::request ? ParseError::bad_transfer_encoding
                                         : ParseError::unsupported_transfer_coding);
    }
    if (other_coding) return fail(ParseError::unsupported_transfer_coding);
    framing = BodyFraming::chunked;
    return ok_status();
  }
  if (content_lengths > 1) return fail(ParseError::duplicate_content_length);
  if (content_lengths == 1) {
    const std::string_view value = *fields.get("Content-Length");
    // A list such as "42, 42" is a duplicate in one field line (§6.3 rule 5).
    if (value.find(',') != std::string_view::npos) {
      return fail(ParseError::duplicate_content_length);
    }
    if (!parse_decimal(value, length)) return fail(ParseError::bad_content_length);
    if (length > limits_.max_body_size) return fail(ParseError::body_too_large);
    framing = length == 0 ? BodyFraming::none : BodyFraming::content_length;
    return ok_status();
  }
  // §6.3 rules 6 and 7.
  framing = kind_ == Kind::request ? BodyFraming::none : BodyFraming::until_close;
  return ok_status();
}

void MessageParser::start_body(BodyFraming framing, std::uint64_t length) {
  switch (framing) {
    case BodyFraming::none: state_ = State::complete; break;
    case BodyFraming::content_length:
      state_ = State::fixed;
      remaining_ = length;
      break;
    case BodyFraming::chunked: state_ = State::chunk_size; break;
    case BodyFraming::until_close: state_ = State::until_close; break;
  }
}

// --- Requests -------------------------------------------------------------

void RequestParser::reset() {
  reset_message();
  head_ = RequestHead{};
}

// request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
Status RequestParser::parse_start_line(std::string_view line) {
  const std::size_t first_space = line.find(' ');
  if (first_space == std::string_view::npos) return fail(ParseError::bad_request_line);
  const std::string_view method = slice(line, 0, first_space);
  if (!is_token(method)) return fail(ParseError::bad_method);
  const std::size_t second_space = line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) return fail(ParseError::bad_request_line);
  const std::string_view target = slice(line, first_space + 1, second_space - first_space - 1);
  if (target.empty()) return fail(ParseError::bad_request_line);
  for (char c : target) {
    // The request-target has no whitespace, controls or raw non-ASCII.
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) return fail(ParseError::bad_target);
  }
  const std::string_view version_text = slice(line, second_space + 1);
  Result<Version> version = parse_version(version_text);
  if (!version.ok()) {
    return fail(version_text.find(' ') != std::string_view::npos ? ParseError::bad_request_line
                                                                 : ParseError::bad_version);
  }
  if (version->major != 1) return fail(ParseError::unsupported_version);
  head_.method_text = method;
  head_.method = method_from(method);
  head_.target = target;
  head_.version = *version;
  return ok_status();
}

Status RequestParser::finish_head() {
  head_.headers = parsed_fields();
  const std::size_t hosts = head_.headers.count("Host");
  // "A server MUST respond with a 400 ... to any HTTP/1.1 request message
  // that lacks a Host header field and to any request message that contains
  // more than one Host header field line" (§3.2).
  if (hosts > 1) return fail(ParseError::duplicate_host);
  if (hosts == 0 && head_.version.minor >= 1) return fail(ParseError::missing_host);
  MOTE_TRY(frame_body(head_.version, head_.framing, head_.content_length));
  head_.keep_alive = persists(head_.version, head_.headers);
  head_.upgrade =
      head_.headers.contains("Upgrade") && head_.headers.has_token("Connection", "upgrade");
  head_.expects_continue =
      head_.version.minor >= 1 && head_.headers.has_token("Expect", "100-continue");
  start_body(head_.framing, head_.content_length);
  return ok_status();
}

// --- Responses ------------------------------------------------------------

void ResponseParser::reset(Method request_method) {
  reset_message();
  head_ = ResponseHead{};
  request_method_ = request_method;
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ] (§4). A
// missing SP after the code is accepted: some servers omit it.
Status ResponseParser::parse_start_line(std::string_view line) {
  if (line.size() < 12 || line[8] != ' ') return fail(ParseError::bad_status_line);
  Result<Version> version = parse_version(slice(line, 0, 8));
  if (!version.ok()) return fail(ParseError::bad_version);
  if (version->major != 1) return fail(ParseError::unsupported_version);
  const std::string_view code = slice(line, 9, 3);
  if (!is_digit(code[0]) || !is_digit(code[1]) || !is_digit(code[2]) || code[0] == '0') {
    return fail(ParseError::bad_status_line);
  }
  std::string_view reason;
  if (line.size() > 12) {
    if (line[12] != ' ') return fail(ParseError::bad_status_line);
    reason = slice(line, 13);
    for (char c : reason) {
      if (!is_whitespace(c) && !is_visible_or_obs_text(c)) return fail(ParseError::bad_status_line);
    }
  }
  head_.version = *version;
  head_.status =
      static_cast<std::uint16_t>((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'));
  head_.reason = reason;
  return ok_status();
}

Status ResponseParser::finish_head() {
  head_.headers = parsed_fields();
  head_.keep_alive = persists(head_.version, head_.headers);
  const std::uint16_t status = head_.status;
  // §6.3 rules 1 and 2: no body after these, whatever the fields say (a
  // Content-Length there describes the representation a GET would have
  // sent, RFC 9110 §8.6, and is reported when it is a plain number).
  if (request_method_ == Method::head || (status >= 100 && status < 200) || status == 204 ||
      status == 304) {
    head_.framing = BodyFraming::none;
    const std::optional<std::string_view> length = head_.headers.get("Content-Length");
    if (!length || !parse_decimal(*length, head_.content_length)) head_.content_length = 0;
  } else {
    MOTE_TRY(frame_body(head_.version, head_.framing, head_.content_length));
  }
  if (status == 101 || (request_method_ == Method::connect && status >= 200 && status < 300)) {
    head_.switches_protocol = true;
    head_.framing = BodyFraming::none;
    head_.keep_alive = false;
  }
  if (head_.framing == BodyFraming::until_close) head_.keep_alive = false;
  start_body(head_.framing, head_.content_length);
  return ok_status();
}

// --- The body -------------------------------------------------------------

Result<BodyChunk> MessageParser::parse_body(ConstByteSpan input) {
  if (state_ == State::failed) return status_of(error_);
  MOTE_ASSERT(state_ != State::head);
  BodyChunk chunk;
  if (state_ == State::complete) {
    chunk.complete = true;
    return chunk;
  }
  if (state_ == State::until_close) {
    chunk.consumed = input.size();
    chunk.data = input;
    body_received_ += input.size();
    return chunk;
  }
  std::size_t i = 0;
  while (i < input.size()) {
    if (state_ == State::fixed || state_ == State::chunk_data) {
      const std::size_t available = input.size() - i;
      const std::size_t take =
          remaining_ < available ? static_cast<std::size_t>(remaining_) : available;
      chunk.data = input.subspan(i, take);
      i += take;
      remaining_ -= take;
      body_received_ += take;
      if (remaining_ == 0) {
        state_ = state_ == State::fixed ? State::complete : State::chunk_data_cr;
      }
      break;
    }
    MOTE_TRY(step_chunked(static_cast<char>(input[i])));
    ++i;
    if (state_ == State::complete) break;
  }
  chunk.consumed = i;
  chunk.complete = state_ == State::complete;
  return chunk;
}

Status MessageParser::step_chunked(char c) {
  // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF        (§7.1)
  // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
  // trailer-section = *( field-line CRLF )
  const bool in_chunk_line = state_ >= State::chunk_size && state_ <= State::chunk_ext_after_value;
  if (in_chunk_line && ++chunk_line_size_ > limits_.max_chunk_line) {
    return fail(ParseError::chunk_line_too_long);
  }
  const bool in_trailer = state_ >= State::trailer_line_start && state_ <= State::final_lf;
  if (in_trailer && ++trailer_size_ > limits_.max_trailer_size) {
    return fail(ParseError::trailer_too_large);
  }
  if (c == '\n' && state_ != State::chunk_size_lf && state_ != State::chunk_data_lf &&
      state_ != State::trailer_lf && state_ != State::final_lf) {
    return fail(ParseError::bare_lf);
  }
  const bool token = is_token_char(c);
  const bool space = is_whitespace(c);
  switch (state_) {
    case State::chunk_size: {
      const int digit = hex_value(c);
      if (digit >= 0) {
        if (chunk_size_ > (UINT64_MAX >> 4)) return fail(ParseError::chunk_size_overflow);
        chunk_size_ = (chunk_size_ << 4) | static_cast<std::uint64_t>(digit);
        return ok_status();
      }
      if (chunk_line_size_ == 1) return fail(ParseError::bad_chunk_size);  // no digit
      if (c == '\r') {
        state_ = State::chunk_size_lf;
      } else if (c == ';') {
        state_ = State::chunk_ext_before_name;
      } else if (space) {
        state_ = State::chunk_size_space;
      } else {
        return fail(ParseError::bad_chunk_size);
      }
      return ok_status();
    }
    case State::chunk_size_space:  // BWS, which must lead to an extension
      if (c == ';') {
        state_ = State::chunk_ext_before_name;
      } else if (!space) {
        return fail(ParseError::bad_chunk_extension);
      }
      return ok_status();
    case State::chunk_ext_before_name:
      if (token) {
        state_ = State::chunk_ext_name;
      } else if (!space) {
        return fail(ParseError::bad_chunk_extension);
      }
      return ok_status();
    case State::chunk_ext_name:
      if (token) return ok_status();
      if (c == '\r') {
        state_ = State::chunk_size_lf;
      } else if (c == ';') {
        state_ = State::chunk_ext_before_name;
      } else if (c == '=') {
        state_ = State::chunk_ext_before_value;
      } else if (space) {
        state_ = State::chunk_ext_after_name;
      } else {
        return fail(ParseError::bad_chunk_extension);
      }
      return ok_status();
    case State::chunk_ext_after_name:
      if (c == ';') {
        state_ = State::chunk_ext_before_name;
      } else if (c == '=') {
        state_ = State::chunk_ext_before_value;
      } else if (!space) {
        return fail(ParseError::bad_chunk_extension);
      }
      return ok_status();
    case State::chunk_ext_before_value:
      if (token) {
        state_ = State::chunk_ext_token_value;
      } else if (c == '"') {
        state_ = State::chunk_ext_quoted_value;
      } else if (!space) {
        return fail(ParseError::bad_chunk_extension);
      }
      return ok_status();
    case State::chunk_ext_token_value:
      if (token) return ok_status();
      if (c == '\r') {
        state_ = State::chunk_size_lf;
      } else if (c == ';') {
        state_ = State::chunk_ext_before_name;
      } else if (space) {
        state_ = State::chunk_ext_after_value;
      } else {
        return fail(ParseError::bad_chunk_extension);
      }
      return ok_status();
    case State::chunk_ext_quoted_value:
      // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
      if (c == '"') {
        state_ = State::chunk_ext_after_quote;
      } else if (c == '\\') {
        state_ = State::chunk_ext_quoted_pair;
      } else if (!space && !is_visible_or_obs_text(c)) {
        return fail(ParseError::bad_chunk_extension);
      }
      return ok_status();
    case State::chunk_ext_quoted_pair:
      if (!space && !is_visible_or_obs_text(c)) return fail(ParseError::bad_chunk_extension);
      state_ = State::chunk_ext_quoted_value;
      return ok_status();
    case State::chunk_ext_after_quote:
      if (c == '\r') {
        state_ = State::chunk_size_lf;
      } else if (c == ';') {
        state_ = State::chunk_ext_before_name;
      } else if (space) {
        state_ = State::chunk_ext_after_value;
      } else {
        return fail(ParseError::bad_chunk_extension);
      }
      return ok_status();
    case State::chunk_ext_after_value:  // BWS, which must lead to another extension
      if (c == ';') {
        state_ = State::chunk_ext_before_name;
      } else if (!space) {
        return fail(ParseError::bad_chunk_extension);
      }
      return ok_status();
    case State::chunk_size_lf:
      if (c != '\n') return fail(ParseError::bare_cr);
      chunk_line_size_ = 0;
      if (chunk_size_ == 0) {
        state_ = State::trailer_line_start;
        return ok_status();
      }
      if (chunk_size_ > limits_.max_body_size - body_received_) {
        return fail(ParseError::body_too_large);
      }
      remaining_ = chunk_size_;
      chunk_size_ = 0;
      state_ = State::chunk_data;
      return ok_status();
    case State::chunk_data_cr:
      if (c != '\r') return fail(ParseError::bad_chunk_end);
      state_ = State::chunk_data_lf;
      return ok_status();
    case State::chunk_data_lf:
      if (c != '\n') return fail(ParseError::bad_chunk_end);
      state_ = State::chunk_size;
      return ok_status();
    // Trailer fields are checked like header fields and then dropped: the
    // parser keeps no storage for them (RFC 9110 §6.5.1 lets a recipient
    // discard them).
    case State::trailer_line_start:
      if (c == '\r') {
        state_ = State::final_lf;
      } else if (space) {
        return fail(ParseError::obs_fold);
      } else if (token) {
        state_ = State::trailer_name;
      } else {
        return fail(ParseError::bad_trailer);
      }
      return ok_status();
    case State::trailer_name:
      if (c == ':') {
        state_ = State::trailer_value;
      } else if (space) {
        return fail(ParseError::whitespace_before_colon);
      } else if (!token) {
        return fail(ParseError::bad_trailer);
      }
      return ok_status();
    case State::trailer_value:
      if (c == '\r') {
        state_ = State::trailer_lf;
      } else if (!is_field_value_char(c)) {
        return fail(ParseError::bad_trailer);
      }
      return ok_status();
    case State::trailer_lf:
      if (c != '\n') return fail(ParseError::bare_cr);
      state_ = State::trailer_line_start;
      return ok_status();
    case State::final_lf:
      if (c != '\n') return fail(ParseError::bare_cr);
      state_ = State::complete;
      return ok_status();
    default: MOTE_ASSERT(false); return Status::internal();
  }
}

Status MessageParser::end_of_stream() {
  switch (state_) {
    case State::until_close: state_ = State::complete; return ok_status();
    case State::complete: return ok_status();
    case State::failed: return status_of(error_);
    case State::head:
      if (scan_ == 0 && !start_line_seen_) return ok_status();  // between messages
      return fail(ParseError::truncated_message);
    default: return fail(ParseError::truncated_message);
  }
}

}  // namespace mote::http
