// mote_http_bench_server: mote's HTTP server as bench/web/run measures it
// against nginx. One thread, one epoll loop; serves
//   GET /hello          a router response ("hello, world\n", text/plain)
//   GET /static/{path}  files below --root through StaticFiles
// on 127.0.0.1:--port until killed. Prints "listening <port>" once ready.

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "mote/async/executor.hpp"
#include "mote/http/server.hpp"
#include "mote/http/static_files.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"

namespace {

using namespace mote;

int usage() {
  std::fprintf(stderr, "usage: mote_http_bench_server --port PORT --root DIR\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 0;
  std::string_view root;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string_view value = argv[i + 1];
    if (flag == "--port") {
      if (std::from_chars(value.data(), value.data() + value.size(), port).ec != std::errc{}) {
        return usage();
      }
    } else if (flag == "--root") {
      root = value;
    } else {
      return usage();
    }
  }
  if (port == 0 || root.empty()) return usage();

  platform::EpollDriver driver;
  async::Executor executor{driver};
  http::StaticFiles files(root);
  if (!files.status().ok()) {
    std::fprintf(stderr, "root %.*s: %s\n", static_cast<int>(root.size()), root.data(),
                 files.status().str());
    return 1;
  }
  http::Router router;
  Status added = router.add("GET", "/hello", [](http::Request&, http::ResponseWriter& response) {
    return response.send(200, "hello, world\n", "text/plain");
  });
  if (added.ok()) {
    added = router.add("GET", "/static/{path...}",
                       [&files](http::Request& request, http::ResponseWriter& response) {
                         return files.serve(request, response, request.param("path"));
                       });
  }
  if (!added.ok()) return 1;

  Result<platform::KernelTcpListener> listener = platform::KernelTcpListener::listen(
      driver, io::Endpoint{io::Ipv4Address(127, 0, 0, 1), port});
  if (!listener.ok()) {
    std::fprintf(stderr, "listen on 127.0.0.1:%u: %s\n", port, listener.status().str());
    return 1;
  }
  http::ServerOptions options;
  options.max_connections = 1024;
  http::Server<platform::KernelTcpListener> server(*listener, router, options);
  if (!server.start(executor).ok()) return 1;
  std::printf("listening %u\n", port);
  std::fflush(stdout);
  const Status ran = executor.run();
  if (!ran.ok()) std::fprintf(stderr, "executor: %s\n", ran.str());
  return ran.ok() ? 0 : 1;
}
