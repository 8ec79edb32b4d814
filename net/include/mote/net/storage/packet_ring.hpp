#pragma once
// PacketRing: a FIFO of variable-length packets in caller-provided bytes, for
// socket buffers and link queues. Each packet is stored contiguously (so it
// can be handed out as one span) behind an 8-byte header holding its length
// and a small piece of metadata, the peer's IPv4 endpoint. When a packet
// does not fit between the write position and the end of the storage, the
// ring wraps and starts it at offset 0; the skipped tail is reused once the
// reader passes it. Never allocates.
//
//   PacketRing ring(storage);
//   if (auto room = ring.enqueue(payload.size(), {from, port}); room.ok())
//     std::memcpy(room->data(), payload.data(), payload.size());
//   while (auto packet = ring.peek()) { use(packet->payload); ring.dequeue(); }

#include <cstddef>
#include <cstdint>
#include <optional>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/io/address.hpp"

namespace mote::net {

// What a packet carries besides its bytes: the remote endpoint of a
// datagram (its source on receive, its destination on send).
struct PacketMeta {
  io::Ipv4Address address;
  std::uint16_t port = 0;

  friend constexpr bool operator==(const PacketMeta&, const PacketMeta&) = default;
};

class PacketRing {
 public:
  static constexpr std::size_t kHeaderLen = 8;  // length (2), port (2), address (4)

  PacketRing() = default;
  explicit PacketRing(ByteSpan storage) : storage_(storage) {}

  // Room for a packet of `len` bytes, to be filled by the caller at once;
  // resource_exhausted when it does not fit now (the ring is full enough),
  // out_of_range when it could never fit (larger than the storage allows).
  Result<ByteSpan> enqueue(std::size_t len, PacketMeta meta);
  // enqueue() and a copy of `data`: the same errors.
  Status push(ConstByteSpan data, PacketMeta meta = {});
  // In place, for a producer that builds a packet where it will be stored
  // (a device whose transmit queue is this ring): writable(max_len) is the
  // room an enqueue(max_len) would return now (empty when it does not fit),
  // for the caller to fill; enqueue_written(max_len, len, meta) then queues
  // its first `len` bytes. The ring must not change in between.
  [[nodiscard]] ByteSpan writable(std::size_t max_len) const;
  Status enqueue_written(std::size_t max_len, std::size_t len, PacketMeta meta = {});
  // Copies the oldest packet into `buffer` and drops it from the ring;
  // returns its length. unavailable when empty; resource_exhausted when it
  // is longer than `buffer` (it is dropped all the same).
  Result<std::size_t> pop_into(ByteSpan buffer);
  // Whether enqueue(len) would succeed now.
  [[nodiscard]] bool can_enqueue(std::size_t len) const;
  // Whether a packet of `len` bytes fits in the empty ring.
  [[nodiscard]] bool fits(std::size_t len) const {
    return len <= 0xffff && len + kHeaderLen <= storage_.size();
  }

  struct Packet {
    PacketMeta meta;
    ByteSpan payload;  // valid until dequeue()
  };
  // The oldest packet, if any.
  [[nodiscard]] std::optional<Packet> peek() const;
  // Drops the oldest packet. Precondition: not empty.
  void dequeue();

  [[nodiscard]] bool empty() const { return count_ == 0; }
  [[nodiscard]] std::size_t packet_count() const { return count_; }
  [[nodiscard]] std::size_t capacity() const { return storage_.size(); }
  void clear();

 private:
  // The free contiguous run where the next packet would start, given the
  // state; sets `wrap` when that run starts at offset 0.
  [[nodiscard]] std::size_t writable_at(std::size_t need, bool& wrap) const;

  ByteSpan storage_;
  std::size_t head_ = 0;  // first byte of the oldest packet
  std::size_t tail_ = 0;  // where the next packet goes
  std::size_t end_ = 0;   // while wrapped: where the data before the wrap ends
  bool wrapped_ = false;  // the data runs [head, end) then [0, tail)
  std::size_t count_ = 0;
};

}  // namespace mote::net
