#pragma once
// What every packet view in mote::net::wire shares.
//
// A view is a class template over the bytes it looks at: `Foo<ConstByteSpan>`
// (the default, `Foo<>`) reads a received packet, `Foo<ByteSpan>` can also
// write one. It is made in one of two ways:
//   Foo<>::checked(bytes)   validates every length the accessors rely on and
//                           returns the view or the reason it cannot be one;
//                           after that no accessor can fail or read past the
//                           end of `bytes`.
//   Foo<ByteSpan>::unchecked(bytes)   for emitting into a buffer the caller
//                           has sized from a Repr's buffer_len(); it asserts
//                           only that the fixed header fits.
// Fields are read and written with load_be*/store_be*, one byte at a time,
// so a view works on any alignment (Cortex-M0 faults on unaligned words).
//
// The errors, the same in every protocol:
//   out_of_range      truncated: the buffer ends before a length says it should
//   invalid_argument  malformed: a field holds a value the RFC forbids
//   data_loss         a checksum does not match
//   unimplemented     well-formed but not supported here (e.g. ARP for IPv6)
//   resource_exhausted  emit: the buffer is smaller than buffer_len()
// An emit that fails may have written part of the buffer.

#include <concepts>
#include <cstddef>
#include <cstring>

#include "mote/base/bytes.hpp"

namespace mote::net::wire {

template <typename Bytes>
concept PacketBytes = std::same_as<Bytes, ConstByteSpan> || std::same_as<Bytes, ByteSpan>;

template <typename Bytes>
inline constexpr bool kIsWritable = std::same_as<Bytes, ByteSpan>;

// Whether two byte ranges hold the same bytes (Repr equality compares the
// payloads they point at, not where they point).
[[nodiscard]] constexpr bool same_bytes(ConstByteSpan a, ConstByteSpan b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Copies `from` to `to`, which has room; nothing to do when the payload was
// built in place already (the zero-copy way to emit a stack of layers). The
// ranges may overlap.
inline void copy_bytes(ConstByteSpan from, std::byte* to) {
  if (from.empty() || from.data() == to) return;
  std::memmove(to, from.data(), from.size());
}

}  // namespace mote::net::wire
