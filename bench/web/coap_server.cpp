// mote_coap_bench_server: mote's CoAP server as bench/web/run measures it
// against libcoap's coap-server-notls. One thread, one epoll loop, on
// 127.0.0.1:--port until killed. GET / answers 2.05 with a text/plain body
// of --payload bytes (the run script passes the size of coap-server-notls's
// own answer to GET /, so both send as many bytes). Prints
// "listening <port>" once ready.

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include "mote/async/executor.hpp"
#include "mote/coap/server.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"

namespace {

using namespace mote;

struct Text final : coap::Resource {
  explicit Text(std::string text) : Resource(""), body(std::move(text)) {}
  void handle(const coap::ServerRequest& request, coap::ResponseBuilder& response) override {
    if (request.message.code() != coap::codes::kGet) {
      response.set_code(coap::codes::kMethodNotAllowed);
      return;
    }
    response.set_content_format(coap::ContentFormat::text_plain);
    response.write(body);
  }
  std::string body;
};

async::Task<Status> serve(coap::Server<platform::KernelUdpSocket>& server) {
  co_return co_await server.run();
}

bool parse_number(std::string_view text, unsigned& out) {
  return std::from_chars(text.data(), text.data() + text.size(), out).ec == std::errc{};
}

}  // namespace

int main(int argc, char** argv) {
  unsigned port = 0;
  unsigned payload = 137;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string_view value = argv[i + 1];
    const bool parsed = (flag == "--port" && parse_number(value, port)) ||
                        (flag == "--payload" && parse_number(value, payload));
    if (!parsed) {
      std::fprintf(stderr, "usage: mote_coap_bench_server --port PORT [--payload BYTES]\n");
      return 2;
    }
  }
  if (port == 0 || port > 65535 || payload > 1024) return 2;

  platform::EpollDriver driver;
  async::Executor executor{driver};
  Result<platform::KernelUdpSocket> socket = platform::KernelUdpSocket::bind(
      driver, io::Endpoint{io::Ipv4Address(127, 0, 0, 1), static_cast<std::uint16_t>(port)});
  if (!socket.ok()) {
    std::fprintf(stderr, "bind 127.0.0.1:%u: %s\n", port, socket.status().str());
    return 1;
  }
  std::string body;
  for (unsigned i = 0; i < payload; ++i)
    body.push_back(i % 64 == 63 ? '\n' : static_cast<char>('a' + i % 26));
  Text root(std::move(body));
  coap::Server<platform::KernelUdpSocket> server(*socket, 0x6d6f7465);
  server.add(root);
  async::TaskStorage<16 * 1024> task;
  if (!executor.spawn(task, serve, std::ref(server)).ok()) return 1;
  std::printf("listening %u\n", port);
  std::fflush(stdout);
  const Status ran = executor.run();
  if (!ran.ok()) std::fprintf(stderr, "executor: %s\n", ran.str());
  return ran.ok() ? 0 : 1;
}
