#pragma once
// The ROM layer of 1-Wire, written once over any hal::OneWireBus: selecting a
// device (MATCH ROM, or SKIP ROM when it is alone) and finding the devices on
// a bus (SEARCH ROM, Maxim application note 187).
//
// Every operation here is a sequence of bus operations and inherits their
// contract: it wakes when they complete, and cancelling it (destroying the
// awaiter) leaves the bus mid-protocol until the next reset(), which every
// operation begins with.

#include <cstddef>
#include <optional>
#include <span>

#include "mote/async/task.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/hal/one_wire.hpp"
#include "mote/hal/one_wire_rom.hpp"

namespace mote::drivers {

// Reset pulse, then MATCH ROM `rom` (or SKIP ROM when there is no rom): the
// bus is ready for a function command to that device.
// Errors: not_found (no presence pulse), unavailable (shorted bus).
template <hal::OneWireBus Bus>
async::Task<Status> one_wire_select(Bus& bus, std::optional<hal::OneWireRom> rom) {
  Result<bool> presence = co_await bus.reset();
  MOTE_CO_TRY(presence);
  if (!*presence) co_return Status::not_found();
  if (!rom) co_return co_await bus.write_byte(hal::kOneWireSkipRom);
  MOTE_CO_TRY(co_await bus.write_byte(hal::kOneWireMatchRom));
  for (int i = 0; i < 8; ++i) MOTE_CO_TRY(co_await bus.write_byte(rom->byte(i)));
  co_return ok_status();
}

// The SEARCH ROM state machine: each next() finds one more device, in
// increasing order of ROM codes read least significant bit first.
//
// Each pass runs 64 triplets: the master reads the bit of every device still
// taking part (wired-AND) and its complement; 01 or 10 means they all agree,
// 00 is a discrepancy: devices with both values remain. The master picks a
// direction and writes it; devices with the other bit drop out. The last
// discrepancy where 0 was taken is where the next pass takes 1.
class OneWireSearch {
 public:
  // The next device's ROM code, or nullopt once every device has been found
  // (at once when no device answers the reset).
  // Errors: data_loss (a ROM code failed its CRC, or the bus answered 11 in a
  // triplet: a device left mid-search; the search restarts), unavailable.
  template <hal::OneWireBus Bus>
  async::Task<Result<std::optional<hal::OneWireRom>>> next(Bus& bus);

  // Starts over from the first device.
  void restart() { *this = OneWireSearch(); }
  [[nodiscard]] bool finished() const { return finished_; }

 private:
  std::uint64_t rom_ = 0;      // the last code found
  int last_discrepancy_ = -1;  // bit where the last pass took 0 at a discrepancy
  bool finished_ = false;
};

// Every device on the bus, into `roms`; yields how many were found.
// Errors: resource_exhausted (more devices than roms.size(): `roms` holds the
// first ones found), and those of OneWireSearch::next.
template <hal::OneWireBus Bus>
async::Task<Result<std::size_t>> one_wire_search_all(Bus& bus, std::span<hal::OneWireRom> roms) {
  OneWireSearch search;
  std::size_t found = 0;
  // Bounded: each pass finds a new device or ends the search.
  for (;;) {
    Result<std::optional<hal::OneWireRom>> rom = co_await search.next(bus);
    MOTE_CO_TRY(rom);
    if (!*rom) co_return found;
    if (found == roms.size()) co_return Status::resource_exhausted();
    roms[found++] = **rom;
  }
}

template <hal::OneWireBus Bus>
async::Task<Result<std::optional<hal::OneWireRom>>> OneWireSearch::next(Bus& bus) {
  if (finished_) co_return std::optional<hal::OneWireRom>();
  Result<bool> presence = co_await bus.reset();
  MOTE_CO_TRY(presence);
  if (!*presence) {
    restart();
    finished_ = true;
    co_return std::optional<hal::OneWireRom>();
  }
  MOTE_CO_TRY(co_await bus.write_byte(hal::kOneWireSearchRom));

  std::uint64_t rom = 0;
  int last_zero = -1;
  for (int bit = 0; bit < 64; ++bit) {
    Result<bool> id_bit = co_await bus.read_bit();
    MOTE_CO_TRY(id_bit);
    Result<bool> complement = co_await bus.read_bit();
    MOTE_CO_TRY(complement);
    bool direction = false;
    if (*id_bit && *complement) {
      restart();  // nobody is taking part any more
      co_return Status::data_loss();
    }
    if (*id_bit != *complement) {
      direction = *id_bit;  // every device left has this bit
    } else if (bit < last_discrepancy_) {
      direction = ((rom_ >> bit) & 1u) != 0;  // the same way as the last pass
    } else {
      direction = bit == last_discrepancy_;  // 1 where 0 was taken last time
    }
    if (*id_bit == *complement && !direction) last_zero = bit;
    if (direction) rom |= std::uint64_t{1} << bit;
    MOTE_CO_TRY(co_await bus.write_bit(direction));
  }

  const hal::OneWireRom found(rom);
  if (!found.valid()) {
    restart();
    co_return Status::data_loss();
  }
  rom_ = rom;
  last_discrepancy_ = last_zero;
  finished_ = last_zero < 0;
  co_return std::optional<hal::OneWireRom>(found);
}

}  // namespace mote::drivers
