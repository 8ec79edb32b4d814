// Runs the server over an in-memory connection on a virtual clock and feeds
// it arbitrary bytes as one client's stream (arriving in two parts, then
// the end). Properties: nothing crashes or leaks, the connection task ends,
// and what the server wrote is a sequence of complete, well-formed
// responses, at most one final response per request (each parsed with the
// method of the request it answers, 1xx interim responses allowed), with
// nothing left over.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mote/async/event.hpp"
#include "mote/base/assert.hpp"
#include "mote/http/server.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::http::fuzz {
namespace {

// One direction of a connection.
struct Pipe {
  std::string data;
  bool ended = false;
  async::Event readable;
};

class MemoryStream {
 public:
  MemoryStream() = default;
  MemoryStream(Pipe* in, Pipe* out) : in_(in), out_(out) {}

  async::Task<Result<std::size_t>> read(ByteSpan buffer) {
    for (;;) {
      if (in_ == nullptr) co_return Status::failed_precondition();
      if (!in_->data.empty()) break;
      if (in_->ended) co_return std::size_t{0};
      in_->readable.reset();
      co_await in_->readable.wait();
    }
    const std::size_t n = std::min(buffer.size(), in_->data.size());
    for (std::size_t i = 0; i < n; ++i) buffer[i] = static_cast<std::byte>(in_->data[i]);
    in_->data.erase(0, n);
    co_return n;
  }
  async::Task<Status> write(ConstByteSpan data) {
    if (out_ == nullptr || out_->ended) co_return Status::failed_precondition();
    out_->data.append(as_string_view(data));
    co_return ok_status();
  }
  Status shutdown_write() {
    if (out_ != nullptr) out_->ended = true;
    return ok_status();
  }
  void close() {
    static_cast<void>(shutdown_write());
    in_ = out_ = nullptr;
  }
  Result<io::Endpoint> remote_endpoint() { return io::Endpoint{io::Ipv4Address(192, 0, 2, 1), 5}; }

 private:
  Pipe* in_ = nullptr;
  Pipe* out_ = nullptr;
};

// Hands out one connection, then waits for ever.
class MemoryListener {
 public:
  using StreamType = MemoryStream;
  MemoryListener(Pipe& in, Pipe& out) : in_(in), out_(out) {}

  async::Task<Result<MemoryStream>> accept() {
    if (!accepted_) {
      accepted_ = true;
      co_return MemoryStream(&in_, &out_);
    }
    co_await never_.wait();
    co_return Status::cancelled();
  }
  Result<io::Endpoint> local_endpoint() { return io::Endpoint{}; }

 private:
  Pipe& in_;
  Pipe& out_;
  bool accepted_ = false;
  async::Event never_;
};
static_assert(io::Listener<MemoryListener>);

async::Task<Status> stream_body(Request& request, ResponseWriter& response) {
  std::size_t size = 0;
  for (;;) {
    MOTE_CO_TRY_ASSIGN(ConstByteSpan piece, co_await request.body_reader->read());
    if (piece.empty()) break;
    size += piece.size();
  }
  MOTE_CO_TRY(co_await response.start(200, std::nullopt));
  MOTE_CO_TRY(co_await response.write(std::to_string(size)));
  co_return co_await response.finish();
}

async::Task<Status> echo(Request& request, ResponseWriter& response) {
  co_return co_await response.send(200, request.body);
}

async::Task<Status> hello(Request& request, ResponseWriter& response) {
  co_return co_await response.send(200, request.param("name"));
}

ServerOptions fuzz_options() {
  ServerOptions options;
  options.max_head_size = 512;
  options.max_headers = 8;
  options.max_body_size = 256;
  options.max_streamed_body_size = 1024;
  return options;
}

// The methods of the requests in `input` the server can answer, in order:
// those whose heads parse with the server's limits, then the one whose
// head is rejected (its method if its request line parsed, else GET).
std::vector<Method> request_methods(std::string_view input) {
  const ServerOptions options = fuzz_options();
  std::vector<Method> methods;
  std::vector<Header> fields(options.max_headers);
  RequestParser parser(fields, request_parser_limits(options));
  const ConstByteSpan bytes = bytes_of(input);
  std::size_t start = 0;
  while (start < bytes.size()) {
    parser.reset();
    Result<std::size_t> head = parser.parse_head(bytes.subspan(start));
    if (!head.ok()) {
      methods.push_back(parser.method());
      break;
    }
    if (*head == 0) break;
    methods.push_back(parser.head().method);
    std::size_t position = start + *head;
    while (!parser.message_complete()) {
      Result<BodyChunk> chunk = parser.parse_body(bytes.subspan(position));
      if (!chunk.ok() || chunk->consumed == 0) return methods;
      position += chunk->consumed;
    }
    start = position;
  }
  return methods;
}

void check_responses(std::string_view output, const std::vector<Method>& methods) {
  std::vector<Header> fields(64);
  ResponseParser parser(fields);
  const ConstByteSpan bytes = bytes_of(output);
  std::size_t start = 0;
  std::size_t answered = 0;
  while (start < bytes.size()) {
    MOTE_ASSERT(answered < methods.size());
    parser.reset(methods[answered]);
    Result<std::size_t> head = parser.parse_head(bytes.subspan(start));
    MOTE_ASSERT(head.ok() && *head != 0);
    std::size_t position = start + *head;
    while (!parser.message_complete()) {
      Result<BodyChunk> chunk = parser.parse_body(bytes.subspan(position));
      MOTE_ASSERT(chunk.ok());
      if (chunk->consumed == 0 && !chunk->complete) {
        MOTE_ASSERT(parser.end_of_stream().ok());  // read until close
        break;
      }
      position += chunk->consumed;
    }
    if (parser.head().status >= 200) ++answered;
    start = position;
  }
}

}  // namespace
}  // namespace mote::http::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mote;
  using namespace mote::http;
  using namespace std::chrono_literals;
  if (size < 1) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t cut = input.empty() ? 0 : data[0] % (input.size() + 1);

  Router router;
  MOTE_ASSERT(router.add("GET", "/hello/{name}", fuzz::hello).ok());
  MOTE_ASSERT(router.add("POST", "/echo", fuzz::echo).ok());
  MOTE_ASSERT(router.add("PUT", "/stream", fuzz::stream_body, BodyHandling::stream).ok());
  const ServerOptions options = fuzz::fuzz_options();

  platform::SimDriver driver;
  async::Executor executor(driver);
  fuzz::Pipe to_server;
  fuzz::Pipe to_client;
  fuzz::MemoryListener listener(to_server, to_client);
  {
    Server<fuzz::MemoryListener> server(listener, router, options);
    MOTE_ASSERT(server.start(executor).ok());
    executor.run_until_stalled();
    to_server.data.append(input.substr(0, cut));
    to_server.readable.set();
    executor.run_until_stalled();
    to_server.data.append(input.substr(cut));
    to_server.ended = true;
    to_server.readable.set();
    executor.run_until_stalled();
    // Every timeout passes: the connection must be over.
    driver.advance(10min);
    executor.run_until_stalled();
    MOTE_ASSERT(server.connections() == 0);
    server.stop();
  }
  // MOTE_HTTP_FUZZ_SHOW=1 prints what the server wrote (to look at a case).
  if (std::getenv("MOTE_HTTP_FUZZ_SHOW") != nullptr) {
    std::fwrite(to_client.data.data(), 1, to_client.data.size(), stdout);
  }
  fuzz::check_responses(to_client.data, fuzz::request_methods(input));
  return 0;
}
