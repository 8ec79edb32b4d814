#include "mote/hal/sim/i2c_bus.hpp"

#include <algorithm>

#include "mote/base/assert.hpp"

namespace mote::hal::sim {

Status SimI2cDevice::on_read(ByteSpan buffer) {
  std::ranges::fill(buffer, std::byte{0xFF});  // a released SDA reads 1s
  return ok_status();
}

async::Instant SimI2cDevice::now() const {
  MOTE_ASSERT(bus_ != nullptr);
  return bus_->now();
}

SimI2cBus::~SimI2cBus() {
  while (!devices_.empty()) detach(devices_.front().device);
}

void SimI2cBus::attach(SimI2cDevice& device) {
  MOTE_ASSERT(!device.link({}).linked() && "a device sits on one bus at a time");
  device.set_bus({}, this);
  devices_.push_back(device.link({}));
}

void SimI2cBus::detach(SimI2cDevice& device) {
  devices_.remove(device.link({}));
  device.set_bus({}, nullptr);
}

Status SimI2cBus::transact(I2cAddress address, ConstByteSpan data, ByteSpan buffer, bool writes,
                           bool reads) {
  ++transactions_;
  if (address < 0x08 || address > 0x77) return Status::invalid_argument();
  if (stuck_) return Status::deadline_exceeded();
  for (SimI2cDevice::Link& link : devices_) {
    SimI2cDevice& device = link.device;
    if (device.address() != address || !device.responding()) continue;
    if (writes) MOTE_TRY(device.write({}, data));
    if (reads) MOTE_TRY(device.read({}, buffer));
    return ok_status();
  }
  return Status::not_found();
}

}  // namespace mote::hal::sim
