#include "mote/http/static_files.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <linux/openat2.h>
#include <memory>
#include <optional>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// openat2(2) with RESOLVE_BENEATH: `relative` below `directory`, symbolic
// links followed as long as they stay below it, in one system call (what
// realpath() plus open() would take one call per path component for). -1
// with errno set; EXDEV when the path, or a link on it, leads outside or is
// absolute, ENOSYS before Linux 5.6.
int open_beneath(int directory, const char* relative) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, directory, relative, &how, sizeof how));
}

// Whether open_beneath() could not decide and the slow way must: links
// that are absolute or leave the directory (they may still land inside
// the root), a kernel without openat2, a rename racing the lookup.
bool resolve_slowly(int error) {
  return error == EXDEV || error == ENOSYS || error == EAGAIN || error == ELOOP || error == EPERM;
}

// RFC 9110 §8.8.3: a strong validator from what changes with the content.
std::string entity_tag(const struct stat& info) {
  const auto append_hex = [](std::string& out, unsigned long long value) {
    std::array<char, 16> digits;  // 64 bits
    out.append(digits.data(),
               std::to_chars(digits.data(), digits.data() + digits.size(), value, 16).ptr);
  };
  std::string tag = "\"";
  append_hex(tag, static_cast<unsigned long long>(info.st_size));
  tag.push_back('-');
  append_hex(tag, static_cast<unsigned long long>(info.st_mtim.tv_sec) * 1000000000ull +
                      static_cast<unsigned long long>(info.st_mtim.tv_nsec));
  tag.push_back('"');
  return tag;
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
  root_fd_ = ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

StaticFiles::StaticFiles(StaticFiles&& other) noexcept
    : root_(std::move(other.root_)), status_(other.status_), root_fd_(other.root_fd_) {
  other.root_fd_ = -1;
}

StaticFiles& StaticFiles::operator=(StaticFiles&& other) noexcept {
  if (this != &other) {
    if (root_fd_ >= 0) ::close(root_fd_);
    root_ = std::move(other.root_);
    status_ = other.status_;
    root_fd_ = other.root_fd_;
    other.root_fd_ = -1;
  }
  return *this;
}

StaticFiles::~StaticFiles() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

int StaticFiles::open_file(const std::string& relative, std::string& name,
                           struct stat& info) const {
  name = relative;
  int fd = root_fd_ < 0 ? -1 : open_beneath(root_fd_, relative.empty() ? "." : relative.c_str());
  if (fd < 0) return root_fd_ < 0 || resolve_slowly(errno) ? open_resolved(relative, name) : -1;
  if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    const int index = open_beneath(fd, "index.html");
    const int error = errno;
    ::close(fd);
    if (index < 0) return resolve_slowly(error) ? open_resolved(relative, name) : -1;
    fd = index;
    name = "index.html";
    if (::fstat(fd, &info) != 0) info = {};
  }
  return fd;
}

int StaticFiles::open_resolved(const std::string& relative, std::string& name) const {
  std::optional<std::string> resolved = real_path(root_ + "/" + relative);
  struct stat info {};
  if (resolved && ::stat(resolved->c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    resolved = real_path(*resolved + "/index.html");
  }
  // Symbolic links may point anywhere: what they resolve to must be inside.
  if (!resolved ||
      (*resolved != root_ && resolved->compare(0, root_.size() + 1, root_ + "/") != 0)) {
    return -1;
  }
  name = *resolved;
  return ::open(resolved->c_str(), O_RDONLY | O_CLOEXEC);
}

async::Task<Status> StaticFiles::serve(Request& request, ResponseWriter& response,
                                       std::string_view relative_path) const {
  if (request.method() != Method::get && request.method() != Method::head) {
    response.set_header("Allow", "GET, HEAD");
    co_return co_await response.send(405, "method not allowed\n");
  }
  // Each segment must be a name: no "..", no ".", no NUL (route parameters
  // are already decoded, so "%2e%2e" arrives here as "..").
  std::string relative;
  std::string_view rest = relative_path;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty()) continue;
    if (segment == "." || segment == ".." || segment.find('\0') != std::string_view::npos) {
      co_return co_await response.send(404, "not found\n");
    }
    if (!relative.empty()) relative.push_back('/');
    relative.append(segment);
  }
  std::string name;
  struct stat info {};
  const File file(open_file(relative, name, info));
  if (file.fd() < 0 || (info.st_mode == 0 && ::fstat(file.fd(), &info) != 0) ||
      !S_ISREG(info.st_mode)) {
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
  response.set_header("Content-Type", content_type_for(name));
  MOTE_CO_TRY(co_await response.start(status, range.length));
  if (request.method() == Method::head) co_return co_await response.finish();
  // Up to 16 KiB at a time, and no more than the file needs (not zeroed:
  // pread fills what is sent).
  constexpr std::size_t kPiece = std::size_t{16} * 1024;
  const std::size_t capacity =
      range.length < kPiece ? static_cast<std::size_t>(range.length) : kPiece;
  const std::unique_ptr<std::byte[]> buffer = std::make_unique_for_overwrite<std::byte[]>(capacity);
  std::uint64_t offset = range.first;
  std::uint64_t left = range.length;
  while (left > 0) {
    const std::size_t want = left < capacity ? static_cast<std::size_t>(left) : capacity;
    const ssize_t n = ::pread(file.fd(), buffer.get(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // The file shrank under us: the promised length cannot be kept.
      response.close_connection();
      co_return Status::data_loss();
    }
    MOTE_CO_TRY(co_await response.write(ConstByteSpan(buffer.get(), static_cast<std::size_t>(n))));
    offset += static_cast<std::uint64_t>(n);
    left -= static_cast<std::uint64_t>(n);
  }
  co_return co_await response.finish();
}

}  // namespace mote::http
