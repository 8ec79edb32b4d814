#include "mote/net/dns/dns_resolver.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <vector>

#include "../testdata/fake_datagram_socket.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using async::Executor;
using async::Task;
using async::TaskStorage;
using testdata::FakeDatagramSocket;
using wire::DnsRepr;

constexpr io::Ipv4Address kServerA(192, 168, 69, 1);
constexpr io::Ipv4Address kServerB(192, 168, 69, 2);
constexpr io::Ipv4Address kExampleCom(93, 184, 215, 14);
const Instant kT0 = Instant{} + 100s;

class CountingRandom final : public RandomSource {
 public:
  std::uint32_t next_u32() override { return value += 0x1111; }
  std::uint32_t value = 0;
};

using Resolver = DnsResolver<FakeDatagramSocket>;
static_assert(io::Resolver<Resolver>);

Task<void> resolve_into(Resolver& resolver, std::string_view host,
                        std::optional<Result<io::IpAddress>>& out) {
  out = co_await resolver.resolve(host);
}

class DnsResolverTest : public ::testing::Test {
 protected:
  DnsResolverTest() : driver(kT0), executor(driver), resolver(socket, random, servers) {}

  void spawn_resolve(TaskStorage<8192>& storage, std::string_view host,
                     std::optional<Result<io::IpAddress>>& out) {
    ASSERT_TRUE(
        executor.spawn(storage, resolve_into, std::ref(resolver), host, std::ref(out)).ok());
    executor.run_until_stalled();
  }
  // The query sent last, parsed.
  DnsRepr last_query() {
    const auto& bytes = socket.sent.back().data;
    return DnsRepr::parse(wire::DnsPacket<>::checked(ConstByteSpan(bytes)).value()).value();
  }
  // Answers the last query from `from` with one A record.
  void answer(io::Endpoint from, io::Ipv4Address address, std::uint32_t ttl) {
    DnsRepr reply = last_query();
    reply.response = true;
    wire::DnsAnswer record;
    record.name = reply.question->name;
    record.ttl = ttl;
    record.address = address;
    reply.answers.push_back(record);
    std::vector<std::byte> bytes(reply.buffer_len());
    ASSERT_TRUE(reply.emit(bytes).ok());
    socket.deliver(bytes, from);
    executor.run_until_stalled();
  }

  platform::SimDriver driver;
  Executor executor;
  const io::Ipv4Address servers[2] = {kServerA, kServerB};
  FakeDatagramSocket socket{io::Endpoint{io::Ipv4Address(), 40000}};
  CountingRandom random;
  Resolver resolver;
};

TEST_F(DnsResolverTest, ResolvesThenAnswersFromTheCacheUntilTheTtlEnds) {
  TaskStorage<8192> storage;
  std::optional<Result<io::IpAddress>> out;
  spawn_resolve(storage, "example.com", out);
  ASSERT_EQ(socket.sent.size(), 1u);
  EXPECT_EQ(socket.sent[0].to, (io::Endpoint{kServerA, 53}));
  EXPECT_EQ(socket.sent[0].at, kT0);
  EXPECT_TRUE(last_query().question->name.equals("example.com"));
  EXPECT_FALSE(out.has_value());

  driver.advance(30ms);
  answer({kServerA, 53}, kExampleCom, 300);
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->ok());
  EXPECT_EQ(**out, io::IpAddress(kExampleCom));

  // From the cache: no query.
  TaskStorage<8192> again;
  out.reset();
  spawn_resolve(again, "EXAMPLE.com", out);
  ASSERT_TRUE(out.has_value() && out->ok());
  EXPECT_EQ(**out, io::IpAddress(kExampleCom));
  EXPECT_EQ(socket.sent.size(), 1u);

  // Once the TTL has passed, asked again.
  driver.advance(300s);
  TaskStorage<8192> later;
  out.reset();
  spawn_resolve(later, "example.com", out);
  EXPECT_FALSE(out.has_value());
  EXPECT_EQ(socket.sent.size(), 2u);
  answer({kServerB, 53}, kExampleCom, 300);
  EXPECT_TRUE(out.has_value() && out->ok());
}

