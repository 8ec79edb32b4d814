#include "mote/net/iface/neighbour_cache.hpp"

namespace mote::net {

Neighbour* NeighbourCache::find(io::Ipv4Address address) {
  for (Neighbour& entry : entries_) {
    if (entry.state != Neighbour::State::free && entry.address == address) return &entry;
  }
  return nullptr;
}

const wire::MacAddress* NeighbourCache::lookup(io::Ipv4Address address, async::Instant now) {
  Neighbour* entry = find(address);
  if (entry == nullptr || entry->state != Neighbour::State::reachable) return nullptr;
  if (entry->deadline <= now) {
    entry->state = Neighbour::State::free;
    return nullptr;
  }
  return &entry->hardware_address;
}

Neighbour* NeighbourCache::take_entry(async::Instant now) {
  Neighbour* oldest = nullptr;
  for (Neighbour& entry : entries_) {
    if (entry.state == Neighbour::State::free) return &entry;
    if (entry.state == Neighbour::State::reachable) {
      if (entry.deadline <= now) return &entry;
      if (oldest == nullptr || entry.deadline < oldest->deadline) oldest = &entry;
    }
  }
  return oldest;
}

Neighbour* NeighbourCache::fill(io::Ipv4Address address, wire::MacAddress hardware_address,
                                async::Instant expires_at, async::Instant now) {
  Neighbour* entry = find(address);
  if (entry == nullptr) entry = take_entry(now);
  if (entry == nullptr) return nullptr;
  entry->state = Neighbour::State::reachable;
  entry->address = address;
  entry->hardware_address = hardware_address;
  entry->deadline = expires_at;
  entry->attempts = 0;
  return entry;
}

Neighbour* NeighbourCache::start(io::Ipv4Address address, async::Instant now) {
  Neighbour* entry = find(address);
  if (entry == nullptr) entry = take_entry(now);
  if (entry == nullptr) return nullptr;
  entry->state = Neighbour::State::incomplete;
  entry->address = address;
  entry->hardware_address = {};
  entry->attempts = 0;
  entry->deadline = now;  // the first request is due at once
  return entry;
}

void NeighbourCache::clear() {
  for (Neighbour& entry : entries_) entry = Neighbour{};
}

}  // namespace mote::net
