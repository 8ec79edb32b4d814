#include "mote/firmware/systick.hpp"

#include "mote/firmware/cortex_m.hpp"

namespace mote::firmware::systick {
namespace {

volatile std::uint64_t g_milliseconds = 0;
std::uint32_t g_cycles_per_millisecond = 0;
std::uint32_t g_cycles_per_microsecond = 0;

volatile std::uint32_t& icsr() {
  return *reinterpret_cast<volatile std::uint32_t*>(
      0xE000ED04U);  // NOLINT(performance-no-int-to-ptr)
}
constexpr std::uint32_t kPendSysTickSet = 1U << 26;

}  // namespace

void start(std::uint32_t core_clock_hz) {
  using cortex_m::kSysTickEnable, cortex_m::kSysTickInterrupt, cortex_m::kSysTickProcessorClock;
  auto& systick = cortex_m::systick_registers();
  g_cycles_per_millisecond = core_clock_hz / 1000U;
  g_cycles_per_microsecond = core_clock_hz / 1000000U;
  systick.ctrl = 0;
  systick.load = g_cycles_per_millisecond - 1U;
  systick.val = 0;
  systick.ctrl = kSysTickProcessorClock | kSysTickInterrupt | kSysTickEnable;
  // The counter reads 0 until it first loads LOAD (one cycle on silicon,
  // longer under QEMU); 0 would read as a whole elapsed millisecond.
  while (systick.val == 0) {
  }
}

std::uint64_t microseconds() {
  cortex_m::InterruptLock lock;
  std::uint64_t milliseconds = g_milliseconds;
  std::uint32_t value = cortex_m::systick_registers().val;
  if ((icsr() & kPendSysTickSet) != 0) {  // wrapped, interrupt not taken yet
    ++milliseconds;
    value = cortex_m::systick_registers().val;
  }
  const std::uint32_t elapsed = g_cycles_per_millisecond - 1U - value;
  return milliseconds * 1000U + elapsed / g_cycles_per_microsecond;
}

}  // namespace mote::firmware::systick

extern "C" void SysTick_Handler() {
  mote::firmware::systick::g_milliseconds = mote::firmware::systick::g_milliseconds + 1;
}
