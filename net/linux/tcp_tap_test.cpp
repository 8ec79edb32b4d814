// mote's TCP against the Linux kernel's: mote's stack on a TAP device whose
// other end lives in a network namespace the test creates (and deletes),
// with a FaultInjector dropping 5% of the frames on mote's side.
//   - mote serves a file over HTTP; the kernel's curl downloads it.
//   - the kernel's python3 http.server serves a file; mote downloads it.
// Both must arrive byte for byte. Skips (visibly) without root, `ip` or
// /dev/net/tun.

#include <fstream>
#include <gtest/gtest.h>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "../linux/testdata/tap_namespace.hpp"
#include "mote/async/async.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/linux/system_random.hpp"
#include "mote/net/linux/tap_device.hpp"
#include "mote/net/phy/fault_injector.hpp"
#include "mote/net/socket/tcp_socket.hpp"
#include "mote/net/stack.hpp"
#include "mote/testing/process.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using async::Task;
using io::Ipv4Address;

constexpr Ipv4Address kKernel(10, 79, 0, 1);
constexpr Ipv4Address kMote(10, 79, 0, 2);
constexpr wire::MacAddress kMac{0x02, 0x6d, 0x6f, 0x74, 0x65, 0x54};
using LossyTap = FaultInjector<TunTapDevice>;

std::string file_content(std::size_t size) {
  std::string text;
  text.reserve(size);
  std::uint32_t x = 99;
  for (std::size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    text += static_cast<char>(x >> 16);
  }
  return text;
}

Task<void> run_stack(Stack<LossyTap>& stack) { return stack.run(); }

// A one-request HTTP/1.1 server: reads the request head, answers with the
// file and closes.
Task<Status> serve_file(TcpListener& listener, const std::string& body) {
  MOTE_CO_TRY_ASSIGN(TcpStream stream, co_await listener.accept());
  std::string request;
  std::array<std::byte, 512> buffer{};
  while (request.find("\r\n\r\n") == std::string::npos) {
    MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(buffer));
    if (n == 0) co_return Status::data_loss();
    request.append(as_string_view(ConstByteSpan(buffer).first(n)));
  }
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\nConnection: close\r\n\r\n";
  MOTE_CO_TRY(co_await stream.write(bytes_of(head)));
  MOTE_CO_TRY(co_await stream.write(bytes_of(body)));
  MOTE_CO_TRY(stream.shutdown_write());
  // Until the peer closes too, so that everything was acknowledged.
  for (;;) {
    MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(buffer));
    if (n == 0) break;
  }
  co_return ok_status();
}

// GET over HTTP/1.0; the whole response (head and body) into `response`.
Task<Status> download(TcpConnector& connector, std::string& response, bool& done) {
  MOTE_CO_TRY_ASSIGN(TcpStream stream, co_await connector.connect({kKernel, 8000}));
  MOTE_CO_TRY(co_await stream.write(bytes_of("GET /file.bin HTTP/1.0\r\nHost: kernel\r\n\r\n")));
  std::array<std::byte, 1460> buffer{};
  for (;;) {
    MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(buffer));
    if (n == 0) break;
    response.append(as_string_view(ConstByteSpan(buffer).first(n)));
  }
  stream.close();
  done = true;
  co_return ok_status();
}

class TcpTapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MOTE_SKIP_UNLESS_PROGRAM("ip");
    if (std::optional<std::string> why = namespace_.open(driver_, tap_, "tcp", "10.79.0.1/24")) {
      GTEST_SKIP() << *why;
    }
    FaultConfig faults;
    faults.seed = 2026;
    faults.drop_percent = 5;
    lossy_.emplace(tap_, faults, fault_storage_);
    InterfaceConfig config;
    config.hardware_address = kMac;
    iface_.emplace(tap_.capabilities(), config);
    ASSERT_TRUE(iface_->set_ipv4_address(kMote, 24).ok());
    iface_->set_tcp_secret(random_);
    stack_.emplace(*iface_, *lossy_);
    ASSERT_TRUE(executor_.spawn(stack_task_, run_stack, std::ref(*stack_)).ok());
  }

  void TearDown() override {
    app_task_.cancel();
    stack_task_.cancel();
    static_cast<void>(executor_.run_for(1ms));
    if (peer_) peer_->stop();
    tap_.close();
    namespace_.close();
  }

  // Runs the executor until `done` or 60 s of real time.
  template <typename Done>
  void run_until(Done done) {
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (!done() && std::chrono::steady_clock::now() < give_up) {
      static_cast<void>(executor_.run_for(20ms));
    }
  }

  testing::TempDir dir_;
  test_support::TapNamespace namespace_;
  std::optional<testing::ChildProcess> peer_;
  platform::EpollDriver driver_;
  async::Executor executor_{driver_};
  TunTapDevice tap_;
  std::array<std::byte, 16384> fault_storage_{};
  std::optional<LossyTap> lossy_;
  std::optional<StaticInterface<>> iface_;
  std::optional<Stack<LossyTap>> stack_;
  SystemRandom random_;
  StaticTcpSocket<16384, 16384> socket_;
  async::TaskStorage<2048> stack_task_;
  async::TaskStorage<16384> app_task_;
};

