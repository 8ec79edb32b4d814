#pragma once
// One DNS stub lookup (RFC 1035 §7, RFC 1034 §5.3.3) as a sans-I/O state
// machine: a name in, an IPv4 address out. It reads no clock and does no
// I/O: the caller sends the queries poll() writes, feeds in what arrives on
// the socket, and comes back at poll_at(). The async resolver
// (dns_resolver.hpp) drives it over any io::DatagramSocket.
//
//   DnsLookup lookup(random);
//   MOTE_TRY(lookup.start("example.com", servers, now));
//   while (!lookup.done()):
//     if (auto query = lookup.poll(now, buffer)) send buffer[0, query->size)
//                                                  to query->server, port 53;
//     wait for a datagram or until lookup.poll_at(); lookup.handle(datagram, from, now);
//   lookup.result()
//
// Servers are tried in order, each for `timeout`, and the list is gone
// through `rounds` times (resolv.conf's timeout/attempts). A response counts
// only when it comes from one of the servers, carries the query's id (drawn
// from the RandomSource for every query), has QR set and echoes the
// question (RFC 5452 §9.1); anything else is ignored and the wait goes on.
// One exception: an error (SERVFAIL, REFUSED, NOTIMP, FORMERR) with the
// query's id but no question, as servers send for a query they could not
// read, moves on to the next server -- it can only skip a server, never
// supply an answer.
//
// Results:
//   ok                 the address of the first A record at the end of the
//                      CNAME chain, with the smallest TTL along the chain
//   not_found          NXDOMAIN (RCODE 3), or the name has no A record
//   unavailable        every server failed (SERVFAIL, REFUSED, NOTIMP,
//                      FORMERR) or timed out after at least one failed, or
//                      the CNAME chain is longer than max_cname_hops
//   deadline_exceeded  no server answered
//   unimplemented      the answer did not fit in 512 bytes (TC set, RFC
//                      1035 §4.2.1) and needs DNS over TCP, which the stub
//                      does not speak
//   invalid_argument   start(): a name that is not a valid domain name, or
//                      no servers
//
// A CNAME chain is followed within a response; when it ends without an
// address (the server did not chase it) the lookup asks again for the last
// name in the chain, until max_cname_hops names were followed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/inline_string.hpp"
#include "mote/base/inline_vector.hpp"
#include "mote/base/result.hpp"
#include "mote/io/address.hpp"
#include "mote/net/random_source.hpp"
#include "mote/net/wire/dns.hpp"

namespace mote::net {

using async::Duration;
using async::Instant;

struct DnsLookupConfig {
  Duration timeout = std::chrono::seconds(2);  // per query sent
  std::uint8_t rounds = 2;                     // passes over the server list
  std::uint8_t max_cname_hops = 8;
  // Where the servers listen: 53 (RFC 1035 §4.2.1) but for tests and
  // servers on other ports.
  std::uint16_t server_port = 53;
};

struct DnsAddress {
  io::Ipv4Address address;
  std::uint32_t ttl = 0;  // seconds; the smallest along the CNAME chain
  friend bool operator==(const DnsAddress&, const DnsAddress&) = default;
};

// A query poll() wrote: its length in the buffer and where it goes (UDP,
// to the configured server_port).
struct DnsQueryTransmit {
  std::size_t size = 0;
  io::Ipv4Address server;
};

class DnsLookup {
 public:
  // RFC 1035 §4.2.1: "Messages carried by UDP are restricted to 512 bytes".
  // A receive buffer this size holds every answer the stub can use.
  static constexpr std::size_t kMaxMessageLen = 512;
  // Header, the longest name, QTYPE and QCLASS: poll()'s buffer needs this.
  static constexpr std::size_t kMaxQueryLen =
      wire::DnsPacket<>::kHeaderLen + wire::DnsName::kMaxWireLen + 4;
  static constexpr std::size_t kMaxServers = 3;

  // `random` must outlive the lookup.
  explicit DnsLookup(RandomSource& random, const DnsLookupConfig& config = {});

  // Starts looking up `name` (dotted, one trailing dot allowed; copied) at
  // up to kMaxServers `servers` (copied; more are ignored). Ends a lookup in
  // progress. invalid_argument for a bad name or an empty server list.
  Status start(std::string_view name, std::span<const io::Ipv4Address> servers, Instant now);

  // Runs the timeout due at `now` and writes the query to send now, if any,
  // into `buffer` (at least kMaxQueryLen bytes).
  std::optional<DnsQueryTransmit> poll(Instant now, ByteSpan buffer);

  // A datagram from `from`, port server_port(). ok when it was the answer (the lookup
  // may then be done, or be asking again: a CNAME to chase, a failing
  // server to skip); not_found when it is not a response to this query
  // (wrong source, id, question, QR clear); failed_precondition when no
  // query is outstanding; the wire status (out_of_range,
  // invalid_argument, unimplemented) when it does not parse. Only ok
  // changes anything.
  Status handle(ConstByteSpan message, io::Ipv4Address from, Instant now);

  // When poll() next has something to do; kNever once done.
  [[nodiscard]] Instant poll_at() const;
  [[nodiscard]] bool done() const { return done_; }
  // The outcome once done(); failed_precondition before.
  [[nodiscard]] Result<DnsAddress> result() const {
    if (!status_.ok()) return status_;
    return answer_;
  }
  // The name being asked for now: the one started, or the end of a CNAME chain.
  [[nodiscard]] std::string_view query_name() const { return name_.view(); }
  [[nodiscard]] std::uint16_t query_id() const { return id_; }
  [[nodiscard]] std::uint16_t server_port() const { return config_.server_port; }

 private:
  void finish(Status status, DnsAddress answer = {});
  void next_server(Instant now);
  void skip_failed_server(io::Ipv4Address from, Instant now);
  void ask(std::string_view name, Instant now);
  Status use_answer(const wire::DnsPacket<>& packet, Instant now);

  RandomSource* random_;
  DnsLookupConfig config_;
  InlineString<wire::DnsName::kMaxTextLen> name_;
  InlineVector<io::Ipv4Address, kMaxServers> servers_;
  std::size_t server_index_ = 0;
  std::uint8_t round_ = 0;
  std::uint8_t hops_ = 0;
  std::uint16_t id_ = 0;
  bool done_ = true;
  bool sent_ = false;                   // the current query is out and awaits its answer
  bool server_failed_ = false;          // some server answered with an error
  Instant next_event_ = async::kNever;  // send (not sent_) or give up on this server (sent_)
  std::uint32_t chain_ttl_ = 0;
  Status status_ = Status::failed_precondition();  // the result once done_
  DnsAddress answer_;
};

}  // namespace mote::net
