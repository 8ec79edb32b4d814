#include "mote/http/router.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

#include "mote/http/message_writer.hpp"

namespace mote::http {

std::string_view Request::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

// --- ResponseWriter -----------------------------------------------------------

ResponseWriter::ResponseWriter(ByteSink& sink, const RequestHead& request, bool keep_alive)
    : sink_(sink), request_(request), keep_alive_(keep_alive && request.keep_alive) {}

namespace {

// The Date field of this second: formatted once a second, not per response.
const std::string& current_http_date() {
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    cached = format_http_date(now);
  }
  return cached;
}

bool has_no_body(std::uint16_t status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

void append_field(std::string& head, std::string_view name, std::string_view value) {
  head.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

void ResponseWriter::set_header(std::string_view name, std::string_view value) {
  // Checked now, failed at start(): a bad field never reaches the head.
  if (!is_token(name) || !is_field_value(value)) {
    bad_field_ = true;
    return;
  }
  append_field(fields_, name, value);
}

async::Task<Status> ResponseWriter::start(std::uint16_t status,
                                          std::optional<std::uint64_t> content_length) {
  if (started_) co_return Status::failed_precondition();
  started_ = true;
  status_ = status;
  if (has_no_body(status)) {
    mode_ = BodyMode::none;
  } else if (content_length) {
    mode_ = BodyMode::fixed;
    remaining_ = *content_length;
  } else if (request_.version.minor >= 1) {
    mode_ = BodyMode::chunked;
  } else {
    mode_ = BodyMode::until_close;  // HTTP/1.0 has no chunked coding
    keep_alive_ = false;
  }
  // The fixed fields go through HeadWriter's checks like the handler's.
  std::array<std::byte, 256> line_buffer;
  HeadWriter status_line(line_buffer);
  MOTE_CO_TRY(status_line.status_line(status));
  if (bad_field_) co_return Status::invalid_argument();
  // The head waits for the first body bytes or finish(): see emit().
  const std::string_view line = as_string_view(*status_line.finish());
  pending_.reserve(line.size() + fields_.size() + 128);
  pending_.assign(line.substr(0, line.size() - 2));  // finish() ended the head; fields follow
  append_field(pending_, "Date", current_http_date());
  pending_.append(fields_);
  if (mode_ == BodyMode::fixed) {
    std::array<char, 20> digits;
    append_field(pending_, "Content-Length", format_decimal(digits, *content_length));
  } else if (mode_ == BodyMode::chunked) {
    append_field(pending_, "Transfer-Encoding", "chunked");
  }
  if (!keep_alive_) {
    append_field(pending_, "Connection", "close");
  } else if (request_.version.minor == 0) {
    append_field(pending_, "Connection", "keep-alive");
  }
  pending_.append("\r\n");
  // A HEAD response is the head alone (RFC 9110 §9.3.2).
  if (request_.method == Method::head) mode_ = BodyMode::none;
  co_return ok_status();
}

// A small response leaves in one write: a head and a body written apart
// would be two small segments, and the second would wait (Nagle's
// algorithm) for the ACK the client delays (delayed ACK), up to 40 ms.
void ResponseWriter::emit(std::string_view bytes) { pending_.append(bytes); }

async::Task<Status> ResponseWriter::flush(ConstByteSpan data) {
  if (pending_.size() + data.size() <= kCoalesceBytes) {
    pending_.append(as_string_view(data));
    data = {};
  }
  if (!pending_.empty()) {
    const Status written = co_await sink_.write(bytes_of(pending_));
    pending_.clear();
    MOTE_CO_TRY(written);
  }
  if (!data.empty()) MOTE_CO_TRY(co_await sink_.write(data));
  co_return ok_status();
}

async::Task<Status> ResponseWriter::write(ConstByteSpan data) {
  if (!started_ || finished_) co_return Status::failed_precondition();
  if (data.empty()) co_return ok_status();
  switch (mode_) {
    case BodyMode::none: co_return co_await flush({});  // HEAD, 204, 304: no body
    case BodyMode::fixed:
      if (data.size() > remaining_) co_return Status::out_of_range();
      remaining_ -= data.size();
      co_return co_await flush(data);
    case BodyMode::chunked: {
      std::array<std::byte, 18> size_line;
      MOTE_CO_TRY_ASSIGN(ConstByteSpan line, write_chunk_size_line(size_line, data.size()));
      emit(as_string_view(line));
      emit(as_string_view(data));
      emit(kChunkEnd);
      co_return co_await flush({});
    }
    case BodyMode::until_close: co_return co_await flush(data);
  }
  co_return Status::internal();
}

async::Task<Status> ResponseWriter::finish() {
  if (!started_) co_return Status::failed_precondition();
  if (finished_) co_return ok_status();
  finished_ = true;
  if (mode_ == BodyMode::chunked) emit(kLastChunk);
  MOTE_CO_TRY(co_await flush({}));
  // A short fixed body leaves the client waiting for bytes that never come:
  // the connection cannot be reused.
  if (mode_ == BodyMode::fixed && remaining_ != 0 && request_.method != Method::head) {
    keep_alive_ = false;
    co_return Status::failed_precondition();
  }
  co_return ok_status();
}

async::Task<Status> ResponseWriter::send(std::uint16_t status, std::string_view body,
                                         std::string_view content_type) {
  if (!has_no_body(status) && !content_type.empty()) set_header("Content-Type", content_type);
  MOTE_CO_TRY(co_await start(
      status, has_no_body(status) ? std::nullopt : std::optional<std::uint64_t>(body.size())));
  MOTE_CO_TRY(co_await write(body));
  co_return co_await finish();
}

// --- Paths --------------------------------------------------------------------

std::string_view path_of_target(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.empty() || path.front() == '/' || path == "*") return path;
  // absolute-form: scheme "://" authority path-abempty
  const std::size_t scheme_end = path.find("://");
  if (scheme_end == std::string_view::npos) return path;  // authority-form (CONNECT)
  const std::size_t slash = path.find('/', scheme_end + 3);
  return slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
}

std::string_view query_of_target(std::string_view target) {
  const std::size_t question = target.find('?');
  return question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
}

Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      auto hex = [](char h) {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      if (i + 2 >= text.size()) return Status::invalid_argument();
      const int high = hex(text[i + 1]);
      const int low = hex(text[i + 2]);
      if (high < 0 || low < 0) return Status::invalid_argument();
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (c == '\0') return Status::invalid_argument();
    out.push_back(c);
  }
  return out;
}

Result<PathPattern> PathPattern::parse(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/') return Status::invalid_argument();
  PathPattern result;
  std::string_view rest = pattern.substr(1);
  for (;;) {
    const std::size_t slash = rest.find('/');
    const std::string_view text = rest.substr(0, slash);
    Segment segment;
    if (!text.empty() && text.front() == '{') {
      if (text.back() != '}' || text.size() < 3) return Status::invalid_argument();
      std::string_view name = text.substr(1, text.size() - 2);
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        if (slash != std::string_view::npos) return Status::invalid_argument();  // must be last
        name.remove_suffix(3);
        segment.rest = true;
      }
      segment.parameter = true;
      segment.text = std::string(name);
    } else {
      if (text.find_first_of("{}") != std::string_view::npos) return Status::invalid_argument();
      segment.text = std::string(text);
    }
    result.segments_.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return result;
}

Result<bool> PathPattern::match(std::string_view path,
                                std::vector<std::pair<std::string, std::string>>& params) const {
  if (path.empty() || path.front() != '/') return false;
  std::string_view rest = path.substr(1);
  const std::size_t params_before = params.size();
  // Either way, no parameters of a failed match stay behind.
  auto no_match = [&]() {
    params.resize(params_before);
    return false;
  };
  auto broken = [&]() -> Result<bool> {
    params.resize(params_before);
    return Status::invalid_argument();
  };
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const Segment& segment = segments_[i];
    if (segment.rest) {
      Result<std::string> value = percent_decode(rest);
      if (!value.ok()) return broken();
      params.emplace_back(segment.text, std::move(*value));
      return true;
    }
    const std::size_t slash = rest.find('/');
    const std::string_view text = rest.substr(0, slash);
    const bool last_in_path = slash == std::string_view::npos;
    if (segment.parameter) {
      if (text.empty()) return no_match();
      Result<std::string> value = percent_decode(text);
      if (!value.ok()) return broken();
      params.emplace_back(segment.text, std::move(*value));
    } else if (text != segment.text) {
      return no_match();
    }
    const bool last_in_pattern = i + 1 == segments_.size();
    if (last_in_path != last_in_pattern) {
      // "/a/{rest...}" also matches "/a" (the rest is empty).
      if (last_in_path && i + 2 == segments_.size() && segments_[i + 1].rest) {
        params.emplace_back(segments_[i + 1].text, std::string());
        return true;
      }
      return no_match();
    }
    if (!last_in_path) rest = rest.substr(slash + 1);
  }
  return true;
}

