#include "mote/net/phy/cable.hpp"

#include "mote/async/executor.hpp"

namespace mote::net {

Cable::Cable(ByteSpan storage, DeviceCapabilities capabilities)
    : capabilities_(capabilities),
      a_to_b_(storage.first(storage.size() / 2)),
      b_to_a_(storage.subspan(storage.size() / 2)) {
  a_.cable_ = this;
  a_.incoming_ = &b_to_a_;
  a_.outgoing_ = &a_to_b_;
  a_.peer_ = &b_;
  b_.cable_ = this;
  b_.incoming_ = &a_to_b_;
  b_.outgoing_ = &b_to_a_;
  b_.peer_ = &a_;
}

Result<std::size_t> Cable::End::receive(Instant /*now*/, ByteSpan buffer) {
  return incoming_->pop_into(buffer);
}

Status Cable::End::transmit(Instant /*now*/, ConstByteSpan frame) {
  if (frame.size() > cable_->capabilities_.max_frame_len()) return Status::invalid_argument();
  MOTE_TRY(outgoing_->push(frame));
  peer_->waker_.wake();
  return ok_status();
}

Status Cable::End::commit_transmit(Instant /*now*/, std::size_t len) {
  MOTE_TRY(outgoing_->enqueue_written(cable_->capabilities_.max_frame_len(), len));
  peer_->waker_.wake();
  return ok_status();
}

}  // namespace mote::net
