#include "mote/net/phy/loopback.hpp"

#include <cstring>

namespace mote::net {

Result<std::size_t> Loopback::receive(Instant /*now*/, ByteSpan buffer) {
  const std::optional<PacketRing::Packet> frame = ring_.peek();
  if (!frame) return Status::unavailable();
  const std::size_t len = frame->payload.size();
  if (len > buffer.size()) {
    ring_.dequeue();
    return Status::resource_exhausted();
  }
  std::memcpy(buffer.data(), frame->payload.data(), len);
  ring_.dequeue();
  return len;
}

Status Loopback::transmit(Instant /*now*/, ConstByteSpan frame) {
  if (frame.size() > capabilities_.max_frame_len()) return Status::invalid_argument();
  MOTE_TRY_ASSIGN(ByteSpan room, ring_.enqueue(frame.size(), {}));
  if (!frame.empty()) std::memcpy(room.data(), frame.data(), frame.size());
  return ok_status();
}

}  // namespace mote::net
