#pragma once
// Requests, responses and routes for mote's HTTP server (host only). A
// handler is a coroutine that gets the request and a ResponseWriter:
//
//   Router router;
//   router.add("GET", "/api/devices/{id}", [&](Request& request, ResponseWriter& response) {
//     return show_device(request.param("id"), response);   // a Task<Status>
//   });
//
// Handlers are not tied to a stream type: the writer sends through a
// ByteSink, so the same handlers serve kernel sockets and mote's own stack.
// HEAD requests run the GET handler with the body suppressed (RFC 9110 §9.3.2).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/status.hpp"
#include "mote/http/parser.hpp"
#include "mote/io/address.hpp"

namespace mote::http {

// Where a response's bytes go (the connection's stream).
class ByteSink {
 public:
  // Completes when the stream has taken all of `data`; `data` must stay
  // valid until then.
  virtual async::Task<Status> write(ConstByteSpan data) = 0;

 protected:
  ByteSink() = default;
  ByteSink(const ByteSink&) = default;
  ByteSink& operator=(const ByteSink&) = default;
  ~ByteSink() = default;
};

// Pulls a request's body piece by piece, for routes added with
// BodyHandling::stream (uploads larger than memory should hold).
class BodyReader {
 public:
  // The next piece of the body, de-chunked: a view valid until the next
  // call; empty at the end. Errors: deadline_exceeded (the client stalled),
  // resource_exhausted (over the route's limit), invalid_argument (broken
  // framing), data_loss (the client went away). After an error the server
  // answers with the matching status if the handler has not, and closes.
  virtual async::Task<Result<ConstByteSpan>> read() = 0;

 protected:
  BodyReader() = default;
  BodyReader(const BodyReader&) = default;
  BodyReader& operator=(const BodyReader&) = default;
  ~BodyReader() = default;
};

// Whether the server reads a request's body before the handler runs.
enum class BodyHandling : std::uint8_t {
  buffer,  // whole, into Request::body (ServerOptions::max_body_size)
  stream,  // through Request::body_reader (ServerOptions::max_streamed_body_size)
};

struct Request {
  const RequestHead* head = nullptr;  // method, target, version, headers
  std::string_view path;              // the target's path (path_of_target), still percent-encoded
  std::string_view query;             // after '?', without it; empty if none
  std::string_view body;              // the whole body, de-chunked (buffered routes)
  BodyReader* body_reader = nullptr;  // streaming routes: the body, piece by piece
  io::Endpoint remote;
  // Route parameters, percent-decoded: {"id", "7"} for /api/devices/{id}.
  std::vector<std::pair<std::string, std::string>> params;

  [[nodiscard]] Method method() const { return head->method; }
  [[nodiscard]] const HeaderList& headers() const { return head->headers; }
  // The named route parameter, "" if there is none.
  [[nodiscard]] std::string_view param(std::string_view name) const;
};

// Writes one response: either all at once (send), or a head (start) and
// then the body in pieces (write, finish). The writer adds Date,
// Content-Length or Transfer-Encoding, and Connection as the request and
// the server's state require.
class ResponseWriter {
 public:
  ResponseWriter(ByteSink& sink, const RequestHead& request, bool keep_alive);

  // A field for the head (before send/start). Names and values are checked
  // when the head is written: a bad one fails the response with
  // invalid_argument instead of splitting it.
  void set_header(std::string_view name, std::string_view value);
  // Ends the connection after this response ("Connection: close").
  void close_connection() { keep_alive_ = false; }

  // The whole response, with Content-Length (no body for HEAD, 1xx, 204
  // and 304).
  async::Task<Status> send(std::uint16_t status, std::string_view body = {},
                           std::string_view content_type = "text/plain; charset=utf-8");
  // Starts a response whose body follows through write(): with a known
  // length, or chunked when `content_length` is nullopt (to an HTTP/1.0
  // client: unframed, and the connection closes after it). The head goes
  // out with the first write() or with finish(); each write() sends what it
  // was given before it completes.
  async::Task<Status> start(std::uint16_t status, std::optional<std::uint64_t> content_length);
  // Body bytes; for a known length, exactly content_length in total.
  async::Task<Status> write(ConstByteSpan data);
  async::Task<Status> write(std::string_view text) { return write(bytes_of(text)); }
  async::Task<Status> finish();

