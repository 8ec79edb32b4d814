// mote's stack against the Linux kernel's, over a TAP device inside a
// network namespace the test creates (and deletes, even when a test fails):
// the kernel's ping gets answers, UDP goes both ways with a kernel socket,
// the kernel's fragments are reassembled and its connected socket hears
// mote's port unreachable. Nothing leaves the namespace: the TAP device is moved into it
// before it gets an address, and the kernel socket is made inside it.

#include "mote/net/linux/tap_device.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "mote/async/async.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/stack.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "mote/testing/process.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using async::Task;
using io::Endpoint;
using io::Ipv4Address;
using platform::KernelUdpSocket;

constexpr Ipv4Address kKernelIp(10, 77, 0, 1);
constexpr Ipv4Address kMoteIp(10, 77, 0, 2);
constexpr wire::MacAddress kMoteMac{0x02, 0x6d, 0x6f, 0x74, 0x65, 0x02};

// Runs a command to completion (bounded); its exit code, or -1.
int run(const std::vector<std::string>& argv, std::string* output = nullptr) {
  testing::ChildProcess child(argv);
  if (!child.started()) return -1;
  const std::optional<int> code = child.wait_for_exit(10s);
  if (output != nullptr) *output = child.describe();
  return code.value_or(-1);
}

// Runs `fn` with this thread inside the namespace `name`: sockets made
// there stay there.
template <typename Fn>
auto inside(const std::string& name, Fn&& fn) {
  const int target = ::open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  const int home = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(target, 0);
  EXPECT_GE(home, 0);
  EXPECT_EQ(::setns(target, CLONE_NEWNET), 0);
  auto result = fn();
  EXPECT_EQ(::setns(home, CLONE_NEWNET), 0);
  ::close(target);
  ::close(home);
  return result;
}

Task<void> run_stack(Stack<TunTapDevice>& stack) { return stack.run(); }

// Deletes namespaces left by test processes that died before their
// TearDown (a crash, a kill): mote-tap-<pid>-<n> whose <pid> is gone.
void remove_stale_namespaces() {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/var/run/netns", error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("mote-tap-", 0) != 0) continue;
    const pid_t owner = static_cast<pid_t>(std::atol(name.c_str() + 9));
    if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) run({"ip", "netns", "del", name});
  }
}

class TapNamespaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MOTE_SKIP_UNLESS_PROGRAM("ip");
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN) for netns and TAP";
    remove_stale_namespaces();
    static int counter = 0;
    const std::string suffix = std::to_string(::getpid()) + "-" + std::to_string(counter++);
    std::string output;
    if (run({"ip", "netns", "add", "mote-tap-" + suffix}, &output) != 0) {
      GTEST_SKIP() << "cannot create a network namespace here: " << output;
    }
    namespace_ = "mote-tap-" + suffix;
    Result<TunTapDevice> tap = TunTapDevice::open(driver_, "", medium_);
    if (!tap.ok()) GTEST_SKIP() << "cannot open /dev/net/tun: " << tap.status().str();
    tap_ = std::move(*tap);
    // Into the namespace first, then addresses: the kernel side only ever
    // exists inside it.
    ASSERT_EQ(run({"ip", "link", "set", tap_.name(), "netns", namespace_}, &output), 0) << output;
    ASSERT_EQ(
        run({"ip", "-n", namespace_, "addr", "add", "10.77.0.1/24", "dev", tap_.name()}, &output),
        0)
        << output;
    ASSERT_EQ(run({"ip", "-n", namespace_, "link", "set", tap_.name(), "up"}, &output), 0)
        << output;

    InterfaceConfig config;
    config.hardware_address = kMoteMac;
    iface_.emplace(tap_.capabilities(), config);
    ASSERT_TRUE(iface_->set_ipv4_address(kMoteIp, 24).ok());
    stack_.emplace(*iface_, tap_);
    ASSERT_TRUE(executor_.spawn(stack_task_, run_stack, std::ref(*stack_)).ok());
  }

  void TearDown() override {
    stack_task_.cancel();
    tap_.close();  // a non-persistent TAP device goes away with its fd
    if (!namespace_.empty()) {
      std::string output;
      EXPECT_EQ(run({"ip", "netns", "del", namespace_}, &output), 0) << output;
    }
  }

  // Runs the executor until `done` or 10 s of real time.
  template <typename Done>
  void run_until(Done done) {
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < give_up) {
      static_cast<void>(executor_.run_for(20ms));
    }
  }

  Medium medium_ = Medium::ethernet;  // TAP; Medium::ip makes it a TUN device
  std::string namespace_;
  platform::EpollDriver driver_;
  async::Executor executor_{driver_};
  TunTapDevice tap_;
  std::optional<StaticInterface<>> iface_;
  std::optional<Stack<TunTapDevice>> stack_;
  async::TaskStorage<2048> stack_task_;
  async::TaskStorage<8192> app_task_;
};

