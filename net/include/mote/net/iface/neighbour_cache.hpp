#pragma once
// The ARP cache (RFC 826's "translation table"): IPv4 address -> Ethernet
// address, in caller-provided entries. An entry is `incomplete` while its
// address is being resolved (requests are retried by the interface) and
// `reachable` until it expires. Lookups scan the entries: the table is a
// handful of neighbours on a device, where a scan beats any index.

#include <cstddef>
#include <cstdint>
#include <span>

#include "mote/async/time.hpp"
#include "mote/net/wire/address.hpp"

namespace mote::net {

struct Neighbour {
  enum class State : std::uint8_t { free, incomplete, reachable };

  State state = State::free;
  std::uint8_t attempts = 0;  // incomplete: requests sent so far
  io::Ipv4Address address;
  wire::MacAddress hardware_address;  // reachable only
  // reachable: when the entry expires; incomplete: when the next request is
  // due (or, after the last one, when resolution has failed).
  async::Instant deadline;
};

class NeighbourCache {
 public:
  NeighbourCache() = default;
  explicit NeighbourCache(std::span<Neighbour> entries) : entries_(entries) {}

  // The entry for `address` in any state but free, or nullptr.
  [[nodiscard]] Neighbour* find(io::Ipv4Address address);
  // The hardware address of a reachable, unexpired entry.
  [[nodiscard]] const wire::MacAddress* lookup(io::Ipv4Address address, async::Instant now);

  // Records `address` at `hardware_address` until `expires_at` (inserting it,
  // or completing or refreshing its entry). Returns the entry, or nullptr
  // when every entry is incomplete (the table is busy resolving others).
  Neighbour* fill(io::Ipv4Address address, wire::MacAddress hardware_address,
                  async::Instant expires_at, async::Instant now);
  // An incomplete entry for `address`, taking a free or expired entry, or
  // else the reachable one closest to expiry; nullptr when all are incomplete.
  Neighbour* start(io::Ipv4Address address, async::Instant now);

  void clear();
  [[nodiscard]] std::span<Neighbour> entries() { return entries_; }
  [[nodiscard]] std::span<const Neighbour> entries() const { return entries_; }

 private:
  Neighbour* take_entry(async::Instant now);

  std::span<Neighbour> entries_;
};

}  // namespace mote::net
