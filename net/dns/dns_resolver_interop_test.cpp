// The DNS resolver over the kernel's UDP sockets against a real dnsmasq
// started on 127.0.0.1 with no upstream: it answers only the names given on
// its command line, NXDOMAIN for other names under .test, REFUSED for the rest.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include "mote/net/dns/dns_resolver.hpp"
#include "mote/net/linux/system_random.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "mote/testing/process.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using async::Executor;
using async::Task;
using async::TaskStorage;
using platform::EpollDriver;
using platform::KernelUdpSocket;

constexpr io::Ipv4Address kLoopback(127, 0, 0, 1);

using Resolver = DnsResolver<KernelUdpSocket>;
static_assert(io::Resolver<Resolver>);

// dnsmasq on 127.0.0.1:port, ready to answer.
class Dnsmasq {
 public:
  Dnsmasq()
      : port_(testing::unused_tcp_and_udp_port()),  // dnsmasq listens on both
        process_({"/usr/sbin/dnsmasq", "--no-daemon", "--port=" + std::to_string(port_),
                  "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                  "--conf-file=/dev/null", "--pid-file=", "--log-facility=-", "--local=/test/",
                  "--local-ttl=60", "--host-record=example.test,192.0.2.10",
                  "--cname=www.example.test,alias.example.test",
                  "--cname=alias.example.test,example.test"}) {}
  bool wait_ready() { return process_.wait_for_output("started, version", 5s, true); }
  std::uint16_t port() const { return port_; }
  std::string describe() const { return process_.describe(); }

 private:
  std::uint16_t port_;
  testing::ChildProcess process_;
};

// A UDP port on 127.0.0.1 that takes queries and never answers.
class SilentServer {
 public:
  SilentServer() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port_ = ntohs(address.sin_port);
    }
  }
  ~SilentServer() { ::close(fd_); }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

Task<void> resolve_into(Resolver& resolver, std::string_view host,
                        std::optional<Result<io::IpAddress>>& out) {
  out = co_await resolver.resolve(host);
}

class DnsResolverInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MOTE_SKIP_UNLESS_PROGRAM("/usr/sbin/dnsmasq");
    dnsmasq.emplace();
    ASSERT_TRUE(dnsmasq->wait_ready()) << dnsmasq->describe();
    Result<KernelUdpSocket> bound = KernelUdpSocket::bind(driver, io::Endpoint{kLoopback, 0});
    ASSERT_TRUE(bound.ok());
    kernel_socket = std::move(*bound);
  }

  // Resolves `host` at 127.0.0.1:port, in real time.
  Result<io::IpAddress> resolve(std::string_view host, std::uint16_t port,
                                DnsLookupConfig config = {}) {
    config.server_port = port;
    const io::Ipv4Address servers[] = {kLoopback};
    Resolver resolver(kernel_socket, random, servers, config);
    std::optional<Result<io::IpAddress>> out;
    TaskStorage<8192> storage;
    EXPECT_TRUE(
        executor.spawn(storage, resolve_into, std::ref(resolver), host, std::ref(out)).ok());
    EXPECT_TRUE(executor.run_for(5s).ok());
    if (!out) return Status::internal();
    return *out;
  }

  EpollDriver driver;
  Executor executor{driver};
  SystemRandom random;
  std::optional<Dnsmasq> dnsmasq;
  KernelUdpSocket kernel_socket;
};

TEST_F(DnsResolverInteropTest, AddressRecord) {
  const Result<io::IpAddress> address = resolve("example.test", dnsmasq->port());
  ASSERT_TRUE(address.ok()) << address.status().str() << "\n" << dnsmasq->describe();
  EXPECT_EQ(*address, io::IpAddress(io::Ipv4Address(192, 0, 2, 10)));
}

TEST_F(DnsResolverInteropTest, CnameChain) {
  const Result<io::IpAddress> address = resolve("WWW.Example.Test", dnsmasq->port());
  ASSERT_TRUE(address.ok()) << address.status().str() << "\n" << dnsmasq->describe();
  EXPECT_EQ(*address, io::IpAddress(io::Ipv4Address(192, 0, 2, 10)));
}

TEST_F(DnsResolverInteropTest, NxdomainIsNotFound) {
  EXPECT_EQ(resolve("nowhere.test", dnsmasq->port()).status().code(), StatusCode::not_found);
}

TEST_F(DnsResolverInteropTest, RefusedIsUnavailable) {
  EXPECT_EQ(resolve("example.com", dnsmasq->port()).status().code(), StatusCode::unavailable);
}

TEST_F(DnsResolverInteropTest, ServerThatNeverAnswersTimesOut) {
  SilentServer silent;
  ASSERT_NE(silent.port(), 0);
  DnsLookupConfig config;
  config.timeout = 200ms;
  config.rounds = 2;
  const Result<io::IpAddress> address = resolve("example.test", silent.port(), config);
  EXPECT_EQ(address.status().code(), StatusCode::deadline_exceeded);
}

TEST(SystemRandomTest, NumbersDifferAndUseEveryBit) {
  SystemRandom random;
  std::uint32_t seen_ones = 0;
  std::uint32_t seen_zeros = 0;
  std::uint32_t previous = random.next_u32();
  int repeats = 0;
  for (int i = 0; i < 1000; ++i) {  // crosses many 64-byte refills
    const std::uint32_t value = random.next_u32();
    seen_ones |= value;
    seen_zeros |= ~value;
    if (value == previous) ++repeats;
    previous = value;
  }
  EXPECT_EQ(seen_ones, 0xffffffffu);
  EXPECT_EQ(seen_zeros, 0xffffffffu);
  EXPECT_LT(repeats, 2);
}

}  // namespace
}  // namespace mote::net
