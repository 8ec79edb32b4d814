#pragma once
// IPv4 reassembly (RFC 791 §3.2 "Fragmentation and Reassembly", with RFC
// 815's idea of tracking what is still missing): a fixed number of slots,
// each with a fixed share of caller-provided bytes, so a flood of fragments
// can hold at most that much memory and only until the timeout.
//
// Limits, each a reason to drop the whole datagram (and count it):
//   - no free slot for a new datagram (slots are not stolen from datagrams
//     already under way; the timeout frees them);
//   - the datagram is larger than a slot's bytes;
//   - more than kMaxRanges separate pieces arrive before they join up;
//   - a fragment overlaps another one only in part, or contradicts the total
//     length (Linux drops such datagrams too: overlaps are an attack pattern,
//     RFC 5722 says the same for IPv6). Exact duplicates are ignored.
//   - a fragment other than the last whose length is not a multiple of 8
//     (RFC 791: offsets count 8-octet units, so only the last may be ragged).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/net/wire/ipv4.hpp"

namespace mote::net {

struct ReassemblySlot {
  static constexpr std::size_t kMaxRanges = 8;
  struct Range {
    std::uint16_t begin = 0;
    std::uint16_t end = 0;  // exclusive
  };

  bool in_use = false;
  bool have_first = false;  // the offset-0 fragment, whose header is kept
  bool have_last = false;   // the MF=0 fragment, which gives the total length
  std::uint8_t range_count = 0;
  std::uint16_t total_len = 0;  // payload bytes, once have_last
  wire::Ipv4Repr header;        // key fields; the first fragment's, once have_first
  async::Instant expires_at;
  std::array<Range, kMaxRanges> ranges{};  // sorted, disjoint, not adjacent
};

struct ReassemblyStats {
  std::uint32_t reassembled = 0;
  std::uint32_t timed_out = 0;
  std::uint32_t dropped = 0;  // any of the limits above
};

class Reassembler {
 public:
  Reassembler() = default;
  // `bytes` is split evenly between the slots: each slot can rebuild a
  // datagram of bytes.size() / slots.size() payload bytes.
  Reassembler(std::span<ReassemblySlot> slots, ByteSpan bytes);

  struct Datagram {
    wire::Ipv4Repr header;  // fragment fields cleared, payload_len the whole
    ConstByteSpan payload;  // valid until the next add()
  };
  // Takes one fragment (`header.is_fragment()`, `payload` its data); call
  // expire(now) first so timed-out datagrams free their slots. Returns
  // the datagram when this fragment completes it. A datagram not complete
  // `timeout` after its first fragment arrived is dropped (RFC 791's
  // reassembly timer; RFC 1122 §3.3.2 suggests 60 to 120 s, Linux uses 30 s).
  std::optional<Datagram> add(async::Instant now, const wire::Ipv4Repr& header,
                              ConstByteSpan payload, async::Duration timeout);

  // What RFC 1122 §3.3.2 wants an ICMP time exceeded to quote for a
  // datagram whose reassembly timed out after fragment zero arrived: that
  // fragment's header and the first 64 bits of its data (RFC 792).
  struct Expired {
    wire::Ipv4Repr header;
    std::array<std::byte, 8> data{};
    std::size_t data_len = 0;
  };
  // Drops datagrams whose time is up. When one of them had fragment zero,
  // returns what to quote (one per call: the others are dropped silently,
  // a crude rate limit on ICMP errors).
  std::optional<Expired> expire(async::Instant now);
  // The earliest expiry of a datagram under way (kNever when none).
  [[nodiscard]] async::Instant next_expiry() const;

  [[nodiscard]] std::size_t slot_bytes() const { return slot_bytes_; }
  [[nodiscard]] std::size_t in_use() const;
  [[nodiscard]] const ReassemblyStats& stats() const { return stats_; }

 private:
  [[nodiscard]] ByteSpan bytes_of(const ReassemblySlot& slot) const;
  ReassemblySlot* slot_for(const wire::Ipv4Repr& header, async::Instant now,
                           async::Duration timeout);
  void drop(ReassemblySlot& slot);

  std::span<ReassemblySlot> slots_;
  ByteSpan bytes_;
  std::size_t slot_bytes_ = 0;
  ReassemblyStats stats_;
};

}  // namespace mote::net
