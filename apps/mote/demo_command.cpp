// `mote demo --async-core`: tasks of the async core working together (plain
// `mote demo` runs the whole system: demo_system.cpp).
//
//   sensor kitchen ─┐
//   sensor garage  ─┼─ Channel<Reading, 4> ──> aggregator (stdout)
//   sensor attic   ─┘   each sensor also kicks its watchdog's Signal
//
//   supervisor: waits for --duration or SIGINT/SIGTERM (signalfd + FdWatch),
//   then cancels the sensors, stops the watchdogs, closes the channel and
//   waits for the aggregator to drain it.
//
// Every task runs in its own TaskStorage<N>: all coroutine frames, however
// deeply nested, come from there and nothing is allocated on a heap. The
// final report shows each storage's capacity and high-water mark.
#define MOTE_LOG_MODULE "demo"

#include "demo_command.hpp"

#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>

#include "demo_system.hpp"
#include "duration.hpp"
#include "mote/async/async.hpp"
#include "mote/base/log.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/sim_driver.hpp"
#include "stop_signals.hpp"

namespace mote::cli {
namespace {

using namespace std::chrono_literals;
using async::Duration;
using async::Instant;
using async::Task;

// --- the simulated sensors ---------------------------------------------------

struct SensorSpec {
  const char* name;
  Duration period;           // time between samples
  std::int32_t start_centi;  // where the random walk starts, in 0.01 °C
  unsigned hangs_every;      // every n-th read hangs (0: never)
};

constexpr std::size_t kSensorCount = 3;
constexpr SensorSpec kSensors[kSensorCount] = {
    {"kitchen", 250ms, 2150, 0},
    {"garage", 400ms, 1240, 0},
    {"attic", 700ms, 2710, 5},  // a flaky bus: every 5th conversion never finishes
};

// A read that takes longer is abandoned (with_timeout cancels it).
constexpr Duration kReadTimeout = 200ms;
// A watchdog complains when its sensor has sent no good reading for this long.
constexpr Duration kWatchdogTimeout = 1s;
// The aggregator prints a one-line summary this often.
constexpr Duration kSummaryEvery = 1s;

// A deterministic pseudo-random walk (xorshift32).
class Walk {
 public:
  Walk(std::uint32_t seed, std::size_t sensor, std::int32_t start) : value_(start), home_(start) {
    state_ = (seed + 1) * 2654435761u ^ (static_cast<std::uint32_t>(sensor) + 1) * 40503u;
    if (state_ == 0) state_ = 1;
  }
  // How long the next conversion takes: 10..39 ms.
  Duration conversion_time() { return std::chrono::milliseconds(10 + next() % 30); }
  // The next value: a step of up to ±0.15 °C, drifting back towards the start.
  std::int32_t step() {
    const auto delta = static_cast<std::int32_t>(next() % 31) - 15;
    value_ += delta + (home_ - value_) / 16;
    return value_;
  }

 private:
  std::uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }
  std::uint32_t state_;
  std::int32_t value_;
  std::int32_t home_;
};

struct Reading {
  std::size_t sensor = 0;
  Status status;  // ok, or deadline_exceeded when the read hung
  std::int32_t centi_celsius = 0;
  Instant at;
};

struct SensorStats {
  unsigned readings = 0;
  unsigned failed = 0;
  std::int32_t min = 0;
  std::int32_t max = 0;
  std::int64_t sum = 0;
  std::int32_t last = 0;
  unsigned watchdog_alarms = 0;
};

// --- the demo's shared state -----------------------------------------------------

struct Demo {
  explicit Demo(const DemoConfig& c) : config(c) {}

  DemoConfig config;
  Instant start;
  platform::FdWatch* signals = nullptr;  // the signalfd; nullptr on the simulated clock
  int stop_signal = 0;                   // what stopped the demo (0: --duration)
  bool signal_watch_failed = false;

  async::Channel<Reading, 4> readings;
  // Sensor -> watchdog: true for a good reading, false from the supervisor: stop.
  async::Signal<bool> kicks[kSensorCount];
  SensorStats stats[kSensorCount];
  unsigned total_readings = 0;

