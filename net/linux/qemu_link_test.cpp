// QEMU's two frame-socket formats, host side: the framing checked byte by
// byte against what QEMU sends, and two of mote's stacks talking through
// each kind of link (a socketpair for -netdev stream, two UDP sockets on
// 127.0.0.1 for -netdev dgram).

#include "mote/net/linux/qemu_link.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mote/async/async.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/stack.hpp"
#include "mote/testing/process.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using async::Task;
using io::Endpoint;
using io::Ipv4Address;

constexpr Ipv4Address kLocalhost(127, 0, 0, 1);

template <typename Link>
Task<void> run_stack(Stack<Link>& stack) {
  return stack.run();
}

Task<Status> exchange(UdpSocket& client, UdpSocket& server, std::string& echoed) {
  std::array<std::byte, 128> buffer{};
  MOTE_CO_TRY(co_await client.send_to(bytes_of("over qemu's socket"),
                                      Endpoint{Ipv4Address(10, 2, 0, 1), 7}));
  MOTE_CO_TRY_ASSIGN(io::Datagram request, co_await server.receive_from(buffer));
  MOTE_CO_TRY(co_await server.send_to(ConstByteSpan(buffer).first(request.size), request.from));
  MOTE_CO_TRY_ASSIGN(io::Datagram reply, co_await client.receive_from(buffer));
  echoed = std::string(as_string_view(ConstByteSpan(buffer).first(reply.size)));
  co_return ok_status();
}

// Two stacks, one on each link, exchanging a UDP datagram (after ARP).
template <typename Link>
void two_stacks_talk(platform::EpollDriver& driver, Link& link_a, Link& link_b) {
  async::Executor executor(driver);
  InterfaceConfig config_a;
  config_a.hardware_address = wire::MacAddress(0x02, 0, 0, 0, 0x0a, 0x01);
  InterfaceConfig config_b;
  config_b.hardware_address = wire::MacAddress(0x02, 0, 0, 0, 0x0a, 0x02);
  StaticInterface<> a(link_a.capabilities(), config_a);
  StaticInterface<> b(link_b.capabilities(), config_b);
  ASSERT_TRUE(a.set_ipv4_address(Ipv4Address(10, 2, 0, 1), 24).ok());
  ASSERT_TRUE(b.set_ipv4_address(Ipv4Address(10, 2, 0, 2), 24).ok());
  Stack<Link> stack_a(a, link_a);
  Stack<Link> stack_b(b, link_b);
  async::TaskStorage<1024> task_a;
  async::TaskStorage<1024> task_b;
  async::TaskStorage<4096> app;
  StaticUdpSocket<1024, 1024> server;
  StaticUdpSocket<1024, 1024> client;
  ASSERT_TRUE(server.bind(a, 7).ok());
  ASSERT_TRUE(client.bind(b, 0).ok());
  ASSERT_TRUE(executor.spawn(task_a, run_stack<Link>, std::ref(stack_a)).ok());
  ASSERT_TRUE(executor.spawn(task_b, run_stack<Link>, std::ref(stack_b)).ok());
  std::string echoed;
  ASSERT_TRUE(
      executor.spawn(app, exchange, std::ref(client), std::ref(server), std::ref(echoed)).ok());
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (app.state() != async::TaskState::finished && std::chrono::steady_clock::now() < give_up) {
    static_cast<void>(executor.run_for(20ms));
  }
  task_a.cancel();
  task_b.cancel();
  app.cancel();
  EXPECT_TRUE(app.exit_status().ok()) << app.exit_status().str();
  EXPECT_EQ(echoed, "over qemu's socket");
}

