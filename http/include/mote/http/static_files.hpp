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
// Files are read with blocking pread() in 16 KiB pieces, between writes:
// fine for local disks, not for network file systems.

#include <cstdint>
#include <string>
#include <string_view>

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

  [[nodiscard]] Status status() const { return status_; }
  [[nodiscard]] const std::string& root() const { return root_; }

  // Answers `request` with the file at `relative_path` (percent-decoded, as
  // route parameters are) below the root; a directory is answered with its
  // index.html. 404 for anything missing or outside, 405 for methods other
  // than GET and HEAD.
  async::Task<Status> serve(Request& request, ResponseWriter& response,
                            std::string_view relative_path) const;

 private:
  std::string root_;
  Status status_;
};

}  // namespace mote::http
