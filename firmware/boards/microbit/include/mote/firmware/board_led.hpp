#pragma once
// The board's LED, for board-independent images (blinky, sensor_node): on
// the micro:bit the top-left LED of the 5x5 matrix, lit when its row (ROW1,
// P0.13) is high and its column (COL1, P0.04) low. set/toggle drive the row;
// read() is the row pin's level, latched() the OUT register.

#include "mote/firmware/nrf51_gpio.hpp"

namespace mote::firmware {

class BoardLed {
 public:
  static constexpr unsigned kRowPin = 13;
  static constexpr unsigned kColumnPin = 4;

  BoardLed()
      : column_(kColumnPin, Nrf51Pin::Mode::output, false),
        row_(kRowPin, Nrf51Pin::Mode::output, false) {}

  Status set(bool on) { return row_.set(on); }
  Status toggle() { return row_.toggle(); }
  Result<bool> read() const { return row_.read(); }
  [[nodiscard]] bool latched() const { return row_.latched(); }

 private:
  Nrf51Pin column_;
  Nrf51Pin row_;
};

}  // namespace mote::firmware
