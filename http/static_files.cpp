#include "mote/http/static_files.hpp"

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace mote::http {
namespace {

struct Extension {
  std::string_view suffix;
  std::string_view type;
};

constexpr std::array<Extension, 22> kTypes = {{
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".csv", "text/csv; charset=utf-8"},
    {".xml", "application/xml"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/vnd.microsoft.icon"},
    {".wasm", "application/wasm"},
    {".pdf", "application/pdf"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".gz", "application/gzip"},
}};

// A file descriptor closed on scope exit.
class File {
 public:
  explicit File(int fd) : fd_(fd) {}
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_;
};

std::optional<std::string> real_path(const std::string& path) {
  std::array<char, PATH_MAX> resolved;
  if (::realpath(path.c_str(), resolved.data()) == nullptr) return std::nullopt;
  return std::string(resolved.data());
}

// RFC 9110 §8.8.3: a strong validator from what changes with the content.
std::string entity_tag(const struct stat& info) {
  std::array<char, 64> text;
  const int n = std::snprintf(text.data(), text.size(), "\"%llx-%llx\"",
                              static_cast<unsigned long long>(info.st_size),
                              static_cast<unsigned long long>(info.st_mtim.tv_sec) * 1000000000ull +
                                  static_cast<unsigned long long>(info.st_mtim.tv_nsec));
  return std::string(text.data(), static_cast<std::size_t>(n));
}

// If-None-Match (RFC 9110 §13.1.2): "*" or a list of entity tags, compared
// weakly (W/ ignored).
bool none_match_fails(const HeaderList& headers, std::string_view tag) {
  bool matched = false;
  headers.for_each_token("If-None-Match", [&](std::string_view element) {
    if (element == "*") matched = true;
    if (element.size() > 2 && element.substr(0, 2) == "W/") element.remove_prefix(2);
    if (element == tag) matched = true;
  });
  return matched;
}

bool parse_number(std::string_view text, std::uint64_t& value) {
  if (text.empty() || text.size() > 19) return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

}  // namespace

RangeOutcome parse_byte_range(std::string_view value, std::uint64_t size, ByteRange& range) {
  constexpr std::string_view kPrefix = "bytes=";
  if (value.size() <= kPrefix.size() || !equals_ignore_case(value.substr(0, 6), kPrefix)) {
    return RangeOutcome::whole;
  }
  std::string_view spec = value.substr(kPrefix.size());
  while (!spec.empty() && (spec.front() == ' ' || spec.front() == '\t')) spec.remove_prefix(1);
  while (!spec.empty() && (spec.back() == ' ' || spec.back() == '\t')) spec.remove_suffix(1);
  if (spec.find(',') != std::string_view::npos) return RangeOutcome::whole;
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeOutcome::whole;
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  if (first_text.empty()) {
    std::uint64_t suffix = 0;
    if (!parse_number(last_text, suffix)) return RangeOutcome::whole;
    if (suffix == 0 || size == 0) return RangeOutcome::unsatisfiable;
    range.length = suffix < size ? suffix : size;
    range.first = size - range.length;
    return RangeOutcome::partial;
  }
  if (!parse_number(first_text, first)) return RangeOutcome::whole;
  if (last_text.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else if (!parse_number(last_text, last) || last < first) {
    return RangeOutcome::whole;  // invalid: ignored
  }
  if (first >= size) return RangeOutcome::unsatisfiable;
  if (last >= size) last = size - 1;
  range.first = first;
  range.length = last - first + 1;
  return RangeOutcome::partial;
}

std::string_view content_type_for(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  for (const Extension& extension : kTypes) {
    if (name.size() > extension.suffix.size() &&
        equals_ignore_case(name.substr(name.size() - extension.suffix.size()), extension.suffix)) {
      return extension.type;
    }
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(std::string_view root) {
  std::optional<std::string> resolved = real_path(std::string(root));
  struct stat info {};
  if (!resolved || ::stat(resolved->c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    status_ = Status::not_found();
    return;
  }
  root_ = std::move(*resolved);
}

async::Task<Status> StaticFiles::serve(Request& request, ResponseWriter& response,
                                       std::string_view relative_path) const {
  if (request.method() != Method::get && request.method() != Method::head) {
    response.set_header("Allow", "GET, HEAD");
    co_return co_await response.send(405, "method not allowed\n");
  }
  // Each segment must be a name: no "..", no ".", no NUL (route parameters
  // are already decoded, so "%2e%2e" arrives here as "..").
  std::string path = root_;
  std::string_view rest = relative_path;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty()) continue;
    if (segment == "." || segment == ".." || segment.find('\0') != std::string_view::npos) {
      co_return co_await response.send(404, "not found\n");
    }
    path.append("/").append(segment);
  }
  std::optional<std::string> resolved = real_path(path);
  struct stat info {};
  if (resolved && ::stat(resolved->c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    resolved = real_path(*resolved + "/index.html");
  }
  // Symbolic links may point anywhere: what they resolve to must be inside.
  if (!resolved ||
      (*resolved != root_ && resolved->compare(0, root_.size() + 1, root_ + "/") != 0)) {
    co_return co_await response.send(404, "not found\n");
  }
  const File file(::open(resolved->c_str(), O_RDONLY | O_CLOEXEC));
  if (file.fd() < 0 || ::fstat(file.fd(), &info) != 0 || !S_ISREG(info.st_mode)) {
    co_return co_await response.send(404, "not found\n");
  }
  const auto size = static_cast<std::uint64_t>(info.st_size);
  const std::string tag = entity_tag(info);
  const std::string last_modified = format_http_date(info.st_mtim.tv_sec);
  response.set_header("ETag", tag);
  response.set_header("Last-Modified", last_modified);
  response.set_header("Accept-Ranges", "bytes");

  // Preconditions in the order of RFC 9110 §13.2.2: If-None-Match, else
  // If-Modified-Since; a GET or HEAD that fails them is answered 304.
  const HeaderList& headers = request.headers();
  bool not_modified = false;
  if (headers.contains("If-None-Match")) {
    not_modified = none_match_fails(headers, tag);
  } else if (std::optional<std::string_view> since = headers.get("If-Modified-Since")) {
    const std::optional<std::int64_t> date = parse_http_date(*since);
    not_modified = date && info.st_mtim.tv_sec <= *date;
  }
  if (not_modified) co_return co_await response.send(304);

  ByteRange range{0, size};
  std::uint16_t status = 200;
  const std::optional<std::string_view> range_field = headers.get("Range");
  // If-Range (§13.1.5): the range only applies to the representation the
  // client already has part of (a strong ETag, or the exact date).
  const std::optional<std::string_view> if_range = headers.get("If-Range");
  const bool range_applies = range_field && request.method() == Method::get &&
                             (!if_range || *if_range == tag || *if_range == last_modified);
  if (range_applies) {
    switch (parse_byte_range(*range_field, size, range)) {
      case RangeOutcome::whole: range = ByteRange{0, size}; break;
      case RangeOutcome::partial: {
        status = 206;
        std::array<char, 80> text;
        const int n = std::snprintf(text.data(), text.size(), "bytes %llu-%llu/%llu",
                                    static_cast<unsigned long long>(range.first),
                                    static_cast<unsigned long long>(range.first + range.length - 1),
                                    static_cast<unsigned long long>(size));
        response.set_header("Content-Range",
                            std::string_view(text.data(), static_cast<std::size_t>(n)));
        break;
      }
      case RangeOutcome::unsatisfiable: {
        std::array<char, 48> text;
        const int n = std::snprintf(text.data(), text.size(), "bytes */%llu",
                                    static_cast<unsigned long long>(size));
        response.set_header("Content-Range",
                            std::string_view(text.data(), static_cast<std::size_t>(n)));
        co_return co_await response.send(416, "range not satisfiable\n");
      }
    }
  }
  response.set_header("Content-Type", content_type_for(*resolved));
  MOTE_CO_TRY(co_await response.start(status, range.length));
  if (request.method() == Method::head) co_return co_await response.finish();
  std::vector<std::byte> buffer(std::size_t{16} * 1024);
  std::uint64_t offset = range.first;
  std::uint64_t left = range.length;
  while (left > 0) {
    const std::size_t want = left < buffer.size() ? static_cast<std::size_t>(left) : buffer.size();
    const ssize_t n = ::pread(file.fd(), buffer.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // The file shrank under us: the promised length cannot be kept.
      response.close_connection();
      co_return Status::data_loss();
    }
    MOTE_CO_TRY(co_await response.write(ConstByteSpan(buffer.data(), static_cast<std::size_t>(n))));
    offset += static_cast<std::uint64_t>(n);
    left -= static_cast<std::uint64_t>(n);
  }
  co_return co_await response.finish();
}

}  // namespace mote::http
