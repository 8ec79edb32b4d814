// Compiled by the cross presets only: instantiates every driver over the
// simulated backends, so a freestanding build proves the templates compile
// for Cortex-M (-ffreestanding -fno-exceptions -fno-rtti, no heap).

#include "mote/drivers/bme280.hpp"
#include "mote/drivers/ds18b20.hpp"
#include "mote/drivers/one_wire.hpp"
#include "mote/drivers/sht3x.hpp"
#include "mote/drivers/tmp102.hpp"
#include "mote/hal/delay.hpp"
#include "mote/hal/sim/bme280.hpp"
#include "mote/hal/sim/ds18b20.hpp"
#include "mote/hal/sim/i2c_bus.hpp"
#include "mote/hal/sim/one_wire_bus.hpp"
#include "mote/hal/sim/scripted_i2c.hpp"
#include "mote/hal/sim/sht3x.hpp"

namespace mote::drivers {

template class Ds18b20<hal::sim::SimOneWireBus, hal::ExecutorDelay>;
template class Bme280<hal::sim::SimI2cBus, hal::ExecutorDelay>;
template class Bme280<hal::sim::ScriptedI2c, hal::ExecutorDelay>;
template class Sht3x<hal::sim::SimI2cBus, hal::ExecutorDelay>;
template class Tmp102<hal::sim::ScriptedI2c, hal::ExecutorDelay>;
template async::Task<Result<std::size_t>> one_wire_search_all(hal::sim::SimOneWireBus&,
                                                              std::span<hal::OneWireRom>);

static_assert(hal::TemperatureSensor<Ds18b20<hal::sim::SimOneWireBus, hal::ExecutorDelay>>);
static_assert(hal::TemperatureSensor<Bme280<hal::sim::SimI2cBus, hal::ExecutorDelay>>);
static_assert(hal::TemperatureSensor<Sht3x<hal::sim::SimI2cBus, hal::ExecutorDelay>>);
static_assert(hal::TemperatureSensor<Tmp102<hal::sim::ScriptedI2c, hal::ExecutorDelay>>);

}  // namespace mote::drivers
