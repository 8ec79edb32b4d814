#pragma once
// Packets waiting for their next hop's hardware address (RFC 1122 §2.3.2.2:
// "The link layer SHOULD save (rather than discard) at least one (the
// latest) packet of each set of packets destined to the same unresolved IP
// address"). Records sit back to back in caller-provided bytes; taking one
// out moves the rest down, which is cheap for the few small packets a
// device keeps and needs no free-list. Each neighbour may hold at most
// `per_neighbour` packets; beyond that, or when the bytes run out, a new
// packet is dropped.

#include <cstddef>
#include <cstdint>

#include "mote/base/bytes.hpp"
#include "mote/io/address.hpp"

namespace mote::net {

class PendingPackets {
 public:
  PendingPackets() = default;
  PendingPackets(ByteSpan storage, std::size_t per_neighbour)
      : storage_(storage), per_neighbour_(per_neighbour) {}

  // Copies `packet` in; false (nothing stored) when over a limit.
  bool push(io::Ipv4Address next_hop, ConstByteSpan packet);
  // Copies the oldest packet for `next_hop` into `out` and removes it;
  // returns its length, 0 when there is none (or it does not fit `out`,
  // in which case it is dropped).
  std::size_t take(io::Ipv4Address next_hop, ByteSpan out);
  // Drops every packet for `next_hop` (resolution failed); returns how many.
  std::size_t drop(io::Ipv4Address next_hop);
  [[nodiscard]] std::size_t count(io::Ipv4Address next_hop) const;

  // Calls fn(next_hop) for each stored packet, oldest first, until it
  // returns true; returns whether one did.
  template <typename Fn>
  bool any_of(Fn&& fn) const {
    for (std::size_t at = 0; at < used_; at += kHeaderLen + load_be16(storage_.data() + at)) {
      if (fn(io::Ipv4Address::from_bytes(storage_.data() + at + 2))) return true;
    }
    return false;
  }

  [[nodiscard]] bool empty() const { return used_ == 0; }
  void clear() { used_ = 0; }

 private:
  static constexpr std::size_t kHeaderLen = 6;  // length (2), next hop (4)
  // The offset of the first record for `next_hop`, or used_.
  [[nodiscard]] std::size_t find(io::Ipv4Address next_hop) const;
  void erase(std::size_t at);

  ByteSpan storage_;
  std::size_t used_ = 0;
  std::size_t per_neighbour_ = 0;
};

}  // namespace mote::net
