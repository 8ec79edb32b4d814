#include "mote/net/phy/loopback.hpp"

namespace mote::net {

Result<std::size_t> Loopback::receive(Instant /*now*/, ByteSpan buffer) {
  return ring_.pop_into(buffer);
}

Status Loopback::transmit(Instant /*now*/, ConstByteSpan frame) {
  if (frame.size() > capabilities_.max_frame_len()) return Status::invalid_argument();
  return ring_.push(frame);
}

}  // namespace mote::net
