// The HTTP server and client, unchanged, on mote's own TCP/IP stack: two
// interfaces on an in-memory cable (one of them lossy), each run by its
// Stack task on the simulator's clock.

#include <array>
#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "mote/async/async.hpp"
#include "mote/http/client.hpp"
#include "mote/http/server.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/phy/cable.hpp"
#include "mote/net/phy/fault_injector.hpp"
#include "mote/net/socket/tcp_socket.hpp"
#include "mote/net/stack.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::http {
namespace {

using namespace std::chrono_literals;
using io::Ipv4Address;
using net::TcpConnector;
using net::TcpListener;
using net::TcpStream;

constexpr Ipv4Address kServerIp(10, 1, 0, 1);
constexpr Ipv4Address kClientIp(10, 1, 0, 2);

template <typename Link>
async::Task<void> run_stack(net::Stack<Link>& stack) {
  return stack.run();
}

struct Fetched {
  std::uint16_t status = 0;
  std::string body;
};

async::Task<Status> get_all(TcpConnector& connector, std::vector<std::string> targets,
                            std::vector<Fetched>& results) {
  MOTE_CO_TRY_ASSIGN(TcpStream stream, co_await connector.connect({kServerIp, 80}));
  std::array<std::byte, 2048> buffer{};
  std::array<Header, 16> fields{};
  Client<TcpStream> client(stream, buffer, fields);
  for (const std::string& target : targets) {
    MOTE_CO_TRY_ASSIGN(const ResponseHead* head,
                       co_await client.send({.method = "GET", .target = target, .host = "mote"}));
    Fetched fetched;
    fetched.status = head->status;
    for (;;) {
      MOTE_CO_TRY_ASSIGN(ConstByteSpan piece, co_await client.read_body());
      if (piece.empty()) break;
      fetched.body.append(as_string_view(piece));
    }
    results.push_back(std::move(fetched));
  }
  stream.close();
  co_return ok_status();
}

template <typename ServerLink>
void serve_and_fetch(ServerLink& server_link, net::Cable::End& client_link,
                     async::Executor& executor, async::Duration limit) {
  net::InterfaceConfig server_config;
  server_config.hardware_address = net::wire::MacAddress(0x02, 0, 0, 0, 1, 1);
  net::InterfaceConfig client_config;
  client_config.hardware_address = net::wire::MacAddress(0x02, 0, 0, 0, 1, 2);
  net::StaticInterface<> server_iface(server_link.capabilities(), server_config);
  net::StaticInterface<> client_iface(client_link.capabilities(), client_config);
  ASSERT_TRUE(server_iface.set_ipv4_address(kServerIp, 24).ok());
  ASSERT_TRUE(client_iface.set_ipv4_address(kClientIp, 24).ok());
  net::Stack<ServerLink> server_stack(server_iface, server_link);
  net::Stack<net::Cable::End> client_stack(client_iface, client_link);
  async::TaskStorage<1024> server_stack_task;
  async::TaskStorage<1024> client_stack_task;
  ASSERT_TRUE(
      executor.spawn(server_stack_task, run_stack<ServerLink>, std::ref(server_stack)).ok());
  ASSERT_TRUE(
      executor.spawn(client_stack_task, run_stack<net::Cable::End>, std::ref(client_stack)).ok());

  std::string big;
  for (int i = 0; i < 200000; ++i) big += static_cast<char>('a' + (i * 7) % 26);
  Router router;
  ASSERT_TRUE(
      router
          .add("GET", "/hello",
               [](Request&, ResponseWriter& response) { return response.send(200, "hi\n"); })
          .ok());
  ASSERT_TRUE(
      router
          .add("GET", "/big",
               [&big](Request&, ResponseWriter& response) { return response.send(200, big); })
          .ok());
  net::StaticTcpSocket<8192, 8192> backlog_a;
  net::StaticTcpSocket<8192, 8192> backlog_b;
  std::array<net::TcpSocket*, 2> backlog{&backlog_a, &backlog_b};
  TcpListener listener(server_iface, backlog);
  ASSERT_TRUE(listener.listen(80).ok());
  Server<TcpListener> server(listener, router);
  ASSERT_TRUE(server.start(executor).ok());

  net::StaticTcpSocket<8192, 4096> client_socket;
  std::array<net::TcpSocket*, 1> pool{&client_socket};
  TcpConnector connector(client_iface, pool);
  std::vector<Fetched> results;
  async::TaskStorage<16 * 1024> client_task;
  ASSERT_TRUE(executor
                  .spawn(client_task, get_all, std::ref(connector),
                         std::vector<std::string>{"/hello", "/big", "/missing", "/hello"},
                         std::ref(results))
                  .ok());
  static_cast<void>(executor.run_for(limit));
  EXPECT_EQ(client_task.state(), async::TaskState::finished);
  EXPECT_EQ(client_task.exit_status(), ok_status());
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].status, 200);
  EXPECT_EQ(results[0].body, "hi\n");
  EXPECT_EQ(results[1].status, 200);
  EXPECT_TRUE(results[1].body == big);
  EXPECT_EQ(results[2].status, 404);
  EXPECT_EQ(results[3].body, "hi\n");
  server.stop();
  client_task.cancel();
  server_stack_task.cancel();
  client_stack_task.cancel();
}

TEST(HttpOnMoteStackTest, ServerAndClientOverACable) {
  platform::SimDriver driver;
  async::Executor executor(driver);
  net::StaticCable<65536> cable;
  serve_and_fetch(cable.end_a(), cable.end_b(), executor, 30s);
}

TEST(HttpOnMoteStackTest, ServerAndClientThroughLoss) {
  platform::SimDriver driver;
  async::Executor executor(driver);
  net::StaticCable<65536> cable;
  net::FaultConfig faults;
  faults.seed = 77;
  faults.drop_percent = 5;
  faults.delay = 2ms;
  std::array<std::byte, 65536> held{};
  net::FaultInjector lossy(cable.end_a(), faults, held);
  serve_and_fetch(lossy, cable.end_b(), executor, 600s);
  EXPECT_GT(lossy.stats().dropped, 0u);
}

}  // namespace
}  // namespace mote::http
