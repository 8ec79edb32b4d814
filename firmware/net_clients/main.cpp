// net_clients: mote's DHCP client and DNS stub resolver on bare metal, over
// in-memory links to a scripted DHCP server and a scripted DNS server (the
// board has no network yet: mote's interface and its links come next).
//   dhcp   AsyncDhcpClient: DISCOVER, OFFER, REQUEST, ACK; hands the lease
//          to the dns task
//   dns    DnsResolver: resolves sensor.lan at the lease's DNS server, then
//          again from the cache, then closes the DHCP link so that the
//          dhcp task ends
// main checks the lease and the answers, prints the sizes of the client
// objects and the tasks' frame high-water marks, and returns 0 only if all
// is right.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#define MOTE_LOG_MODULE "net_clients"
#include "mote/async/event.hpp"
#include "mote/async/executor.hpp"
#include "mote/base/log.hpp"
#include "mote/firmware/board.hpp"
#include "mote/firmware/check.hpp"
#include "mote/firmware/semihosting.hpp"
#include "mote/firmware/systick_driver.hpp"
#include "mote/net/dhcp/async_dhcp_client.hpp"
#include "mote/net/dns/dns_resolver.hpp"

namespace {

using mote::ByteSpan;
using mote::ConstByteSpan;
using mote::Result;
using mote::Status;
using mote::async::Task;
using mote::firmware::check;
using mote::io::Ipv4Address;
namespace net = mote::net;
namespace wire = mote::net::wire;

constexpr wire::MacAddress kMac(0x02, 0, 0, 0, 0, 0x2a);
constexpr Ipv4Address kServer(10, 0, 0, 1);
constexpr Ipv4Address kLeased(10, 0, 0, 42);
constexpr Ipv4Address kSensor(10, 0, 0, 7);

// A server answers a request in place: the reply's length, 0 for none.
using ScriptedServer = std::size_t (*)(ConstByteSpan request, ByteSpan reply);

// The client's end of a link to one scripted server: an io::DatagramSocket
// whose sends the server answers at once.
class InMemoryLink {
 public:
  InMemoryLink(ScriptedServer server, mote::io::Endpoint server_endpoint)
      : server_(server), server_endpoint_(server_endpoint) {}

  Task<Status> send_to(ConstByteSpan data, mote::io::Endpoint) {
    if (closed_) co_return Status::failed_precondition();
    reply_size_ = server_(data, reply_);
    if (reply_size_ > 0) arrived_.set();
    co_return mote::ok_status();
  }
  Task<Result<mote::io::Datagram>> receive_from(ByteSpan buffer) {
    while (reply_size_ == 0) {
      if (closed_) co_return Status::failed_precondition();
      arrived_.reset();
      co_await arrived_.wait();
    }
    const std::size_t size = std::min(buffer.size(), reply_size_);
    std::copy_n(reply_.begin(), size, buffer.begin());
    reply_size_ = 0;
    co_return mote::io::Datagram{size, server_endpoint_, false};
  }
  [[nodiscard]] Result<mote::io::Endpoint> local_endpoint() const {
    return mote::io::Endpoint{Ipv4Address(), 68};
  }
  void close() {
    closed_ = true;
    arrived_.set();
  }

 private:
  ScriptedServer server_;
  mote::io::Endpoint server_endpoint_;
  std::array<std::byte, 576> reply_{};
  std::size_t reply_size_ = 0;
  bool closed_ = false;
  mote::async::Event arrived_;
};

std::size_t dhcp_server(ConstByteSpan request, ByteSpan reply) {
  auto packet = wire::DhcpPacket<>::checked(request);
  if (!packet.ok()) return 0;
  Result<wire::DhcpRepr> message = wire::DhcpRepr::parse(*packet);
  if (!message.ok()) return 0;
  wire::DhcpRepr answer;
  switch (message->message_type) {
    case wire::DhcpMessageType::discover: answer.message_type = wire::DhcpMessageType::offer; break;
    case wire::DhcpMessageType::request: answer.message_type = wire::DhcpMessageType::ack; break;
    default: return 0;
  }
  answer.transaction_id = message->transaction_id;
  answer.client_hardware_address = message->client_hardware_address;
  answer.your_ip = kLeased;
  answer.server_identifier = kServer;
  answer.lease_time = 3600;
  answer.subnet_mask = Ipv4Address(255, 255, 255, 0);
  answer.router = kServer;
  answer.dns_servers.push_back(kServer);
  return answer.emit(reply).value_or(0);
}

std::size_t dns_server(ConstByteSpan query, ByteSpan reply) {
  auto packet = wire::DnsPacket<>::checked(query);
  if (!packet.ok()) return 0;
  Result<wire::DnsRepr> message = wire::DnsRepr::parse(*packet);
  if (!message.ok() || !message->question) return 0;
  wire::DnsRepr answer = *message;
  answer.response = true;
  answer.recursion_available = true;
  wire::DnsAnswer record;
  record.name = message->question->name;
  record.ttl = 60;
  record.address = kSensor;
  answer.answers.push_back(record);
  return answer.emit(reply).value_or(0);
}

// A board without a hardware RNG driver yet: a fixed-seed generator is
// enough here, where nothing can forge answers. Real boards use their RNG.
class CounterRandom final : public net::RandomSource {
 public:
  std::uint32_t next_u32() override { return state_ = state_ * 1664525u + 1013904223u; }