TEST(QemuStreamLinkTest, ReadsLengthPrefixedFramesSplitAnyhow) {
  platform::EpollDriver driver;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Result<QemuStreamLink> link = QemuStreamLink::adopt(driver, fds[0]);
  ASSERT_TRUE(link.ok());
  // Two frames as QEMU writes them: 00 00 00 03 'a' 'b' 'c', 00 00 00 01 'z',
  // delivered in awkward pieces.
  const auto stream = make_bytes(0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 1, 'z');
  std::array<std::byte, 1514> buffer{};
  ASSERT_EQ(::write(fds[1], stream.data(), 2), 2);
  EXPECT_EQ(link->receive({}, buffer).status(), Status::unavailable());
  ASSERT_EQ(::write(fds[1], stream.data() + 2, 4), 4);
  EXPECT_EQ(link->receive({}, buffer).status(), Status::unavailable());
  ASSERT_EQ(::write(fds[1], stream.data() + 6, 6), 6);
  ASSERT_EQ(link->receive({}, buffer).value_or(0), 3u);
  EXPECT_EQ(as_string_view(ConstByteSpan(buffer).first(3)), "abc");
  ASSERT_EQ(link->receive({}, buffer).value_or(0), 1u);
  EXPECT_EQ(std::to_integer<char>(buffer[0]), 'z');
  EXPECT_EQ(link->receive({}, buffer).status(), Status::unavailable());

  // What mote sends is framed the same way.
  ASSERT_TRUE(link->transmit({}, make_bytes('h', 'i')).ok());
  std::array<std::byte, 16> out{};
  ASSERT_EQ(::read(fds[1], out.data(), out.size()), 6);
  EXPECT_EQ(load_be32(out.data()), 2u);
  EXPECT_EQ(std::to_integer<char>(out[4]), 'h');

  // A length no frame can have: the framing is lost, the link closes.
  const auto bogus = make_bytes(0, 1, 0, 0);
  ASSERT_EQ(::write(fds[1], bogus.data(), bogus.size()), 4);
  EXPECT_EQ(link->receive({}, buffer).status(), Status::data_loss());
  EXPECT_FALSE(link->connected());
  ::close(fds[1]);
}

TEST(QemuStreamLinkTest, NoticesThePeerGoingAway) {
  platform::EpollDriver driver;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Result<QemuStreamLink> link = QemuStreamLink::adopt(driver, fds[0]);
  ASSERT_TRUE(link.ok());
  ::close(fds[1]);
  std::array<std::byte, 1514> buffer{};
  EXPECT_EQ(link->receive({}, buffer).status(), Status::unavailable());
  EXPECT_FALSE(link->connected());
  EXPECT_FALSE(link->can_transmit());
}

TEST(QemuStreamLinkTest, TwoStacksTalkThroughAStreamSocket) {
  platform::EpollDriver driver;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Result<QemuStreamLink> a = QemuStreamLink::adopt(driver, fds[0]);
  Result<QemuStreamLink> b = QemuStreamLink::adopt(driver, fds[1]);
  ASSERT_TRUE(a.ok() && b.ok());
  two_stacks_talk(driver, *a, *b);
}

TEST(QemuDgramLinkTest, OneDatagramIsOneFrame) {
  platform::EpollDriver driver;
  const std::uint16_t qemu_port = testing::unused_port(SOCK_DGRAM);
  Result<QemuDgramLink> link =
      QemuDgramLink::open(driver, Endpoint{kLocalhost, 0}, Endpoint{kLocalhost, qemu_port});
  ASSERT_TRUE(link.ok());
  // Play QEMU with a plain UDP socket.
  const int qemu = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(qemu_port);
  address.sin_addr.s_addr = htonl(kLocalhost.to_u32());
  ASSERT_EQ(::bind(qemu, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const Endpoint mote = *link->local_endpoint();
  sockaddr_in to = address;
  to.sin_port = htons(mote.port);
  const auto frame = make_bytes(1, 2, 3, 4, 5);
  ASSERT_EQ(
      ::sendto(qemu, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
      5);
  std::array<std::byte, 1514> buffer{};
  Result<std::size_t> got = link->receive({}, buffer);
  for (int i = 0; i < 100 && !got.ok(); ++i) {  // the datagram may take a moment
    ::usleep(1000);
    got = link->receive({}, buffer);
  }
  ASSERT_EQ(got.value_or(0), 5u);
  ASSERT_TRUE(link->transmit({}, make_bytes(9, 8, 7)).ok());
  std::array<std::byte, 16> out{};
  EXPECT_EQ(::recv(qemu, out.data(), out.size(), 0), 3);
  EXPECT_EQ(std::to_integer<int>(out[0]), 9);
  ::close(qemu);
}

TEST(QemuDgramLinkTest, TwoStacksTalkThroughUdpSockets) {
  platform::EpollDriver driver;
  const std::uint16_t port_a = testing::unused_port(SOCK_DGRAM);
  const std::uint16_t port_b = testing::unused_port(SOCK_DGRAM);
  Result<QemuDgramLink> a =
      QemuDgramLink::open(driver, Endpoint{kLocalhost, port_a}, Endpoint{kLocalhost, port_b});
  Result<QemuDgramLink> b =
      QemuDgramLink::open(driver, Endpoint{kLocalhost, port_b}, Endpoint{kLocalhost, port_a});
  ASSERT_TRUE(a.ok() && b.ok());
  two_stacks_talk(driver, *a, *b);
}

}  // namespace
}  // namespace mote::net
