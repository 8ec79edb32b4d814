#include "mote/net/storage/packet_ring.hpp"

#include <cstring>

#include "mote/base/assert.hpp"

namespace mote::net {

std::size_t PacketRing::writable_at(std::size_t need, bool& wrap) const {
  wrap = false;
  if (count_ == 0) return need <= storage_.size() ? 0 : storage_.size();
  if (wrapped_) return tail_ + need <= head_ ? tail_ : storage_.size();
  if (tail_ + need <= storage_.size()) return tail_;
  if (need <= head_) {
    wrap = true;
    return 0;
  }
  return storage_.size();
}

bool PacketRing::can_enqueue(std::size_t len) const {
  if (!fits(len)) return false;
  bool wrap = false;
  return writable_at(len + kHeaderLen, wrap) < storage_.size();
}

Result<ByteSpan> PacketRing::enqueue(std::size_t len, PacketMeta meta) {
  if (!fits(len)) return Status::out_of_range();
  const std::size_t need = len + kHeaderLen;
  if (count_ == 0) {
    // Empty: start over at 0, so the whole storage is one free run.
    head_ = tail_ = 0;
    wrapped_ = false;
  }
  bool wrap = false;
  const std::size_t at = writable_at(need, wrap);
  if (at >= storage_.size()) return Status::resource_exhausted();
  if (wrap) {
    end_ = tail_;
    wrapped_ = true;
  }
  std::byte* header = storage_.data() + at;
  store_be16(header, static_cast<std::uint16_t>(len));
  store_be16(header + 2, meta.port);
  meta.address.write_to(header + 4);
  tail_ = at + need;
  ++count_;
  return storage_.subspan(at + kHeaderLen, len);
}

ByteSpan PacketRing::writable(std::size_t max_len) const {
  if (!fits(max_len)) return {};
  bool wrap = false;
  const std::size_t at = writable_at(max_len + kHeaderLen, wrap);
  if (at >= storage_.size()) return {};
  return storage_.subspan(at + kHeaderLen, max_len);
}

Status PacketRing::enqueue_written(std::size_t max_len, std::size_t len, PacketMeta meta) {
  MOTE_ASSERT(len <= max_len);
  // The same position as writable(max_len) gave, then the unused end given
  // back.
  MOTE_TRY_ASSIGN(ByteSpan room, enqueue(max_len, meta));
  store_be16(room.data() - kHeaderLen, static_cast<std::uint16_t>(len));
  tail_ -= max_len - len;
  return ok_status();
}

std::optional<PacketRing::Packet> PacketRing::peek() const {
  if (count_ == 0) return std::nullopt;
  const std::byte* header = storage_.data() + head_;
  const std::size_t len = load_be16(header);
  Packet packet;
  packet.meta.port = load_be16(header + 2);
  packet.meta.address = io::Ipv4Address::from_bytes(header + 4);
  packet.payload = storage_.subspan(head_ + kHeaderLen, len);
  return packet;
}

void PacketRing::dequeue() {
  MOTE_ASSERT(count_ > 0);
  head_ += kHeaderLen + load_be16(storage_.data() + head_);
  --count_;
  if (wrapped_ && head_ == end_) {
    head_ = 0;
    wrapped_ = false;
  }
  if (count_ == 0) clear();
}

Status PacketRing::push(ConstByteSpan data, PacketMeta meta) {
  MOTE_TRY_ASSIGN(ByteSpan room, enqueue(data.size(), meta));
  if (!data.empty()) std::memcpy(room.data(), data.data(), data.size());
  return ok_status();
}

Result<std::size_t> PacketRing::pop_into(ByteSpan buffer) {
  const std::optional<Packet> packet = peek();
  if (!packet) return Status::unavailable();
  const std::size_t len = packet->payload.size();
  const bool fits = len <= buffer.size();
  if (fits && len != 0) std::memcpy(buffer.data(), packet->payload.data(), len);
  dequeue();
  if (!fits) return Status::resource_exhausted();
  return len;
}

void PacketRing::clear() {
  head_ = tail_ = end_ = 0;
  wrapped_ = false;
  count_ = 0;
}

}  // namespace mote::net
