#include "mote/hal/sim/one_wire_bus.hpp"

#include "mote/base/assert.hpp"

namespace mote::hal::sim {

// --- SimOneWireDevice ----------------------------------------------------------

void SimOneWireDevice::receive_bytes() {
  state_ = State::receive;
  bit_index_ = 0;
  byte_ = 0;
}

void SimOneWireDevice::transmit(ConstByteSpan bytes) {
  MOTE_ASSERT(bytes.size() <= kMaxTransmit);
  transmit_.clear();
  for (std::byte b : bytes) transmit_.push_back(b);
  transmit_bit_ = 0;
  state_ = State::transmit;
}

void SimOneWireDevice::answer_polls() { state_ = State::poll; }

void SimOneWireDevice::go_idle() { state_ = State::idle; }

async::Instant SimOneWireDevice::now() const {
  MOTE_ASSERT(bus_ != nullptr);
  return bus_->now();
}

void SimOneWireDevice::set_bus(BusKey /*key*/, SimOneWireBus* bus) {
  bus_ = bus;
  state_ = State::idle;
}

bool SimOneWireDevice::presence(BusKey /*key*/) {
  if (!responding_) {
    state_ = State::idle;
    return false;
  }
  state_ = State::rom_command;
  bit_index_ = 0;
  byte_ = 0;
  on_reset();
  return true;
}

bool SimOneWireDevice::drive(BusKey /*key*/) {
  if (!responding_) return true;
  switch (state_) {
    case State::read_rom:
    case State::search_bit: return rom_.bit(bit_index_);
    case State::search_complement: return !rom_.bit(bit_index_);
    case State::transmit: {
      const std::size_t byte = transmit_bit_ / 8;
      if (byte >= transmit_.size()) return true;
      return ((std::to_integer<unsigned>(transmit_[byte]) >> (transmit_bit_ % 8)) & 1u) != 0;
    }
    case State::poll: return poll_bit();
    default: return true;  // receiving, or not taking part: the line is released
  }
}

bool SimOneWireDevice::shift_in(bool line) {
  if (line) byte_ = static_cast<std::uint8_t>(byte_ | (1u << bit_index_));
  if (++bit_index_ < 8) return false;
  bit_index_ = 0;
  return true;
}

void SimOneWireDevice::sample(BusKey /*key*/, bool line) {
  if (!responding_) return;
  switch (state_) {
    case State::idle:
    case State::poll: return;
    case State::rom_command: {
      if (!shift_in(line)) return;
      const std::uint8_t command = byte_;
      byte_ = 0;
      switch (command) {
        case kOneWireReadRom: state_ = State::read_rom; break;
        case kOneWireMatchRom: state_ = State::match_rom; break;
        case kOneWireSkipRom: state_ = State::function_command; break;
        case kOneWireSearchRom: state_ = State::search_bit; break;
        default: state_ = State::idle; break;  // ALARM SEARCH etc. are not modelled
      }
      return;
    }
    case State::read_rom:
      if (++bit_index_ == 64) {
        state_ = State::function_command;
        bit_index_ = 0;
      }
      return;
    case State::match_rom:
      if (line != rom_.bit(bit_index_)) {
        state_ = State::idle;  // addressed to another device
        return;
      }
      if (++bit_index_ == 64) {
        state_ = State::function_command;
        bit_index_ = 0;
      }
      return;
    case State::search_bit: state_ = State::search_complement; return;
    case State::search_complement: state_ = State::search_direction; return;
    case State::search_direction:
      // The master's direction bit: devices whose bit differs drop out.
      if (line != rom_.bit(bit_index_)) {
        state_ = State::idle;
        return;
      }
      if (++bit_index_ == 64) {
        state_ = State::function_command;  // the search selected this device
        bit_index_ = 0;
      } else {
        state_ = State::search_bit;
      }
      return;
    case State::function_command: {
      if (!shift_in(line)) return;
      const std::uint8_t command = byte_;
      byte_ = 0;
      state_ = State::idle;
      on_function_command(command);
      return;
    }
    case State::receive: {
      if (!shift_in(line)) return;
      const std::uint8_t byte = byte_;
      byte_ = 0;
      on_byte_received(byte);
      return;
    }
    case State::transmit: ++transmit_bit_; return;
  }
}

// --- SimOneWireBus ---------------------------------------------------------------

SimOneWireBus::~SimOneWireBus() {
  while (!devices_.empty()) detach(devices_.front().device);
}

void SimOneWireBus::attach(SimOneWireDevice& device) {
  MOTE_ASSERT(!device.link({}).linked() && "a device sits on one bus at a time");
  device.set_bus({}, this);
  devices_.push_back(device.link({}));
}

void SimOneWireBus::detach(SimOneWireDevice& device) {
  devices_.remove(device.link({}));
  device.set_bus({}, nullptr);
}

void SimOneWireBus::set_pull_up(bool on) {
  if (on == pull_up_) return;
  pull_up_ = on;
  if (on) ++pull_ups_;
  for (SimOneWireDevice::Link& link : devices_) link.device.strong_pull_up({}, on);
}

Result<bool> SimOneWireBus::reset_pulse() {
  set_pull_up(false);  // any other operation ends the strong pull-up
  ++resets_;
  if (shorted_) return Status::unavailable();
  bool presence = false;
  for (SimOneWireDevice::Link& link : devices_) presence = link.device.presence({}) || presence;
  return presence;
}

Result<bool> SimOneWireBus::slot(bool master_releases) {
  set_pull_up(false);
  ++slots_;
  if (shorted_) return Status::unavailable();
  // Wired-AND: every device drives first, then all sample the same level.
  bool line = master_releases;
  for (SimOneWireDevice::Link& link : devices_) line = link.device.drive({}) && line;
  for (SimOneWireDevice::Link& link : devices_) link.device.sample({}, line);
  return line;
}

Status SimOneWireBus::write_byte_now(std::uint8_t byte) {
  for (int i = 0; i < 8; ++i) {
    Result<bool> line = slot(((byte >> i) & 1u) != 0);
    if (!line.ok()) return line.status();
  }
  return ok_status();
}

Result<std::uint8_t> SimOneWireBus::read_byte_now() {
  std::uint8_t byte = 0;
  for (int i = 0; i < 8; ++i) {
    Result<bool> line = slot(true);
    if (!line.ok()) return line.status();
    if (*line) byte = static_cast<std::uint8_t>(byte | (1u << i));
  }
  return byte;
}

}  // namespace mote::hal::sim
