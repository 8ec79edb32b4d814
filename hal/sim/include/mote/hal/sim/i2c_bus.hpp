#pragma once
// SimI2cBus: an I2cBus that routes each transaction to the simulated device
// at its address (SimBme280, or a test's own SimI2cDevice). A write delivers
// the bytes to the device; a read asks it for bytes; write_read is both with
// a repeated START between them (the device sees no STOP).
//
// Errors, as hal/i2c.hpp has them: invalid_argument for an address outside
// 0x08..0x77, not_found when no device (or a silent one) is at the address,
// deadline_exceeded while set_stuck(true) (a line held low), and whatever a
// device model returns (data_loss for a NACKed data byte).
//
// Transactions take no virtual time; models read the executor's clock
// through the bus where theirs does (a BME280 measurement).

#include <cstddef>

#include "mote/async/driver.hpp"
#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/intrusive_list.hpp"
#include "mote/base/status.hpp"
#include "mote/hal/i2c.hpp"
#include "mote/hal/sim/immediate.hpp"

namespace mote::hal::sim {

class SimI2cBus;

class SimI2cDevice {
 public:
  explicit SimI2cDevice(I2cAddress address) : address_(address) {}
  SimI2cDevice(const SimI2cDevice&) = delete;
  SimI2cDevice& operator=(const SimI2cDevice&) = delete;

  [[nodiscard]] I2cAddress address() const { return address_; }
  // A silent device does not acknowledge its address: not_found.
  void set_responding(bool responding) { responding_ = responding; }
  [[nodiscard]] bool responding() const { return responding_; }

  // The bus's side, callable only by SimI2cBus (see SimOneWireDevice::BusKey).
  class BusKey {
    friend class SimI2cBus;
    BusKey() = default;
  };
  struct Link : IntrusiveListNode {
    explicit Link(SimI2cDevice& owner) : device(owner) {}
    SimI2cDevice& device;
  };
  Link& link(BusKey /*key*/) { return link_; }
  void set_bus(BusKey /*key*/, SimI2cBus* bus) { bus_ = bus; }
  Status write(BusKey /*key*/, ConstByteSpan data) { return on_write(data); }
  Status read(BusKey /*key*/, ByteSpan buffer) { return on_read(buffer); }

 protected:
  ~SimI2cDevice() = default;  // not virtual: see SimOneWireDevice

  // The bytes the controller wrote after the address.
  virtual Status on_write(ConstByteSpan /*data*/) { return ok_status(); }
  // Fill `buffer` with the bytes the device sends.
  virtual Status on_read(ByteSpan buffer);

  [[nodiscard]] bool attached() const { return bus_ != nullptr; }
  // The executor's clock, through the bus (the device must be attached).
  [[nodiscard]] async::Instant now() const;

 private:
  Link link_{*this};
  SimI2cBus* bus_ = nullptr;
  I2cAddress address_;
  bool responding_ = true;
};

class SimI2cBus {
 public:
  // `clock`: the driver of the executor the bus is used from.
  explicit SimI2cBus(async::Driver& clock) : clock_(clock) {}
  SimI2cBus(const SimI2cBus&) = delete;
  SimI2cBus& operator=(const SimI2cBus&) = delete;
  ~SimI2cBus();

  void attach(SimI2cDevice& device);
  void detach(SimI2cDevice& device);

  // --- I2cBus --------------------------------------------------------------
  auto write(I2cAddress address, ConstByteSpan data) {
    return Immediate([this, address, data] { return transact(address, data, {}, true, false); });
  }
  auto read(I2cAddress address, ByteSpan buffer) {
    return Immediate(
        [this, address, buffer] { return transact(address, {}, buffer, false, true); });
  }
  auto write_read(I2cAddress address, ConstByteSpan data, ByteSpan buffer) {
    return Immediate(
        [this, address, data, buffer] { return transact(address, data, buffer, true, true); });
  }

  // --- The test's side -----------------------------------------------------
  void set_stuck(bool stuck) { stuck_ = stuck; }
  [[nodiscard]] std::size_t transactions() const { return transactions_; }
  [[nodiscard]] async::Instant now() const { return clock_.now(); }

 private:
  Status transact(I2cAddress address, ConstByteSpan data, ByteSpan buffer, bool writes, bool reads);

  async::Driver& clock_;
  IntrusiveList<SimI2cDevice::Link> devices_;
  std::size_t transactions_ = 0;
  bool stuck_ = false;
};

static_assert(I2cBus<SimI2cBus>);

}  // namespace mote::hal::sim
