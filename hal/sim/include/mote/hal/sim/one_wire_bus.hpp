#pragma once
// SimOneWireBus: a 1-Wire bus with simulated devices on it, modelled at the
// level of time slots so that everything above (ROM search, MATCH ROM,
// conversions polled bit by bit) runs for real.
//
// The line is wired-AND: in each slot the master pulls it low (writes 0) or
// releases it (writes 1, or reads); every device may pull it low too; all of
// them then sample the same level. A read slot is the master releasing the
// line, so read_bit() sees the AND of what every device sent, which is what
// makes the SEARCH ROM triplets (bit, complement, direction) work.
//
// Transfers take no virtual time (see immediate.hpp); device models read the
// executor's clock through the bus for what does take time (conversions).
//
// The strong pull-up (OneWireStrongPullUp) is modelled as a state the devices
// are told about (on_strong_pull_up), so a parasite-powered model can tell
// whether it had power for the whole of its conversion.
//
// Faults: set_shorted(true) holds the line low (every operation fails with
// unavailable, as the concept says); a device's set_responding(false) makes it
// vanish from the bus.

#include <cstddef>
#include <cstdint>

#include "mote/async/driver.hpp"
#include "mote/async/time.hpp"
#include "mote/base/inline_vector.hpp"
#include "mote/base/intrusive_list.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/hal/one_wire.hpp"
#include "mote/hal/one_wire_rom.hpp"
#include "mote/hal/sim/immediate.hpp"

namespace mote::hal::sim {

class SimOneWireBus;

// A device on the simulated bus. This base implements the ROM layer (READ
// ROM, MATCH ROM, SKIP ROM, SEARCH ROM) bit by bit; a model (SimDs18b20)
// implements the function layer through the hooks below, and chooses in each
// hook what the device does with the following slots: receive bytes,
// transmit bytes, answer read slots with a status bit, or go idle until the
// next reset.
class SimOneWireDevice {
 public:
  explicit SimOneWireDevice(OneWireRom rom) : rom_(rom) {}
  SimOneWireDevice(const SimOneWireDevice&) = delete;
  SimOneWireDevice& operator=(const SimOneWireDevice&) = delete;

  [[nodiscard]] OneWireRom rom() const { return rom_; }
  // A device that stops answering: no presence pulse, never pulls the line.
  void set_responding(bool responding) { responding_ = responding; }
  [[nodiscard]] bool responding() const { return responding_; }
  // True from a ROM command that addressed this device until the next reset.
  [[nodiscard]] bool selected() const { return state_ >= State::function_command; }

  // The bus's side, callable only by SimOneWireBus (which alone can make the
  // key; a passkey rather than friendship keeps the protected destructor
  // inaccessible, as -Wnon-virtual-dtor wants).
  class BusKey {
    friend class SimOneWireBus;
    BusKey() = default;
  };
  struct Link : IntrusiveListNode {
    explicit Link(SimOneWireDevice& owner) : device(owner) {}
    SimOneWireDevice& device;
  };
  Link& link(BusKey /*key*/) { return link_; }
  void set_bus(BusKey /*key*/, SimOneWireBus* bus);
  bool presence(BusKey /*key*/);
  [[nodiscard]] bool drive(BusKey /*key*/);
  void sample(BusKey /*key*/, bool line);
  void strong_pull_up(BusKey /*key*/, bool on) {
    if (responding_) on_strong_pull_up(on);
  }

 protected:
  // Not virtual: models are never destroyed through a base pointer (and a
  // virtual destructor would pull operator delete into firmware images).
  ~SimOneWireDevice() = default;

  // The bus's reset pulse reached this (responding) device.
  virtual void on_reset() {}
  // The first byte after a ROM command selected this device. The device goes
  // idle afterwards unless the hook chooses a mode.
  virtual void on_function_command(std::uint8_t /*command*/) {}
  // A byte the master wrote while the device was in receive_bytes() mode.
  virtual void on_byte_received(std::uint8_t /*byte*/) {}
  // What the device sends in a read slot in answer_polls() mode.
  virtual bool poll_bit() { return true; }
  // The master switched the strong pull-up on (right after a byte) or off.
  virtual void on_strong_pull_up(bool /*on*/) {}

