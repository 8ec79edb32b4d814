#pragma once
// The DNS stub resolver as an io::Resolver, over any io::DatagramSocket:
// KernelUdpSocket today, mote's own UDP sockets as they land. It drives a
// DnsLookup (dns_lookup.hpp) and keeps answers in a DnsCache for their TTL.
//
//   auto socket = KernelUdpSocket::bind(driver, {Ipv4Address(), 0});   // any port
//   DnsResolver resolver(*socket, random, servers);
//   Result<io::IpAddress> address = co_await resolver.resolve("example.com");
//
// resolve(host):
//   Numeric addresses (IPv4 or IPv6 text) are answered at once, then the
//   cache; otherwise one lookup runs. Lookups take turns (a Mutex): a
//   second caller waits, then finds the first one's answer in the cache.
//   Errors: DnsLookup's (not_found, unavailable, deadline_exceeded,
//   unimplemented, invalid_argument); failed_precondition when no server is
//   set; the socket's own errors when it fails.
//   Wakes: a datagram on the socket, or the lookup's timeout.
//   Cancels: destroying the awaiter; the query in flight is forgotten and a
//   late answer to it is ignored by the next lookup (its id differs).
//   Buffers: `host` must stay valid until resolve() completes.
//
// The socket is the resolver's alone while it runs: datagrams from anything
// but the servers' port (53) are read and dropped. Bind it to an ephemeral
// port chosen by the stack (port 0): an unpredictable source port is half of
// what keeps forged answers out (RFC 5452 §9.2).

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "mote/async/mutex.hpp"
#include "mote/async/task.hpp"
#include "mote/base/inline_vector.hpp"
#include "mote/base/result.hpp"
#include "mote/io/concepts.hpp"
#include "mote/net/dns/dns_cache.hpp"
#include "mote/net/dns/dns_lookup.hpp"
#include "mote/net/receive_datagram.hpp"

namespace mote::net {

template <io::DatagramSocket Socket, std::size_t kCacheEntries = 4>
class DnsResolver {
 public:
  // `socket` and `random` must outlive the resolver.
  DnsResolver(Socket& socket, RandomSource& random, std::span<const io::Ipv4Address> servers = {},
              const DnsLookupConfig& config = {})
      : socket_(&socket), lookup_(random, config) {
    set_servers(servers);
  }
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  // The servers to ask, in order (a DHCP lease's dns_servers, say); at most
  // DnsLookup::kMaxServers are kept. Takes effect at the next lookup.
  void set_servers(std::span<const io::Ipv4Address> servers) {
    servers_.clear();
    for (io::Ipv4Address server : servers) {
      if (!servers_.try_push_back(server)) break;
    }
  }

  async::Task<Result<io::IpAddress>> resolve(std::string_view host) {
    if (Result<io::IpAddress> numeric = io::IpAddress::parse(host); numeric.ok()) {
      co_return *numeric;
    }
    if (std::optional<io::Ipv4Address> cached = cache_.find(host, async::now())) {
      co_return io::IpAddress(*cached);
    }
    async::Mutex::Guard guard = co_await mutex_.lock();
    // The lookup that held the mutex may have been for the same name.
    if (std::optional<io::Ipv4Address> cached = cache_.find(host, async::now())) {
      co_return io::IpAddress(*cached);
    }
    if (servers_.empty()) co_return Status::failed_precondition();
    MOTE_CO_TRY(lookup_.start(host, servers_, async::now()));
    while (!lookup_.done()) {
      if (std::optional<DnsQueryTransmit> query = lookup_.poll(async::now(), buffer_)) {
        const io::Endpoint server{query->server, lookup_.server_port()};
        // A query the stack could not send is like one lost on the way: the
        // timeout moves the lookup on.
        Status sent = co_await socket_->send_to(ConstByteSpan(buffer_).first(query->size), server);
        sent.ignore_error();
        continue;
      }
      if (lookup_.done()) break;
      Result<io::Datagram> received =
          co_await receive_datagram_until(*socket_, buffer_, lookup_.poll_at());
      if (!received.ok()) {
        if (received.status().code() == StatusCode::deadline_exceeded) continue;
        co_return received.status();
      }
      const io::Endpoint from = received->from;
      if (received->truncated || !from.address.is_v4() || from.port != lookup_.server_port()) {
        continue;
      }
      lookup_.handle(ConstByteSpan(buffer_).first(received->size), from.address.v4(), async::now())
          .ignore_error();  // not the answer: keep waiting
    }
    MOTE_CO_TRY_ASSIGN(const DnsAddress answer, lookup_.result());
    cache_.insert(host, answer.address, answer.ttl, async::now());
    co_return io::IpAddress(answer.address);
  }

  [[nodiscard]] DnsCache<kCacheEntries>& cache() { return cache_; }

 private:
  Socket* socket_;
  DnsLookup lookup_;
  DnsCache<kCacheEntries> cache_;
  InlineVector<io::Ipv4Address, DnsLookup::kMaxServers> servers_;
  async::Mutex mutex_;
  // Queries out and answers in, one at a time (the mutex).
  std::array<std::byte, DnsLookup::kMaxMessageLen> buffer_{};
};

}  // namespace mote::net