// --- Router -------------------------------------------------------------------

Status Router::add(std::string_view method, std::string_view pattern, Handler handler,
                   BodyHandling body) {
  if (!is_token(method) || !handler) return Status::invalid_argument();
  MOTE_TRY_ASSIGN(PathPattern parsed, PathPattern::parse(pattern));
  routes_.push_back(Route{std::string(method), std::move(parsed), std::move(handler), body});
  return ok_status();
}

Router::Match Router::match(Request& request) const {
  Match result;
  const std::string_view method = request.head->method_text;
  const Route* fallback = nullptr;  // GET for a HEAD request
  std::vector<std::pair<std::string, std::string>> fallback_params;
  for (const Route& route : routes_) {
    std::vector<std::pair<std::string, std::string>> params;
    Result<bool> matched = route.pattern.match(request.path, params);
    if (!matched.ok()) {
      result.status = 400;
      return result;
    }
    if (!*matched) continue;
    if (route.method == method) {
      request.params = std::move(params);
      result.handler = &route.handler;
      result.body = route.body;
      return result;
    }
    if (method == "HEAD" && route.method == "GET" && fallback == nullptr) {
      fallback = &route;
      fallback_params = std::move(params);
    }
    if (result.allow.find(route.method) == std::string::npos) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += route.method;
      if (route.method == "GET" && result.allow.find("HEAD") == std::string::npos) {
        result.allow += ", HEAD";
      }
    }
  }
  if (fallback != nullptr) {
    request.params = std::move(fallback_params);
    result.handler = &fallback->handler;
    result.body = fallback->body;
    result.allow.clear();
    return result;
  }
  result.status = result.allow.empty() ? 404 : 405;
  return result;
}