TEST_F(TapNamespaceTest, KernelPingGetsAnswers) {
  testing::ChildProcess ping(
      {"ip", "netns", "exec", namespace_, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.77.0.2"});
  ASSERT_TRUE(ping.started());
  run_until([&] { return !ping.running(); });
  ASSERT_EQ(ping.wait_for_exit(1s), 0) << ping.describe();
  EXPECT_NE(ping.stdout_text().find("3 received"), std::string::npos) << ping.describe();
  EXPECT_GE(iface_->stats().echo_replies_sent, 3u);
  EXPECT_GE(iface_->stats().arp_replies_sent, 1u);
}

class TunNamespaceTest : public TapNamespaceTest {
 protected:
  TunNamespaceTest() { medium_ = Medium::ip; }
};

TEST_F(TunNamespaceTest, KernelPingGetsAnswersOverTun) {
  // Bare IP packets, no ARP: the same interface on the IP medium.
  testing::ChildProcess ping(
      {"ip", "netns", "exec", namespace_, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.77.0.2"});
  ASSERT_TRUE(ping.started());
  run_until([&] { return !ping.running(); });
  ASSERT_EQ(ping.wait_for_exit(1s), 0) << ping.describe();
  EXPECT_NE(ping.stdout_text().find("2 received"), std::string::npos) << ping.describe();
  EXPECT_EQ(iface_->stats().arp_replies_sent, 0u);
}

// The kernel sends, mote echoes.
Task<Status> kernel_asks_mote(KernelUdpSocket& kernel, UdpSocket& mote, std::string& echoed) {
  std::array<std::byte, 256> buffer{};
  MOTE_CO_TRY(co_await kernel.send_to(bytes_of("from linux"), Endpoint{kMoteIp, 7}));
  MOTE_CO_TRY_ASSIGN(io::Datagram request, co_await mote.receive_from(buffer));
  MOTE_CO_TRY(co_await mote.send_to(ConstByteSpan(buffer).first(request.size), request.from));
  MOTE_CO_TRY_ASSIGN(io::Datagram reply, co_await kernel.receive_from(buffer));
  if (reply.from != Endpoint{kMoteIp, 7}) co_return Status::invalid_argument();
  echoed = std::string(as_string_view(ConstByteSpan(buffer).first(reply.size)));
  co_return ok_status();
}

// mote sends first (so it resolves the kernel's address with ARP), the
// kernel echoes.
Task<Status> mote_asks_kernel(KernelUdpSocket& kernel, UdpSocket& mote, Endpoint kernel_endpoint,
                              std::string& echoed) {
  std::array<std::byte, 256> buffer{};
  MOTE_CO_TRY(co_await mote.send_to(bytes_of("from mote"), kernel_endpoint));
  MOTE_CO_TRY_ASSIGN(io::Datagram request, co_await kernel.receive_from(buffer));
  MOTE_CO_TRY(co_await kernel.send_to(ConstByteSpan(buffer).first(request.size), request.from));
  MOTE_CO_TRY_ASSIGN(io::Datagram reply, co_await mote.receive_from(buffer));
  echoed = std::string(as_string_view(ConstByteSpan(buffer).first(reply.size)));
  co_return ok_status();
}

TEST_F(TapNamespaceTest, UdpBothWaysWithAKernelSocket) {
  Result<KernelUdpSocket> kernel = inside(namespace_, [&] {
    return KernelUdpSocket::bind(driver_, Endpoint{kKernelIp, 0});
  });
  ASSERT_TRUE(kernel.ok()) << kernel.status().str();
  StaticUdpSocket<2048, 2048> mote;
  ASSERT_TRUE(mote.bind(*iface_, 7).ok());

  std::string echoed;
  ASSERT_TRUE(
      executor_
          .spawn(app_task_, kernel_asks_mote, std::ref(*kernel), std::ref(mote), std::ref(echoed))
          .ok());
  run_until([&] { return app_task_.state() == async::TaskState::finished; });
  ASSERT_EQ(app_task_.state(), async::TaskState::finished);
  EXPECT_TRUE(app_task_.exit_status().ok()) << app_task_.exit_status().str();
  EXPECT_EQ(echoed, "from linux");

  echoed.clear();
  const Endpoint kernel_endpoint = *kernel->local_endpoint();
  ASSERT_TRUE(executor_
                  .spawn(app_task_, mote_asks_kernel, std::ref(*kernel), std::ref(mote),
                         kernel_endpoint, std::ref(echoed))
                  .ok());
  run_until([&] { return app_task_.state() == async::TaskState::finished; });
  ASSERT_EQ(app_task_.state(), async::TaskState::finished);
  EXPECT_TRUE(app_task_.exit_status().ok()) << app_task_.exit_status().str();
  EXPECT_EQ(echoed, "from mote");
}

Task<Status> receive_big(KernelUdpSocket& kernel, UdpSocket& mote, ConstByteSpan big,
                         std::vector<std::byte>& got) {
  MOTE_CO_TRY(co_await kernel.send_to(big, Endpoint{kMoteIp, 9000}));
  std::array<std::byte, 2048> buffer{};
  MOTE_CO_TRY_ASSIGN(io::Datagram datagram, co_await mote.receive_from(buffer));
  got.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(datagram.size));
  co_return ok_status();
}

TEST_F(TapNamespaceTest, FragmentedDatagramsFromTheKernelAreReassembled) {
  // 1800 bytes of UDP payload do not fit a 1500-byte MTU: Linux sends two
  // fragments (1480 + 328 bytes of IP payload), mote puts them together.
  Result<KernelUdpSocket> kernel = inside(namespace_, [&] {
    return KernelUdpSocket::bind(driver_, Endpoint{kKernelIp, 0});
  });
  ASSERT_TRUE(kernel.ok()) << kernel.status().str();
  StaticUdpSocket<4096, 512> mote;
  ASSERT_TRUE(mote.bind(*iface_, 9000).ok());
  std::vector<std::byte> big(1800);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = std::byte(i * 13);
  std::vector<std::byte> got;
  ASSERT_TRUE(executor_
                  .spawn(app_task_, receive_big, std::ref(*kernel), std::ref(mote),
                         ConstByteSpan(big), std::ref(got))
                  .ok());
  run_until([&] { return app_task_.state() == async::TaskState::finished; });
  ASSERT_EQ(app_task_.state(), async::TaskState::finished);
  EXPECT_TRUE(app_task_.exit_status().ok()) << app_task_.exit_status().str();
  EXPECT_EQ(got, big);
  EXPECT_EQ(iface_->reassembly_stats().reassembled, 1u);
}

TEST_F(TapNamespaceTest, KernelSeesPortUnreachableForAClosedPort) {
  // A connected kernel UDP socket learns of mote's ICMP port unreachable
  // as ECONNREFUSED on its next receive (Linux's IP_RECVERR-less behaviour).
  const int fd = inside(
      namespace_, [] { return ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); });
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9999);
  to.sin_addr.s_addr = htonl(kMoteIp.to_u32());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  ASSERT_EQ(::send(fd, "x", 1, 0), 1);
  int error = 0;
  run_until([&] {
    char byte = 0;
    if (::recv(fd, &byte, 1, 0) < 0 && errno != EAGAIN) error = errno;
    return error != 0;
  });
  ::close(fd);
  EXPECT_EQ(error, ECONNREFUSED);
  EXPECT_EQ(iface_->stats().icmp_errors_sent, 1u);
}

}  // namespace
}  // namespace mote::net
