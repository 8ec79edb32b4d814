#pragma once
// Serves files from a directory (host only): content types by extension,
// ETag and Last-Modified with If-None-Match / If-Modified-Since (304),
// single byte ranges with If-Range (206, 416), HEAD, and no way out of the
// directory (".." segments, encoded slashes and NULs are refused, and the
// resolved path, symbolic links followed, must lie inside the root).
//
//   StaticFiles files("/usr/share/mote/dashboard");
//   router.add("GET", "/{path...}", [&](Request& request, ResponseWriter& response) {
//     return files.serve(request, response, request.param("path"));
//   });
//
// Files are opened with openat2(RESOLVE_BENEATH) below the root (one
// system call; realpath() for the links it refuses to judge) and read with
// blocking pread() in pieces of up to 16 KiB, between writes: fine for
// local disks, not for network file systems.

#include <cstdint>
#include <string>
#include <string_view>
#include <sys/stat.h>

#include "mote/async/task.hpp"
#include "mote/base/status.hpp"
#include "mote/http/router.hpp"

namespace mote::http {

// "text/html; charset=utf-8" for "index.html"; application/octet-stream for
// extensions it does not know.
std::string_view content_type_for(std::string_view path);

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};
enum class RangeOutcome : std::uint8_t { whole, partial, unsatisfiable };

// A Range field for a representation of `size` bytes (RFC 9110 §14.1.2):
// "bytes=first-last", "bytes=first-" or "bytes=-suffix", clipped to the
// size (partial, `range` set), or beyond it (unsatisfiable: 416). One range
// only: a list, another unit or bad syntax gives whole (the field is
// ignored and everything sent, as §14.2 allows).
RangeOutcome parse_byte_range(std::string_view value, std::uint64_t size, ByteRange& range);

class StaticFiles {
 public:
  // The directory is resolved (realpath) now; status() says whether it exists.
  explicit StaticFiles(std::string_view root);
  StaticFiles(const StaticFiles&) = delete;
  StaticFiles& operator=(const StaticFiles&) = delete;
  StaticFiles(StaticFiles&& other) noexcept;
  StaticFiles& operator=(StaticFiles&& other) noexcept;
  ~StaticFiles();

  [[nodiscard]] Status status() const { return status_; }
  [[nodiscard]] const std::string& root() const { return root_; }

  // Answers `request` with the file at `relative_path` (percent-decoded, as
  // route parameters are) below the root; a directory is answered with its
  // index.html. 404 for anything missing or outside, 405 for methods other
  // than GET and HEAD.
  async::Task<Status> serve(Request& request, ResponseWriter& response,
                            std::string_view relative_path) const;

 private:
  // The file (or a directory's index.html) at `relative`, opened below the
  // root in one openat2 call; `name` gets what its content type comes from,
  // `info` its fstat (st_mode 0 if not taken). -1 when it does not exist
  // or lies outside.
  int open_file(const std::string& relative, std::string& name, struct stat& info) const;
  // The same through realpath(), for links openat2 refuses to judge
  // (absolute ones, ones that leave a directory and come back).
  int open_resolved(const std::string& relative, std::string& name) const;

  std::string root_;
  Status status_;
  int root_fd_ = -1;  // O_PATH descriptor of root_
};

}  // namespace mote::http
