// uart_echo: the board's interrupt-driven UART (mote::hal::Uart) under the
// async executor. Two tasks, each in its own static TaskStorage:
//   echo    prints a banner, then reads lines and writes each back
//           upper-cased; after a line "quit" it says "bye", flushes, and
//           starts one more read on the now idle line, which the ticker ends
//   ticker  sleeps 1 ms at a time while echo runs, counting its sleeps
// The idle read is the proof that a UART wait does not block the executor:
// while echo waits in read(), the ticker keeps sleeping and waking, and after
// kIdleTicks of its sleeps it sets an Event that wins a select() against the
// read, which cancels the read (no byte lost: none had arrived). The count
// is exact whatever the host's speed: no assertion on wall-clock time.
// main checks the results, prints "uart_echo: PASS" on the semihosting
// console and returns 0. The echoed lines go to the UART (QEMU's stdout).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <variant>

#define MOTE_LOG_MODULE "uart_echo"
#include "mote/async/event.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/join.hpp"
#include "mote/async/sleep.hpp"
#include "mote/base/log.hpp"
#include "mote/firmware/board.hpp"
#include "mote/firmware/board_uart.hpp"
#include "mote/firmware/check.hpp"
#include "mote/firmware/semihosting.hpp"
#include "mote/firmware/systick_driver.hpp"
#include "mote/hal/uart.hpp"

namespace {

using mote::firmware::check;

using namespace std::chrono_literals;
using mote::Result;
using mote::Status;
using mote::async::Task;
using mote::firmware::BoardUart;

static_assert(mote::hal::Uart<BoardUart>);

constexpr std::size_t kMaxLine = 80;  // longer lines are cut (and counted)
constexpr int kIdleTicks = 3;
constexpr mote::async::Duration kTickPeriod = 1ms;
constexpr mote::async::Duration kPileUp = 20ms;

struct State {
  int lines = 0;
  int cut_lines = 0;
  int lost = 0;        // reads that returned data_loss
  int ticks = 0;       // every ticker sleep
  int idle_ticks = 0;  // ticker sleeps while echo waited in the idle read
  bool idle_reading = false;
  bool idle_read_cancelled = false;
  bool done = false;
  mote::async::Event idle_over;  // set by the ticker after kIdleTicks
};

mote::ConstByteSpan bytes(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

Task<Result<std::size_t>> read_once(BoardUart& uart, mote::ByteSpan buffer) {
  co_return co_await uart.read(buffer);
}

Task<void> wait_for(mote::async::Event& event) { co_await event.wait(); }

// After "quit": a read on the idle line that only the ticker can end.
Task<Status> idle_read(BoardUart& uart, State& state) {
  std::byte buffer[8];
  state.idle_reading = true;
  auto first = co_await mote::async::select(read_once(uart, buffer), wait_for(state.idle_over));
  state.idle_reading = false;
  if (first.index() == 0) {
    MOTE_LOG_ERROR("input after quit");
    co_return Status::failed_precondition();
  }
  state.idle_read_cancelled = true;
  co_return mote::ok_status();
}

Task<Status> echo(BoardUart& uart, State& state) {
  MOTE_CO_TRY(co_await uart.write(bytes("mote uart_echo on ")));
  MOTE_CO_TRY(co_await uart.write(bytes(mote::firmware::board::kName)));
  MOTE_CO_TRY(co_await uart.write(bytes(": lines come back upper-cased, 'quit' ends\r\n")));

  // Let the input pile up first: the receive ring (64 bytes) fills, the RX
  // interrupt masks itself and QEMU holds the rest back until reads make
  // room (the "ring full" count main prints; the exact echo shows that no
  // byte was lost on the way).
  co_await mote::async::sleep_for(kPileUp);

  char line[kMaxLine + 2];  // + "\r\n"
  std::size_t length = 0;
  bool cut = false;
  std::byte chunk[16];
  for (;;) {
    Result<std::size_t> got = co_await uart.read(chunk);
    if (!got.ok()) {
      if (got.status().code() != mote::StatusCode::data_loss) co_return got.status();
      ++state.lost;  // an overrun: go on with what follows
      continue;
    }
    for (std::size_t i = 0; i < *got; ++i) {
      const char c = static_cast<char>(chunk[i]);
      if (c == '\r') continue;
      if (c != '\n') {
        if (length < kMaxLine) {
          line[length++] = c;
        } else {
          cut = true;
        }
        continue;
      }
      if (std::string_view(line, length) == "quit") {
        MOTE_CO_TRY(co_await uart.write(bytes("bye\r\n")));
        MOTE_CO_TRY(co_await uart.flush());
        MOTE_CO_TRY(co_await idle_read(uart, state));
        state.done = true;
        co_return mote::ok_status();
      }
      for (std::size_t k = 0; k < length; ++k) line[k] = to_upper(line[k]);
      line[length++] = '\r';
      line[length++] = '\n';
      MOTE_CO_TRY(co_await uart.write(bytes(std::string_view(line, length))));
      ++state.lines;
      if (cut) ++state.cut_lines;
      length = 0;
      cut = false;
    }
  }
}

// Runs as long as echo does (whether echo succeeds or fails).
Task<void> ticker(State& state, const mote::async::TaskStorageBase& echo_task) {
  while (echo_task.state() == mote::async::TaskState::running) {
    co_await mote::async::sleep_for(kTickPeriod);
    ++state.ticks;
    if (state.idle_reading && ++state.idle_ticks == kIdleTicks) state.idle_over.set();
  }
}

mote::async::TaskStorage<1024> echo_storage;
mote::async::TaskStorage<128> ticker_storage;
State state;

}  // namespace

int main() {
  mote::firmware::SysTickDriver driver(mote::firmware::board::kCoreClockHz);
  mote::async::Executor executor(driver);
  BoardUart uart(executor);

  bool ok = true;
  ok &=
      check(executor.spawn(echo_storage, echo, std::ref(uart), std::ref(state)).ok(), "spawn echo");
  ok &= check(executor.spawn(ticker_storage, ticker, std::ref(state), std::cref(echo_storage)).ok(),
              "spawn ticker");
  if (!ok) return 1;
  const Status run = executor.run();

  MOTE_LOG_INFO("%d lines echoed (%d cut), %d overruns, ring full %u times", state.lines,
                state.cut_lines, state.lost, static_cast<unsigned>(uart.rx_throttle_count()));
  MOTE_LOG_INFO("ticker: %d sleeps, %d of them while a read waited", state.ticks, state.idle_ticks);
  MOTE_LOG_INFO("frame bytes used: echo %u, ticker %u",
                static_cast<unsigned>(echo_storage.high_water_mark()),
                static_cast<unsigned>(ticker_storage.high_water_mark()));

  ok &= check(run.ok(), "executor.run() returned ok");
  ok &= check(echo_storage.exit_status().ok(), "echo finished ok");
  ok &= check(ticker_storage.exit_status().ok(), "ticker finished ok");
  ok &= check(state.done, "quit seen");
  ok &= check(state.lost == 0, "no overrun");
  ok &= check(state.idle_read_cancelled, "the idle read was cancelled");
  ok &= check(state.idle_ticks == kIdleTicks, "the ticker ran while a read waited");
  ok &= check(state.ticks >= kIdleTicks, "the ticker counted");
  if (!ok) return 1;

  mote::firmware::semihosting::write0("uart_echo: PASS\n");
  return 0;
}