 private:
  std::uint32_t state_ = 2026;
};

struct Results {
  std::optional<net::DhcpLease> lease;
  std::optional<Ipv4Address> first;
  std::optional<Ipv4Address> cached;
};

CounterRandom random;
InMemoryLink dhcp_link(dhcp_server, mote::io::Endpoint{kServer, 67});
InMemoryLink dns_link(dns_server, mote::io::Endpoint{kServer, 53});
net::AsyncDhcpClient<InMemoryLink> dhcp(dhcp_link, kMac, random);
net::DnsResolver<InMemoryLink> resolver(dns_link, random);
mote::async::Event lease_ready;
Results results;

Task<Status> run_dhcp() {
  co_return co_await dhcp.run([](const net::DhcpEvent& event) {
    if (event.kind != net::DhcpEvent::Kind::acquired) return;
    results.lease = event.lease;
    lease_ready.set();
  });
}

Task<Status> run_dns() {
  co_await lease_ready.wait();
  resolver.set_servers(results.lease->dns_servers);
  MOTE_CO_TRY_ASSIGN(const mote::io::IpAddress first, co_await resolver.resolve("sensor.lan"));
  results.first = first.v4();
  MOTE_CO_TRY_ASSIGN(const mote::io::IpAddress cached, co_await resolver.resolve("Sensor.LAN"));
  results.cached = cached.v4();
  dhcp_link.close();
  co_return mote::ok_status();
}

mote::async::TaskStorage<2048> dhcp_storage;
mote::async::TaskStorage<2048> dns_storage;

unsigned u(std::size_t value) { return static_cast<unsigned>(value); }

}  // namespace

int main() {
  mote::firmware::SysTickDriver driver(mote::firmware::board::kCoreClockHz);
  mote::async::Executor executor(driver);
  MOTE_LOG_INFO("sizes: DhcpClient %u, AsyncDhcpClient %u, DnsLookup %u, DnsResolver %u",
                u(sizeof(net::DhcpClient)), u(sizeof(dhcp)), u(sizeof(net::DnsLookup)),
                u(sizeof(resolver)));

  bool ok = true;
  ok &= check(executor.spawn(dhcp_storage, run_dhcp).ok(), "spawn dhcp");
  ok &= check(executor.spawn(dns_storage, run_dns).ok(), "spawn dns");
  if (!ok) return 1;
  const Status run = executor.run();
  MOTE_LOG_INFO("frame bytes used: dhcp %u, dns %u", u(dhcp_storage.high_water_mark()),
                u(dns_storage.high_water_mark()));

  ok &= check(run.ok(), "executor.run() returned ok");
  ok &= check(dhcp_storage.exit_status().code() == mote::StatusCode::failed_precondition,
              "dhcp ended when its link closed");
  ok &= check(dns_storage.exit_status().ok(), "dns finished ok");
  ok &= check(results.lease && results.lease->address == kLeased && results.lease->prefix_len == 24,
              "lease 10.0.0.42/24");
  ok &= check(dhcp.core().state() == net::DhcpClient::State::bound, "dhcp client bound");
  ok &= check(results.first == kSensor, "sensor.lan resolved");
  ok &= check(results.cached == kSensor, "Sensor.LAN from the cache");
  if (!ok) return 1;

  mote::firmware::semihosting::write0("net_clients: PASS\n");
  return 0;
}