  // Modes, chosen from the hooks.
  void receive_bytes();
  // Sends `bytes` (copied, up to kMaxTransmit) in the following read slots,
  // least significant bit first; then the line stays released (1s).
  void transmit(ConstByteSpan bytes);
  void answer_polls();
  void go_idle();

  // The executor's clock, through the bus (the device must be attached).
  [[nodiscard]] async::Instant now() const;

 private:
  static constexpr std::size_t kMaxTransmit = 16;

  enum class State : std::uint8_t {
    idle,  // waiting for a reset
    rom_command,
    read_rom,
    match_rom,
    search_bit,
    search_complement,
    search_direction,
    function_command,  // from here on: selected
    receive,
    transmit,
    poll,
  };

  bool shift_in(bool line);  // true when a whole byte has arrived in byte_

  Link link_{*this};
  SimOneWireBus* bus_ = nullptr;
  OneWireRom rom_;
  InlineVector<std::byte, kMaxTransmit> transmit_;
  std::size_t transmit_bit_ = 0;
  State state_ = State::idle;
  std::uint8_t bit_index_ = 0;  // ROM bit (0..63) or bit within byte_ (0..7)
  std::uint8_t byte_ = 0;
  bool responding_ = true;
};

class SimOneWireBus {
 public:
  // `clock`: the driver of the executor the bus is used from.
  explicit SimOneWireBus(async::Driver& clock) : clock_(clock) {}
  SimOneWireBus(const SimOneWireBus&) = delete;
  SimOneWireBus& operator=(const SimOneWireBus&) = delete;
  ~SimOneWireBus();

  // A device may sit on one bus at a time; detach it (or destroy the bus
  // first) before destroying it.
  void attach(SimOneWireDevice& device);
  void detach(SimOneWireDevice& device);

  // --- OneWireBus ------------------------------------------------------------
  auto reset() {
    return Immediate([this] { return reset_pulse(); });
  }
  auto write_bit(bool bit) {
    return Immediate([this, bit] { return slot(bit).status(); });
  }
  auto read_bit() {
    return Immediate([this] { return slot(true); });
  }
  auto write_byte(std::uint8_t byte) {
    return Immediate([this, byte] { return write_byte_now(byte); });
  }
  auto read_byte() {
    return Immediate([this] { return read_byte_now(); });
  }

  // --- OneWireStrongPullUp ---------------------------------------------------
  auto write_byte_then_pull_up(std::uint8_t byte) {
    return Immediate([this, byte] {
      MOTE_TRY(write_byte_now(byte));
      set_pull_up(true);
      return ok_status();
    });
  }
  auto end_pull_up() {
    return Immediate([this] {
      set_pull_up(false);
      return shorted_ ? Status::unavailable() : ok_status();
    });
  }

  // --- The test's side -------------------------------------------------------
  // A shorted line: held low, every operation fails with unavailable.
  void set_shorted(bool shorted) { shorted_ = shorted; }
  [[nodiscard]] std::size_t resets() const { return resets_; }
  [[nodiscard]] std::size_t slots() const { return slots_; }
  [[nodiscard]] bool strong_pull_up() const { return pull_up_; }
  // Times the strong pull-up was switched on.
  [[nodiscard]] std::size_t pull_ups() const { return pull_ups_; }
  [[nodiscard]] async::Instant now() const { return clock_.now(); }

 private:
  Result<bool> reset_pulse();
  Result<bool> slot(bool master_releases);
  Status write_byte_now(std::uint8_t byte);
  Result<std::uint8_t> read_byte_now();
  void set_pull_up(bool on);

  async::Driver& clock_;
  IntrusiveList<SimOneWireDevice::Link> devices_;
  std::size_t resets_ = 0;
  std::size_t slots_ = 0;
  std::size_t pull_ups_ = 0;
  bool shorted_ = false;
  bool pull_up_ = false;
};

static_assert(OneWireStrongPullUp<SimOneWireBus>);

}  // namespace mote::hal::sim
