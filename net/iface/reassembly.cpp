#include "mote/net/iface/reassembly.hpp"

#include <algorithm>
#include <cstring>

namespace mote::net {

using wire::Ipv4Repr;

Reassembler::Reassembler(std::span<ReassemblySlot> slots, ByteSpan bytes)
    : slots_(slots), bytes_(bytes) {
  slot_bytes_ = slots.empty() ? 0 : bytes.size() / slots.size();
  // Offsets are 16-bit: no datagram exceeds 65535 bytes.
  if (slot_bytes_ > 0xffff) slot_bytes_ = 0xffff;
}

ByteSpan Reassembler::bytes_of(const ReassemblySlot& slot) const {
  const auto index = static_cast<std::size_t>(&slot - slots_.data());
  return bytes_.subspan(index * slot_bytes_, slot_bytes_);
}

std::size_t Reassembler::in_use() const {
  std::size_t count = 0;
  for (const ReassemblySlot& slot : slots_) count += slot.in_use ? 1 : 0;
  return count;
}

void Reassembler::drop(ReassemblySlot& slot) {
  slot = ReassemblySlot{};
  ++stats_.dropped;
}

ReassemblySlot* Reassembler::slot_for(const Ipv4Repr& header, async::Instant now,
                                      async::Duration timeout) {
  ReassemblySlot* free = nullptr;
  for (ReassemblySlot& slot : slots_) {
    if (!slot.in_use) {
      if (free == nullptr) free = &slot;
      continue;
    }
    // RFC 791 §3.2: fragments belong together when "the four fields
    // identification, source, destination, and protocol" match.
    if (slot.header.identification == header.identification &&
        slot.header.source == header.source && slot.header.destination == header.destination &&
        slot.header.protocol == header.protocol) {
      return &slot;
    }
  }
  if (free == nullptr) return nullptr;
  *free = ReassemblySlot{};
  free->in_use = true;
  free->header = header;
  free->expires_at = now + timeout;
  return free;
}

std::optional<Reassembler::Datagram> Reassembler::add(async::Instant now, const Ipv4Repr& header,
                                                      ConstByteSpan payload,
                                                      async::Duration timeout) {
  ReassemblySlot* slot = slot_for(header, now, timeout);
  if (slot == nullptr) {
    ++stats_.dropped;
    return std::nullopt;
  }
  const std::size_t begin = header.fragment_offset;
  const std::size_t end = begin + payload.size();
  // RFC 791: every fragment but the last carries a multiple of 8 octets.
  if ((header.more_fragments && payload.size() % 8 != 0) || end > slot_bytes_) {
    drop(*slot);
    return std::nullopt;
  }
  if (!header.more_fragments) {
    if (slot->have_last && slot->total_len != end) {
      drop(*slot);
      return std::nullopt;
    }
    for (std::uint8_t i = 0; i < slot->range_count; ++i) {
      if (slot->ranges[i].end > end) {
        drop(*slot);
        return std::nullopt;
      }
    }
    slot->have_last = true;
    slot->total_len = static_cast<std::uint16_t>(end);
  } else if (slot->have_last && end > slot->total_len) {
    drop(*slot);
    return std::nullopt;
  }

  if (!payload.empty()) {
    std::uint8_t index = 0;  // where the new range goes
    for (; index < slot->range_count; ++index) {
      const ReassemblySlot::Range range = slot->ranges[index];
      if (begin >= range.begin && end <= range.end) return std::nullopt;  // a duplicate
      if (begin < range.end && end > range.begin) {
        drop(*slot);
        return std::nullopt;
      }
      if (end <= range.begin) break;
    }
    std::memcpy(bytes_of(*slot).data() + begin, payload.data(), payload.size());
    ReassemblySlot::Range added{static_cast<std::uint16_t>(begin), static_cast<std::uint16_t>(end)};
    // Join the neighbours it touches.
    const bool join_before = index > 0 && slot->ranges[index - 1].end == added.begin;
    const bool join_after = index < slot->range_count && slot->ranges[index].begin == added.end;
    if (join_before && join_after) {
      slot->ranges[index - 1].end = slot->ranges[index].end;
      for (std::uint8_t i = index; i + 1 < slot->range_count; ++i) {
        slot->ranges[i] = slot->ranges[i + 1];
      }
      --slot->range_count;
    } else if (join_before) {
      slot->ranges[index - 1].end = added.end;
    } else if (join_after) {
      slot->ranges[index].begin = added.begin;
    } else {
      if (slot->range_count == ReassemblySlot::kMaxRanges) {
        drop(*slot);
        return std::nullopt;
      }
      for (std::uint8_t i = slot->range_count; i > index; --i)
        slot->ranges[i] = slot->ranges[i - 1];
      slot->ranges[index] = added;
      ++slot->range_count;
    }
  }
  if (begin == 0) {
    slot->have_first = true;
    slot->header = header;
  }

  if (!slot->have_last || slot->range_count != 1 || slot->ranges[0].begin != 0 ||
      slot->ranges[0].end != slot->total_len) {
    return std::nullopt;
  }
  Datagram datagram{slot->header, bytes_of(*slot).first(slot->total_len)};
  datagram.header.more_fragments = false;
  datagram.header.fragment_offset = 0;
  datagram.header.payload_len = slot->total_len;
  *slot = ReassemblySlot{};
  ++stats_.reassembled;
  return datagram;
}

std::optional<Reassembler::Expired> Reassembler::expire(async::Instant now) {
  std::optional<Expired> expired;
  for (ReassemblySlot& slot : slots_) {
    if (!slot.in_use || slot.expires_at > now) continue;
    if (slot.have_first && !expired) {
      expired.emplace();
      expired->header = slot.header;
      // Fragment zero's data starts the slot's bytes.
      const std::size_t first_end = slot.ranges[0].begin == 0 ? slot.ranges[0].end : 0;
      expired->data_len = std::min<std::size_t>(expired->data.size(), first_end);
      std::memcpy(expired->data.data(), bytes_of(slot).data(), expired->data_len);
    }
    slot = ReassemblySlot{};
    ++stats_.timed_out;
  }
  return expired;
}

async::Instant Reassembler::next_expiry() const {
  async::Instant next = async::kNever;
  for (const ReassemblySlot& slot : slots_) {
    if (slot.in_use && slot.expires_at < next) next = slot.expires_at;
  }
  return next;
}

}  // namespace mote::net