  // Frame storage for every task. The sizes are generous multiples of what
  // the high-water marks show (GCC, x86-64); the report prints both.
  async::TaskStorage<2048> supervisor;
  async::TaskStorage<1024> aggregator;
  async::TaskStorage<1024> sensors[kSensorCount];
  async::TaskStorage<768> watchdogs[kSensorCount];
};

// "3.912s": time since the demo started.
std::string stamp(const Demo& demo, Instant at) {
  const std::int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(at - demo.start).count();
  char text[32];
  std::snprintf(text, sizeof text, "%" PRId64 ".%03" PRId64 "s", ms / 1000, ms % 1000);
  return text;
}

// "21.43" from 2143 (0.01 °C).
std::string celsius(std::int32_t centi) {
  char text[24];
  const std::int32_t magnitude = centi < 0 ? -centi : centi;
  std::snprintf(text, sizeof text, "%s%d.%02d", centi < 0 ? "-" : "", magnitude / 100,
                magnitude % 100);
  return text;
}

// --- small awaitable pieces (select/with_timeout take Tasks) ---------------------

Task<void> sleep_task(Duration duration) { co_await async::sleep_for(duration); }

Task<bool> next_kick(async::Signal<bool>& kick) { co_return co_await kick.wait(); }

Task<std::optional<Reading>> receive_one(async::Channel<Reading, 4>& channel) {
  co_return co_await channel.receive();
}

// --- the tasks -------------------------------------------------------------------

// One conversion of the sensor: waits for the conversion time, then yields
// the next value. A hanging read waits (nearly) forever.
Task<std::int32_t> convert(Walk& walk, bool hang) {
  // Not folded into the co_await operand: GCC 12 evaluates both arms of a
  // ?: there when one arm is a class-type temporary, which would consume a
  // random number on a hanging read (and make GCC and clang output differ).
  const Duration conversion = hang ? Duration(1h) : walk.conversion_time();
  co_await async::sleep_for(conversion);
  co_return walk.step();
}

Task<void> sensor_task(Demo& demo, std::size_t index) {
  const SensorSpec& spec = kSensors[index];
  Walk walk(demo.config.seed, index, spec.start_centi);
  Instant next = demo.start;
  for (unsigned n = 1;; ++n) {
    next += spec.period;
    if (next < async::now()) next = async::now();
    co_await async::sleep_until(next);
    const bool hang = spec.hangs_every != 0 && n % spec.hangs_every == 0;
    Result<std::int32_t> value = co_await async::with_timeout(kReadTimeout, convert(walk, hang));
    const Reading reading{index, value.status(), value.ok() ? *value : 0, async::now()};
    // Waits while the channel is full; fails once the demo has closed it.
    if (!(co_await demo.readings.send(reading)).ok()) co_return;
    if (value.ok()) demo.kicks[index].signal(true);
  }
}

Task<void> watchdog_task(Demo& demo, std::size_t index) {
  const char* name = kSensors[index].name;
  Instant last = async::now();
  bool alarmed = false;
  for (;;) {
    auto woken = co_await async::select(next_kick(demo.kicks[index]), sleep_task(kWatchdogTimeout));
    const Instant now = async::now();
    if (woken.index() == 0) {
      if (!std::get<0>(woken)) co_return;  // the supervisor says: stop
      if (alarmed) {
        MOTE_LOG_INFO("%s watchdog: %s is back after %s of silence", stamp(demo, now).c_str(), name,
                      format_duration(now - last).c_str());
      }
      alarmed = false;
      last = now;
    } else {
      alarmed = true;
      ++demo.stats[index].watchdog_alarms;
      MOTE_LOG_WARN("%s watchdog: no good reading from %s for %s", stamp(demo, now).c_str(), name,
                    format_duration(now - last).c_str());
    }
  }
}

void print_reading(const Demo& demo, const Reading& reading) {
  const char* name = kSensors[reading.sensor].name;
  if (reading.status.ok()) {
    std::printf("%9s  %-8s %7s °C\n", stamp(demo, reading.at).c_str(), name,
                celsius(reading.centi_celsius).c_str());
  } else {
    std::printf("%9s  %-8s    read failed: %s (timeout %s)\n", stamp(demo, reading.at).c_str(),
                name, reading.status.str(), format_duration(kReadTimeout).c_str());
  }
}

void print_periodic_summary(const Demo& demo, Instant at) {
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%9s", stamp(demo, at).c_str());
  std::string line = std::string(prefix) + "  summary: " + std::to_string(demo.total_readings) +
                     " readings, " + std::to_string(async::current_executor()->live_tasks()) +
                     " tasks live |";
  for (std::size_t i = 0; i < kSensorCount; ++i) {
    const SensorStats& s = demo.stats[i];
    line += std::string(" ") + kSensors[i].name + " " +
            (s.readings > s.failed ? celsius(s.last) : std::string("-"));
  }
  std::printf("%s\n", line.c_str());
}

void record(Demo& demo, const Reading& reading) {
  SensorStats& s = demo.stats[reading.sensor];
  ++demo.total_readings;
  ++s.readings;
  if (!reading.status.ok()) {
    ++s.failed;
    return;
  }
  const std::int32_t v = reading.centi_celsius;
  if (s.readings - s.failed == 1 || v < s.min) s.min = v;
  if (s.readings - s.failed == 1 || v > s.max) s.max = v;
  s.sum += v;
  s.last = v;
}

Task<void> aggregator_task(Demo& demo) {
  Instant next_summary = demo.start + kSummaryEvery;
  for (;;) {
    // Receives until the next summary is due: a timeout here is the signal
    // to print it (the pending receive is cancelled, losing nothing).
    Result<std::optional<Reading>> received =
        co_await async::with_deadline(next_summary, receive_one(demo.readings));
    if (!received.ok()) {
      if (!demo.config.quiet) print_periodic_summary(demo, next_summary);
      next_summary += kSummaryEvery;
      continue;
    }
    if (!received->has_value()) co_return;  // closed and drained: the demo is over
    const Reading& reading = **received;
    record(demo, reading);
    if (!demo.config.quiet) print_reading(demo, reading);
  }
}

Task<void> supervisor_task(Demo& demo) {
  const Duration duration = demo.config.duration;
  if (demo.signals == nullptr) {
    co_await async::sleep_for(duration);
  } else if (duration == Duration::zero()) {
    demo.stop_signal = co_await next_signal(*demo.signals);
  } else {
    auto first = co_await async::select(sleep_task(duration), next_signal(*demo.signals));
    if (first.index() == 1) demo.stop_signal = std::get<1>(first);
  }
  const std::string now = stamp(demo, async::now());
  if (demo.stop_signal > 0) {
    MOTE_LOG_INFO("%s %s received: stopping", now.c_str(), signal_name(demo.stop_signal));
  } else if (demo.stop_signal < 0) {
    demo.signal_watch_failed = true;
    MOTE_LOG_ERROR("%s reading the signalfd failed (errno %d): stopping", now.c_str(),
                   -demo.stop_signal);
  } else {
    MOTE_LOG_INFO("%s %s elapsed: stopping", now.c_str(), format_duration(duration).c_str());
  }
  // Cancelling destroys each sensor's frames wherever it waits (a sleep, a
  // read under with_timeout, a full channel): timers are disarmed and wait
  // queues left, nothing leaks.
  for (auto& sensor : demo.sensors) sensor.cancel();
  // The watchdogs stop cooperatively: their next kick says so.
  for (auto& kick : demo.kicks) kick.signal(false);
  // The aggregator drains what is left, then sees the end of the channel.
  demo.readings.close();
  (void)co_await demo.aggregator.join();
  for (auto& watchdog : demo.watchdogs) (void)co_await watchdog.join();
}

// --- the report ------------------------------------------------------------------

struct TaskRow {
  std::string name;
  async::TaskStorageBase* storage;
  Status expected;  // how the task should end
};

void print_report(const Demo& demo, Instant end, const async::Executor& executor,
                  const TaskRow* rows, std::size_t row_count) {
  std::printf("\nsummary: %s on the %s clock, %u readings (temperatures in °C)\n",
              stamp(demo, end).c_str(), demo.config.simulated ? "simulated" : "real",
              demo.total_readings);
  std::printf("  %-8s %7s %9s %7s %8s %8s %8s %7s\n", "sensor", "period", "readings", "failed",
              "min", "avg", "max", "alarms");
  for (std::size_t i = 0; i < kSensorCount; ++i) {
    const SensorStats& s = demo.stats[i];
    const unsigned good = s.readings - s.failed;
    const std::string none = "-";
    std::printf("  %-8s %7s %9u %7u %8s %8s %8s %7u\n", kSensors[i].name,
                format_duration(kSensors[i].period).c_str(), s.readings, s.failed,
                good ? celsius(s.min).c_str() : none.c_str(),
                good ? celsius(static_cast<std::int32_t>(s.sum / good)).c_str() : none.c_str(),
                good ? celsius(s.max).c_str() : none.c_str(), s.watchdog_alarms);
  }
  std::printf("\ntasks (coroutine frames live in each task's own TaskStorage<N>; no heap)\n");
  std::printf("  %-18s %8s %11s  %s\n", "task", "storage", "high water", "exit status");
  std::size_t total = 0;
  for (std::size_t i = 0; i < row_count; ++i) {
    const async::TaskStorageBase& storage = *rows[i].storage;
    total += storage.capacity();
    std::printf("  %-18s %8zu %11zu  %s%s\n", rows[i].name.c_str(), storage.capacity(),
                storage.high_water_mark(), storage.exit_status().str(),
                storage.exit_status() == rows[i].expected ? "" : "  (unexpected)");
  }
  std::printf("  %-18s %8zu bytes of static frame storage\n", "total", total);
  std::printf("executor: %zu tasks live\n", executor.live_tasks());
}

int run_on(async::Driver& driver, platform::FdWatch* signals, const DemoConfig& config) {
  async::Executor executor(driver);
  Demo demo(config);
  demo.start = executor.now();
  demo.signals = signals;

  TaskRow rows[2 + 2 * kSensorCount] = {
      {"supervisor", &demo.supervisor, ok_status()},
      {"aggregator", &demo.aggregator, ok_status()},
  };
  std::size_t row_count = 2;
  for (std::size_t i = 0; i < kSensorCount; ++i) {
    rows[row_count++] = {std::string("sensor ") + kSensors[i].name, &demo.sensors[i],
                         Status::cancelled()};
  }
  for (std::size_t i = 0; i < kSensorCount; ++i) {
    rows[row_count++] = {std::string("watchdog ") + kSensors[i].name, &demo.watchdogs[i],
                         ok_status()};
  }

  Status spawned = executor.spawn(demo.supervisor, supervisor_task, std::ref(demo));
  if (spawned.ok()) spawned = executor.spawn(demo.aggregator, aggregator_task, std::ref(demo));
  for (std::size_t i = 0; spawned.ok() && i < kSensorCount; ++i) {
    spawned = executor.spawn(demo.sensors[i], sensor_task, std::ref(demo), i);
    if (spawned.ok()) spawned = executor.spawn(demo.watchdogs[i], watchdog_task, std::ref(demo), i);
  }
  Status ran = spawned;
  if (spawned.ok()) {
    std::string how_long = "until Ctrl-C";
    if (config.duration != Duration::zero()) {
      how_long = "for " + format_duration(config.duration);
      if (!config.simulated) how_long += " (Ctrl-C stops earlier)";
    }
    MOTE_LOG_INFO("%zu tasks, %zu sensors, %s clock, running %s", row_count, kSensorCount,
                  config.simulated ? "simulated" : "real", how_long.c_str());
    ran = executor.run();
  } else {
    MOTE_LOG_ERROR("cannot spawn the demo's tasks: %s", spawned.str());
  }
  // Whatever went wrong, no task may outlive its storage.
  for (std::size_t i = 0; i < row_count; ++i) rows[i].storage->cancel();
  const Instant end = executor.now();
  std::fflush(stdout);
  print_report(demo, end, executor, rows, row_count);

  bool as_expected = ran.ok() && !demo.signal_watch_failed;
  for (std::size_t i = 0; i < row_count; ++i) {
    as_expected = as_expected && rows[i].storage->exit_status() == rows[i].expected;
  }
  if (!ran.ok()) MOTE_LOG_ERROR("the executor stopped early: %s", ran.str());
  return as_expected ? kExitOk : kExitFailure;
}

// A duration nobody can type: "not given" (the two demos default differently).
constexpr Duration kDurationNotGiven{-1};

class DemoCommand final : public Command {
 public:
  [[nodiscard]] const char* name() const override { return "demo"; }
  [[nodiscard]] const char* summary() const override {
    return "Run the whole system: gateway, dashboard, sensor nodes, firmware node";
  }
  [[nodiscard]] const char* description() const override {
    return "Starts `mote gateway` (MQTT, CoAP, the dashboard), three `mote sensor` nodes\n"
           "(two over MQTT, one over CoAP; real DS18B20s where the kernel's w1 driver shows\n"
           "them, simulated otherwise) and, when qemu-system-arm and the image exist, the\n"
           "firmware node in QEMU, each as a child process. Prints the dashboard's URL.\n"
           "Ctrl-C (or SIGTERM, or --duration) stops the nodes, then the gateway.\n"
           "\n"
           "--async-core runs the async core's tour instead: simulated sensors, an\n"
           "aggregator and watchdogs as tasks of one executor, with per-task frame usage.";
  }
  void declare(Options& options) override {
    options.duration("-d,--duration", duration_,
                     "How long to run, e.g. 30s, 2m (default: until Ctrl-C; --async-core: 5s)");
    options.text("--data-dir", system_.data_dir,
                 "Where the gateway keeps its state (default ~/.local/state/mote/demo)");
    options.text("--bind", system_.bind, "Address the gateway listens on (default 127.0.0.1)");
    options.integer("--mqtt-port", system_.mqtt_port, "MQTT port, TCP (default 1883)", 1, 65535);
    options.integer("--http-port", system_.http_port, "Dashboard and API port (default 8080)", 1,
                    65535);
    options.integer("--coap-port", system_.coap_port, "CoAP port, UDP (default 5683)", 1, 65535);
    options.duration("-i,--interval", system_.interval,
                     "Time between a node's readings (default 2s)", std::chrono::milliseconds(100));
    options.text("--firmware", system_.firmware,
                 "The firmware node's image (default: installed, or build/cortex-m3)");
    options.flag("--no-firmware", system_.no_firmware, "Do not start the firmware node");
    options.text("--w1-dir", system_.w1_dir, "Where the kernel lists 1-Wire devices");
    options.flag("--async-core", async_core_,
                 "Run the async core's tour instead (the options below are its own)");
    options.flag("--simulated", config_.simulated,
                 "--async-core on a virtual clock: finishes at once, same output every run");
    options.flag("-q,--quiet", config_.quiet, "--async-core: print only the final summary");
    options.integer("--seed", seed_, "--async-core: seed of the sensors' pseudo-random walks", 0,
                    0xffffffff);
  }
  int run(const GlobalOptions& global) override {
    if (!async_core_) {
      if (config_.simulated || config_.quiet || seed_ != 1) {
        std::fprintf(stderr,
                     "mote demo: --simulated, --quiet and --seed belong to the async core's "
                     "tour: add --async-core\n");
        return kExitUsage;
      }
      system_.duration = duration_ == kDurationNotGiven ? Duration::zero() : duration_;
      system_.log_level = global.log_level;
      return run_system_demo(system_);
    }
    if (duration_ != kDurationNotGiven) config_.duration = duration_;
    if (config_.simulated && config_.duration == Duration::zero()) {
      std::fprintf(stderr, "mote demo: --simulated needs a --duration above 0\n");
      return kExitUsage;
    }
    config_.seed = static_cast<std::uint32_t>(seed_);
    return run_demo(config_);
  }

 private:
  Duration duration_ = kDurationNotGiven;
  bool async_core_ = false;
  SystemDemoConfig system_;
  DemoConfig config_;
  std::int64_t seed_ = 1;
};

}  // namespace

int run_demo(const DemoConfig& config) {
  // Readings and log lines (stderr) stay in order when both go to one pipe.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (config.quiet && log::runtime_level() < log::Level::warn) {
    log::set_runtime_level(log::Level::warn);
  }
  if (config.simulated) {
    platform::SimDriver driver;
    return run_on(driver, nullptr, config);
  }
  platform::EpollDriver driver;
  StopSignals signals;
  if (!prepare_to_run(driver, signals)) return kExitFailure;
  return run_on(driver, &signals.watch(), config);
}

std::unique_ptr<Command> make_demo_command() { return std::make_unique<DemoCommand>(); }

}  // namespace mote::cli