  [[nodiscard]] bool started() const { return started_; }
  [[nodiscard]] bool finished() const { return finished_; }
  [[nodiscard]] std::uint16_t status() const { return status_; }
  // Whether the connection can carry another request after this response.
  [[nodiscard]] bool keep_alive() const { return keep_alive_; }

 private:
  enum class BodyMode : std::uint8_t { none, fixed, chunked, until_close };
  // Responses up to this size go out in one write.
  static constexpr std::size_t kCoalesceBytes = std::size_t{32} * 1024;

  void emit(std::string_view bytes);
  // Sends what is pending and then `data`, in one write when they fit.
  async::Task<Status> flush(ConstByteSpan data);

  ByteSink& sink_;
  const RequestHead& request_;
  std::string fields_;   // the handler's fields, "name: value\r\n" each, checked
  std::string pending_;  // the head and body bytes not yet written
  std::uint64_t remaining_ = 0;
  std::uint16_t status_ = 0;
  BodyMode mode_ = BodyMode::none;
  bool keep_alive_;
  bool bad_field_ = false;  // a set_header() that would have split the head
  bool started_ = false;
  bool finished_ = false;
};

using Handler = std::function<async::Task<Status>(Request&, ResponseWriter&)>;

// A path pattern: literal segments, {name} for one segment, and a last
// {name...} for the rest of the path (zero or more segments).
class PathPattern {
 public:
  // invalid_argument unless the pattern starts with '/' and its braces are
  // whole segments.
  static Result<PathPattern> parse(std::string_view pattern);
  // Whether `path` (percent-encoded) matches; parameters are appended
  // percent-decoded. false: no match; invalid_argument: the path's
  // percent-encoding is broken (or decodes to NUL).
  [[nodiscard]] Result<bool> match(std::string_view path,
                                   std::vector<std::pair<std::string, std::string>>& params) const;

 private:
  struct Segment {
    std::string text;  // literal, or the parameter's name
    bool parameter = false;
    bool rest = false;
  };
  std::vector<Segment> segments_;
};

// The path of a request-target (RFC 9112 §3.2), without the query: itself
// for origin-form ("/a/b?x" -> "/a/b"), the path after the authority for
// absolute-form ("http://host/a?x" -> "/a", "http://host" -> "/"), the
// target itself for asterisk and authority forms.
std::string_view path_of_target(std::string_view target);
// The query of a request-target (after '?'), "" if none.
std::string_view query_of_target(std::string_view target);

// Decodes %XX escapes (RFC 3986 §2.1); invalid_argument for a broken
// escape or a NUL.
Result<std::string> percent_decode(std::string_view text);

class Router {
 public:
  // `method` as sent ("GET", "POST", ...).
  Status add(std::string_view method, std::string_view pattern, Handler handler,
             BodyHandling body = BodyHandling::buffer);

  struct Match {
    const Handler* handler = nullptr;  // set when status is 0
    std::uint16_t status = 0;          // or 400, 404, 405
    std::string allow;                 // for 405: the methods the path has
    BodyHandling body = BodyHandling::buffer;
  };
  // Finds the route for a request and fills request.params. A HEAD request
  // falls back to the GET route.
  Match match(Request& request) const;

 private:
  struct Route {
    std::string method;
    PathPattern pattern;
    Handler handler;
    BodyHandling body;
  };
  std::vector<Route> routes_;
};

// IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::int64_t unix_seconds);
// IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must
// accept; nullopt for anything else.
std::optional<std::int64_t> parse_http_date(std::string_view text);

}  // namespace mote::http
