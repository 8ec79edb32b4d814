// sensor_node: several tasks running concurrently on one executor, each in
// its own static TaskStorage, over the real sensor drivers and the simulated
// buses (hal_sim), with hal::ExecutorDelay on the SysTick clock:
//   ds_sampler   finds the two DS18B20 on a SimOneWireBus (SEARCH ROM), sets
//                the second to 10 bits, then every kDsPeriod reads both
//                (Ds18b20::read_temperature: CONVERT T polled every 10 ms)
//   bme_sampler  every kBmePeriod reads the BME280 on a SimI2cBus
//                (Bme280::read: init on first use, forced mode)
//   reporter     receives the readings from one Channel and writes one line
//                per reading to the board UART, a round at a time in a fixed
//                order (the samplers' rounds interleave as the clock says;
//                the UART output does not depend on it)
//   ticker       sleeps kTickPeriod at a time while the samplers run,
//                counting the ticks that fell inside a DS18B20 conversion
// The board's LED (BoardLed, a hal::DigitalOutput) is lit while a DS18B20
// converts: the ticker checks it is lit whenever it finds a conversion running.
// Before each round the samplers set what the models will measure (the
// "environment"). main checks every reading against the values the drivers
// document (DS18B20: raw x 125 / 2 toward zero, after the part zeroes the
// bits below its resolution; BME280: the datasheet's worked example),
// prints each task's frame high-water mark on the semihosting console and
// returns 0 only if all is right. No time is printed: SysTick under QEMU
// follows the host clock.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <new>
#include <span>
#include <string_view>

#define MOTE_LOG_MODULE "sensor_node"
#include "mote/async/channel.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/base/log.hpp"
#include "mote/drivers/bme280.hpp"
#include "mote/drivers/ds18b20.hpp"
#include "mote/drivers/one_wire.hpp"
#include "mote/firmware/board.hpp"
#include "mote/firmware/board_led.hpp"
#include "mote/firmware/board_uart.hpp"
#include "mote/firmware/check.hpp"
#include "mote/firmware/semihosting.hpp"
#include "mote/firmware/systick_driver.hpp"
#include "mote/hal/delay.hpp"
#include "mote/hal/sim/bme280.hpp"
#include "mote/hal/sim/ds18b20.hpp"
#include "mote/hal/sim/i2c_bus.hpp"
#include "mote/hal/sim/one_wire_bus.hpp"