TEST_F(TcpTapTest, CurlDownloadsAFileFromMote) {
  MOTE_SKIP_UNLESS_PROGRAM("curl");
  const std::string body = file_content(300 * 1024);
  std::array<TcpSocket*, 1> backlog{&socket_};
  TcpListener listener(*iface_, backlog);
  ASSERT_TRUE(listener.listen(8080).ok());
  ASSERT_TRUE(executor_.spawn(app_task_, serve_file, std::ref(listener), std::cref(body)).ok());
  const std::string out = dir_.file("downloaded.bin");
  peer_.emplace(std::vector<std::string>{"ip", "netns", "exec", namespace_.name(), "curl", "-sS",
                                         "--max-time", "50", "-o", out,
                                         "http://10.79.0.2:8080/file.bin"});
  ASSERT_TRUE(peer_->started());
  std::optional<int> exit_code;
  run_until([&] {
    if (!peer_->running()) exit_code = peer_->wait_for_exit(1s);
    return exit_code.has_value() && app_task_.state() == async::TaskState::finished;
  });
  ASSERT_EQ(exit_code, 0) << peer_->describe();
  std::ifstream file(out, std::ios::binary);
  std::stringstream got;
  got << file.rdbuf();
  EXPECT_EQ(got.str().size(), body.size());
  EXPECT_TRUE(got.str() == body);
  EXPECT_EQ(app_task_.exit_status(), ok_status());
  EXPECT_GT(lossy_->stats().dropped, 0u);
}

TEST_F(TcpTapTest, MoteDownloadsAFileFromTheKernel) {
  const std::string body = file_content(300 * 1024);
  const std::string site = dir_.path() + "/site";
  ASSERT_EQ(::mkdir(site.c_str(), 0755), 0);
  dir_.write("site/file.bin", body);
  peer_.emplace(std::vector<std::string>{"ip", "netns", "exec", namespace_.name(),
                                         "/usr/bin/python3", "-u", "-m", "http.server", "8000",
                                         "--bind", "10.79.0.1", "--directory", site});
  ASSERT_TRUE(peer_->wait_for_output("Serving HTTP", 10s)) << peer_->describe();
  std::array<TcpSocket*, 1> pool{&socket_};
  TcpConnector connector(*iface_, pool);
  std::string response;
  bool done = false;
  ASSERT_TRUE(
      executor_.spawn(app_task_, download, std::ref(connector), std::ref(response), std::ref(done))
          .ok());
  run_until([&] { return done || app_task_.state() == async::TaskState::finished; });
  ASSERT_TRUE(done) << app_task_.exit_status().str() << "\n" << peer_->describe();
  const std::size_t body_at = response.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  EXPECT_EQ(response.substr(0, 15), "HTTP/1.0 200 OK");
  const std::string got = response.substr(body_at + 4);
  EXPECT_EQ(got.size(), body.size());
  EXPECT_TRUE(got == body);
  EXPECT_GT(lossy_->stats().dropped, 0u);
  // The kernel offers timestamps (net.ipv4.tcp_timestamps) and SACK in its
  // SYN,ACK: both are on, and segments leave room for the timestamps.
  EXPECT_TRUE(socket_.tcb().timestamps_enabled());
  EXPECT_TRUE(socket_.tcb().sack_enabled());
  EXPECT_EQ(socket_.tcb().send_mss(), 1448u);
}

}  // namespace
}  // namespace mote::net
