#include "mote/net/iface/pending_packets.hpp"

#include <cstring>

namespace mote::net {

std::size_t PendingPackets::find(io::Ipv4Address next_hop) const {
  std::size_t at = 0;
  while (at < used_) {
    if (io::Ipv4Address::from_bytes(storage_.data() + at + 2) == next_hop) return at;
    at += kHeaderLen + load_be16(storage_.data() + at);
  }
  return used_;
}

std::size_t PendingPackets::count(io::Ipv4Address next_hop) const {
  std::size_t count = 0;
  any_of([&](io::Ipv4Address hop) {
    count += hop == next_hop ? 1 : 0;
    return false;
  });
  return count;
}

bool PendingPackets::push(io::Ipv4Address next_hop, ConstByteSpan packet) {
  const std::size_t need = kHeaderLen + packet.size();
  if (packet.size() > 0xffff || need > storage_.size() - used_) return false;
  if (count(next_hop) >= per_neighbour_) return false;
  std::byte* record = storage_.data() + used_;
  store_be16(record, static_cast<std::uint16_t>(packet.size()));
  next_hop.write_to(record + 2);
  if (!packet.empty()) std::memcpy(record + kHeaderLen, packet.data(), packet.size());
  used_ += need;
  return true;
}

void PendingPackets::erase(std::size_t at) {
  const std::size_t len = kHeaderLen + load_be16(storage_.data() + at);
  std::memmove(storage_.data() + at, storage_.data() + at + len, used_ - at - len);
  used_ -= len;
}

std::size_t PendingPackets::take(io::Ipv4Address next_hop, ByteSpan out) {
  const std::size_t at = find(next_hop);
  if (at == used_) return 0;
  const std::size_t len = load_be16(storage_.data() + at);
  const bool fits = len <= out.size();
  if (fits && len > 0) std::memcpy(out.data(), storage_.data() + at + kHeaderLen, len);
  erase(at);
  return fits ? len : 0;
}

std::size_t PendingPackets::drop(io::Ipv4Address next_hop) {
  std::size_t dropped = 0;
  for (std::size_t at = find(next_hop); at != used_; at = find(next_hop)) {
    erase(at);
    ++dropped;
  }
  return dropped;
}

}  // namespace mote::net