namespace {

using mote::firmware::check;

using namespace std::chrono_literals;
using mote::Result;
using mote::Status;
using mote::async::Task;
using mote::firmware::BoardUart;
using mote::hal::OneWireRom;
using mote::hal::sim::SimBme280;
using mote::hal::sim::SimDs18b20;
using mote::hal::sim::SimI2cBus;
using mote::hal::sim::SimOneWireBus;
using Thermometer = mote::drivers::Ds18b20<SimOneWireBus, mote::hal::ExecutorDelay>;
using Barometer = mote::drivers::Bme280<SimI2cBus, mote::hal::ExecutorDelay>;

constexpr int kRounds = 3;
constexpr std::size_t kDsCount = 2;
constexpr std::size_t kSlots = kDsCount + 1;  // DS18B20 by search order, then the BME280
constexpr std::size_t kBmeSlot = kDsCount;
constexpr mote::async::Duration kDsPeriod = 1000ms;  // a 12-bit conversion is 750 ms
constexpr mote::async::Duration kBmePeriod = 250ms;
constexpr mote::async::Duration kTickPeriod = 50ms;
constexpr int kSecondResolution = 10;

// The models: serials chosen so that the search (increasing ROM codes, read
// least significant bit first) finds the 21.5 °C one first.
constexpr std::uint64_t kSerials[kDsCount] = {0x0316'A279'9FB2, 0x0417'C0F3'A1D5};
// What each DS18B20 measures in each round, in 1/16 °C.
constexpr std::int16_t kSixteenths[kDsCount][kRounds] = {
    {344, 345, 346},  // 21.5, 21.5625, 21.625 °C (12 bits)
    {-52, -53, -51},  // -3.25, -3.3125, -3.1875 °C (10 bits: 1/4 °C steps)
};
// What the drivers must report: 21.5625 loses its half millidegree; at
// 10 bits the part zeroes the two low bits (two's complement: toward -inf),
// -53 -> -56 and -51 -> -52.
constexpr std::int32_t kExpectedMilliCelsius[kDsCount][kRounds] = {
    {21500, 21562, 21625},
    {-3250, -3500, -3250},
};
// The BMP280 datasheet's worked example (the SimBme280's default
// calibration) and a typical humidity count; drivers/bme280_test.cpp checks
// the same values.
constexpr std::int32_t kAdcP = 415148;
constexpr std::int32_t kAdcT = 519888;
constexpr std::int32_t kAdcH = 30000;
constexpr std::int32_t kBmeMilliCelsius = 25080;
constexpr std::int32_t kBmeMilliPascal = 100653253;
constexpr std::int32_t kBmeMilliPercentRh = 54997;

struct Reading {
  std::uint8_t slot = 0;
  std::uint8_t round = 0;
  Status status;
  std::int32_t temperature = 0;  // m°C
  std::int32_t pressure = 0;     // mPa (BME280)
  std::int32_t humidity = 0;     // m%RH (BME280)
};
using ReadingChannel = mote::async::Channel<Reading, 4>;

struct Models {
  explicit Models(mote::async::Driver& clock) : one_wire(clock), i2c(clock) {
    one_wire.attach(ds[0]);
    one_wire.attach(ds[1]);
    i2c.attach(bme);
    bme.set_raw(kAdcP, kAdcT, kAdcH);
  }
  // Devices before buses, so a destroyed Models would let go of them first.
  SimDs18b20 ds[kDsCount] = {SimDs18b20(kSerials[0]), SimDs18b20(kSerials[1])};
  SimBme280 bme{mote::drivers::bme280::kPrimaryAddress};
  SimOneWireBus one_wire;
  SimI2cBus i2c;
};

struct State {
  ReadingChannel readings;
  std::array<OneWireRom, kDsCount> roms{};
  std::size_t found = 0;
  Status ds_setup = Status::unknown();
  Reading received[kRounds][kSlots]{};
  bool have[kRounds][kSlots]{};
  int reported = 0;
  int unexpected = 0;  // readings outside the table, or twice
  int samplers_running = 2;
  bool converting = false;
  int ticks = 0;
  int ticks_converting = 0;                      // ticker wake-ups while a DS18B20 converted
  mote::firmware::BoardLed* busy_led = nullptr;  // lit while a DS18B20 converts
  int led_flashes = 0;
  int ticks_converting_unlit = 0;  // conversions the LED did not show
  bool led_failed = false;
};

// Closes the channel when the last sampler ends, however it ends.
struct SamplerDone {
  State& state;
  ~SamplerDone() {
    if (--state.samplers_running == 0) state.readings.close();
  }
};

Task<Status> ds_sampler(Models& models, State& state) {
  SamplerDone done{state};
  mote::hal::ExecutorDelay delay;
  Result<std::size_t> found = co_await mote::drivers::one_wire_search_all(
      models.one_wire, std::span<OneWireRom>(state.roms));
  if (!found.ok()) {
    state.ds_setup = found.status();
    co_return found.status();
  }
  state.found = *found;
  if (state.found != kDsCount) {
    state.ds_setup = Status::not_found();
    co_return state.ds_setup;
  }
  Thermometer sensors[kDsCount] = {Thermometer(models.one_wire, delay, state.roms[0]),
                                   Thermometer(models.one_wire, delay, state.roms[1])};
  state.ds_setup = co_await sensors[1].set_resolution(kSecondResolution);
  MOTE_CO_TRY(state.ds_setup);

  const mote::async::Instant start = mote::async::now();
  for (int round = 0; round < kRounds; ++round) {
    co_await mote::async::sleep_until(start + round * kDsPeriod);
    for (std::size_t i = 0; i < kDsCount; ++i) {
      models.ds[i].set_temperature_sixteenths(kSixteenths[i][round]);
    }
    for (std::size_t i = 0; i < kDsCount; ++i) {
      state.converting = true;
      state.led_failed |= !state.busy_led->set(true).ok();
      ++state.led_flashes;
      Result<mote::hal::MilliCelsius> t = co_await sensors[i].read_temperature();
      state.converting = false;
      state.led_failed |= !state.busy_led->set(false).ok();
      Reading reading;
      reading.slot = static_cast<std::uint8_t>(i);
      reading.round = static_cast<std::uint8_t>(round);
      reading.status = t.status();
      if (t.ok()) reading.temperature = t->value;
      MOTE_CO_TRY(co_await state.readings.send(reading));
    }
  }
  co_return mote::ok_status();
}

Task<Status> bme_sampler(Models& models, State& state) {
  SamplerDone done{state};
  mote::hal::ExecutorDelay delay;
  Barometer sensor(models.i2c, delay, mote::drivers::bme280::kPrimaryAddress);
  const mote::async::Instant start = mote::async::now();
  for (int round = 0; round < kRounds; ++round) {
    co_await mote::async::sleep_until(start + round * kBmePeriod);
    Result<mote::drivers::Bme280Reading> r = co_await sensor.read();
    Reading reading;
    reading.slot = kBmeSlot;
    reading.round = static_cast<std::uint8_t>(round);
    reading.status = r.status();
    if (r.ok()) {
      reading.temperature = r->temperature.value;
      reading.pressure = r->pressure ? r->pressure->value : 0;
      reading.humidity = r->humidity ? r->humidity->value : 0;
    }
    MOTE_CO_TRY(co_await state.readings.send(reading));
  }
  co_return mote::ok_status();
}

mote::ConstByteSpan bytes(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

// One reading as a line: Linux w1 names for the DS18B20 ("28-" and the
// 48-bit serial in hex), fixed-point integers with their units.
std::size_t format(char* line, std::size_t size, const State& state, const Reading& r) {
  int n = 0;
  if (r.slot < kDsCount) {
    const std::uint64_t serial = state.roms[r.slot].serial();
    n = std::snprintf(line, size, "ds18b20 %02x-%04lx%08lx ", state.roms[r.slot].family(),
                      static_cast<unsigned long>(serial >> 32),
                      static_cast<unsigned long>(serial & 0xFFFF'FFFFu));
  } else {
    n = std::snprintf(line, size, "bme280 0x%02x ", mote::drivers::bme280::kPrimaryAddress);
  }
  if (n < 0 || static_cast<std::size_t>(n) >= size) return 0;
  const std::size_t head = static_cast<std::size_t>(n);
  if (!r.status.ok()) {
    n = std::snprintf(line + head, size - head, "error %s\r\n", r.status.str());
  } else if (r.slot < kDsCount) {
    n = std::snprintf(line + head, size - head, "%ld mC\r\n", static_cast<long>(r.temperature));
  } else {
    n = std::snprintf(line + head, size - head, "%ld mC %ld mPa %ld m%%RH\r\n",
                      static_cast<long>(r.temperature), static_cast<long>(r.pressure),
                      static_cast<long>(r.humidity));
  }
  if (n < 0 || static_cast<std::size_t>(n) >= size - head) return 0;
  return head + static_cast<std::size_t>(n);
}

bool round_complete(const State& state, int round) {
  for (std::size_t slot = 0; slot < kSlots; ++slot) {
    if (!state.have[round][slot]) return false;
  }
  return true;
}

Task<Status> reporter(BoardUart& uart, State& state) {
  char line[96];
  int n = std::snprintf(line, sizeof line,
                        "mote sensor_node on %s: %d rounds of 2 x DS18B20 + BME280\r\n",
                        mote::firmware::board::kName, kRounds);
  if (n > 0) MOTE_CO_TRY(co_await uart.write(bytes(std::string_view(line, std::size_t(n)))));

  int next_round = 0;  // the first round not printed yet
  while (std::optional<Reading> r = co_await state.readings.receive()) {
    if (r->round >= kRounds || r->slot >= kSlots || state.have[r->round][r->slot]) {
      ++state.unexpected;
      continue;
    }
    state.received[r->round][r->slot] = *r;
    state.have[r->round][r->slot] = true;
    // Print whole rounds, in round and slot order, as soon as they are.
    while (next_round < kRounds && round_complete(state, next_round)) {
      for (std::size_t slot = 0; slot < kSlots; ++slot) {
        const std::size_t length =
            format(line, sizeof line, state, state.received[next_round][slot]);
        if (length == 0) co_return Status::internal();
        MOTE_CO_TRY(co_await uart.write(bytes(std::string_view(line, length))));
        ++state.reported;
      }
      ++next_round;
    }
  }
  n = std::snprintf(line, sizeof line, "sensor_node: %d readings in %d rounds\r\n", state.reported,
                    next_round);
  if (n > 0) MOTE_CO_TRY(co_await uart.write(bytes(std::string_view(line, std::size_t(n)))));
  co_return co_await uart.flush();
}

Task<void> ticker(State& state) {
  while (state.samplers_running > 0) {
    co_await mote::async::sleep_for(kTickPeriod);
    ++state.ticks;
    if (state.converting) {
      ++state.ticks_converting;
      if (!state.busy_led->latched()) ++state.ticks_converting_unlit;
    }
  }
}

mote::async::TaskStorage<1024> ds_storage;
mote::async::TaskStorage<1280> bme_storage;
mote::async::TaskStorage<512> reporter_storage;
mote::async::TaskStorage<128> ticker_storage;
State state;
// The models live in static RAM too (not on main's stack: the micro:bit's
// is 2 KiB), constructed in main once the clock exists, never destroyed.
alignas(Models) std::byte models_storage[sizeof(Models)];

bool check_readings(const Models& models) {
  bool ok = true;
  for (std::size_t i = 0; i < kDsCount; ++i) {
    ok &= check(state.roms[i] == models.ds[i].rom(), "search found the ROMs in order");
  }
  for (int round = 0; round < kRounds; ++round) {
    for (std::size_t slot = 0; slot < kSlots; ++slot) {
      const Reading& r = state.received[round][slot];
      if (!check(state.have[round][slot], "a reading arrived")) {
        ok = false;
        continue;
      }
      if (!r.status.ok()) {
        MOTE_LOG_ERROR("round %d slot %u: %s", round, static_cast<unsigned>(slot), r.status.str());
        ok = false;
        continue;
      }
      if (slot < kDsCount) {
        ok &= check(r.temperature == kExpectedMilliCelsius[slot][round], "DS18B20 value");
      } else {
        ok &= check(r.temperature == kBmeMilliCelsius, "BME280 temperature");
        ok &= check(r.pressure == kBmeMilliPascal, "BME280 pressure");
        ok &= check(r.humidity == kBmeMilliPercentRh, "BME280 humidity");
      }
    }
  }
  return ok;
}

}  // namespace

int main() {
  mote::firmware::SysTickDriver driver(mote::firmware::board::kCoreClockHz);
  mote::async::Executor executor(driver);
  BoardUart uart(executor);
  mote::firmware::BoardLed led;
  state.busy_led = &led;
  Models& models = *new (models_storage) Models(driver);

  bool ok = true;
  ok &= check(executor.spawn(reporter_storage, reporter, std::ref(uart), std::ref(state)).ok(),
              "spawn reporter");
  ok &= check(executor.spawn(ds_storage, ds_sampler, std::ref(models), std::ref(state)).ok(),
              "spawn ds_sampler");
  ok &= check(executor.spawn(bme_storage, bme_sampler, std::ref(models), std::ref(state)).ok(),
              "spawn bme_sampler");
  ok &= check(executor.spawn(ticker_storage, ticker, std::ref(state)).ok(), "spawn ticker");
  if (!ok) return 1;
  const Status run = executor.run();

  MOTE_LOG_INFO(
      "%d readings reported (%d unexpected); %u DS18B20 found; %u + %u conversions, "
      "%u BME280 measurements",
      state.reported, state.unexpected, static_cast<unsigned>(state.found),
      models.ds[0].conversions(), models.ds[1].conversions(), models.bme.measurements());
  MOTE_LOG_INFO("ticker: %d ticks, %d of them during a DS18B20 conversion", state.ticks,
                state.ticks_converting);
  MOTE_LOG_INFO("frame bytes used: ds_sampler %u, bme_sampler %u, reporter %u, ticker %u",
                static_cast<unsigned>(ds_storage.high_water_mark()),
                static_cast<unsigned>(bme_storage.high_water_mark()),
                static_cast<unsigned>(reporter_storage.high_water_mark()),
                static_cast<unsigned>(ticker_storage.high_water_mark()));

  ok &= check(run.ok(), "executor.run() returned ok");
  ok &= check(ds_storage.exit_status().ok(), "ds_sampler finished ok");
  ok &= check(bme_storage.exit_status().ok(), "bme_sampler finished ok");
  ok &= check(reporter_storage.exit_status().ok(), "reporter finished ok");
  ok &= check(ticker_storage.exit_status().ok(), "ticker finished ok");
  ok &= check(state.ds_setup.ok(), "DS18B20 search and set_resolution");
  ok &= check(state.found == kDsCount, "both DS18B20 found");
  ok &= check(check_readings(models), "every reading as expected");
  ok &= check(state.reported == kRounds * static_cast<int>(kSlots), "every reading reported");
  ok &= check(state.unexpected == 0, "no unexpected reading");
  ok &= check(models.bme.resets() == 1, "the BME280 was initialised once");
  ok &= check(state.ticks_converting > 0, "the ticker ran during a conversion");
  ok &= check(!state.led_failed && state.led_flashes == kRounds * static_cast<int>(kDsCount),
              "the LED lit once per conversion");
  ok &= check(state.ticks_converting_unlit == 0, "the LED was lit during every conversion");
  ok &= check(!led.latched(), "the LED is off after the last conversion");
  if (!ok) return 1;

  mote::firmware::semihosting::write0("sensor_node: PASS\n");
  return 0;
}
