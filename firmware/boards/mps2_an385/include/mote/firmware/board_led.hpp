#pragma once
// The board's LED, for board-independent images (blinky, sensor_node): on
// the MPS2 user LED 0 of the FPGA I/O block. read() and latched() are both
// the LED0 register's read-back.

#include "mote/firmware/fpgaio_led.hpp"

namespace mote::firmware {

class BoardLed : public FpgaioLed {
 public:
  BoardLed() : FpgaioLed(0) {}
};

}  // namespace mote::firmware