TEST_F(DnsResolverTest, SilentServersTimeOutOneAfterTheOther) {
  TaskStorage<8192> storage;
  std::optional<Result<io::IpAddress>> out;
  spawn_resolve(storage, "example.com", out);
  EXPECT_TRUE(executor.run().ok());  // jumps from timeout to timeout
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), StatusCode::deadline_exceeded);
  EXPECT_EQ(driver.now(), kT0 + 8s);
  ASSERT_EQ(socket.sent.size(), 4u);
  const io::Endpoint expected[] = {{kServerA, 53}, {kServerB, 53}, {kServerA, 53}, {kServerB, 53}};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(socket.sent[i].to, expected[i]);
    EXPECT_EQ(socket.sent[i].at, kT0 + i * 2s);
  }
}

TEST_F(DnsResolverTest, AnswersFromElsewhereAreIgnored) {
  TaskStorage<8192> storage;
  std::optional<Result<io::IpAddress>> out;
  spawn_resolve(storage, "example.com", out);
  answer({kServerA, 5353}, io::Ipv4Address(6, 6, 6, 6), 300);                     // not port 53
  answer({io::Ipv4Address(10, 0, 0, 66), 53}, io::Ipv4Address(6, 6, 6, 6), 300);  // not a server
  EXPECT_FALSE(out.has_value());
  answer({kServerA, 53}, kExampleCom, 300);
  ASSERT_TRUE(out.has_value() && out->ok());
  EXPECT_EQ(**out, io::IpAddress(kExampleCom));
}

TEST_F(DnsResolverTest, ConcurrentCallersShareOneLookup) {
  TaskStorage<8192> first_storage;
  TaskStorage<8192> second_storage;
  std::optional<Result<io::IpAddress>> first;
  std::optional<Result<io::IpAddress>> second;
  spawn_resolve(first_storage, "example.com", first);
  spawn_resolve(second_storage, "example.com", second);
  EXPECT_EQ(socket.sent.size(), 1u);
  answer({kServerA, 53}, kExampleCom, 60);
  ASSERT_TRUE(first.has_value() && first->ok());
  ASSERT_TRUE(second.has_value() && second->ok());
  EXPECT_EQ(**second, io::IpAddress(kExampleCom));
  EXPECT_EQ(socket.sent.size(), 1u);
}

TEST_F(DnsResolverTest, NumericAddressesNeedNoQuery) {
  TaskStorage<8192> storage;
  std::optional<Result<io::IpAddress>> out;
  spawn_resolve(storage, "10.1.2.3", out);
  ASSERT_TRUE(out.has_value() && out->ok());
  EXPECT_EQ(**out, io::IpAddress(io::Ipv4Address(10, 1, 2, 3)));
  TaskStorage<8192> v6;
  spawn_resolve(v6, "2001:db8::1", out);
  EXPECT_TRUE(out->ok() && (*out)->is_v6());
  EXPECT_TRUE(socket.sent.empty());
}

TEST_F(DnsResolverTest, ErrorsWithoutServersOrSocket) {
  resolver.set_servers({});
  TaskStorage<8192> storage;
  std::optional<Result<io::IpAddress>> out;
  spawn_resolve(storage, "example.com", out);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), StatusCode::failed_precondition);

  resolver.set_servers(servers);
  TaskStorage<8192> closed;
  out.reset();
  spawn_resolve(closed, "example.com", out);
  socket.close();
  executor.run_until_stalled();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), StatusCode::failed_precondition);

  TaskStorage<8192> bad;
  out.reset();
  spawn_resolve(bad, "a..b", out);
  EXPECT_EQ(out->status().code(), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace mote::net