// --- Dates ----------------------------------------------------------------------

namespace {

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::optional<int> number(std::string_view text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<int> month_index(std::string_view text) {
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == text) return static_cast<int>(i);
  }
  return std::nullopt;
}

// "08:49:37"
bool parse_clock(std::string_view text, std::tm& tm) {
  if (text.size() != 8 || text[2] != ':' || text[5] != ':') return false;
  const auto hour = number(text.substr(0, 2));
  const auto minute = number(text.substr(3, 2));
  const auto second = number(text.substr(6, 2));
  if (!hour || !minute || !second || *hour > 23 || *minute > 59 || *second > 60) return false;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  return true;
}

}  // namespace

std::string format_http_date(std::int64_t unix_seconds) {
  const auto time = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&time, &tm);
  // "Sun, 06 Nov 1994 08:49:37 GMT", written by hand: snprintf was most
  // of a static file's CPU time outside the kernel.
  std::string text;
  text.reserve(29);
  const auto two_digits = [&text](int value) {
    text.push_back(static_cast<char>('0' + value / 10 % 10));
    text.push_back(static_cast<char>('0' + value % 10));
  };
  text.append(kDays[static_cast<std::size_t>(tm.tm_wday)]).append(", ");
  two_digits(tm.tm_mday);
  text.append(" ").append(kMonths[static_cast<std::size_t>(tm.tm_mon)]).append(" ");
  const int year = std::clamp(tm.tm_year + 1900, 0, 9999);  // the format has four digits
  two_digits(year / 100);
  two_digits(year % 100);
  text.push_back(' ');
  two_digits(tm.tm_hour);
  text.push_back(':');
  two_digits(tm.tm_min);
  text.push_back(':');
  two_digits(tm.tm_sec);
  text.append(" GMT");
  return text;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  std::tm tm{};
  std::optional<int> day;
  std::optional<int> month;
  std::optional<int> year;
  if (text.size() == 29 && text[3] == ',' && text.substr(26) == "GMT") {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    if (text[4] != ' ' || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' || text[25] != ' ')
      return std::nullopt;
    day = number(text.substr(5, 2));
    month = month_index(text.substr(8, 3));
    year = number(text.substr(12, 4));
    if (!parse_clock(text.substr(17, 8), tm)) return std::nullopt;
  } else if (text.size() == 24 && text[3] == ' ') {
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (text[7] != ' ' || text[10] != ' ' || text[19] != ' ') return std::nullopt;
    month = month_index(text.substr(4, 3));
    std::string_view day_text = text.substr(8, 2);
    if (day_text.front() == ' ') day_text.remove_prefix(1);
    day = number(day_text);
    year = number(text.substr(20, 4));
    if (!parse_clock(text.substr(11, 8), tm)) return std::nullopt;
  } else {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    const std::size_t comma = text.find(", ");
    if (comma == std::string_view::npos || text.size() != comma + 24 ||
        text.substr(comma + 20) != " GMT" || text[comma + 4] != '-' || text[comma + 8] != '-' ||
        text[comma + 11] != ' ') {
      return std::nullopt;
    }
    day = number(text.substr(comma + 2, 2));
    month = month_index(text.substr(comma + 5, 3));
    year = number(text.substr(comma + 9, 2));
    // "interpret a ... two-digit year that appears to be more than 50
    // years in the future as ... the most recent year in the past" (§5.6.7).
    if (year) *year += *year < 70 ? 2000 : 1900;
    if (!parse_clock(text.substr(comma + 12, 8), tm)) return std::nullopt;
  }
  if (!day || !month || !year || *day < 1 || *day > 31) return std::nullopt;
  tm.tm_mday = *day;
  tm.tm_mon = *month;
  tm.tm_year = *year - 1900;
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace mote::http
