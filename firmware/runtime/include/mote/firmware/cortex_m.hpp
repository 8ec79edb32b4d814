#pragma once
// The few Cortex-M core registers and instructions the runtime needs (ARMv6-M
// subset, so the same code runs on M0 and M3).

#include <cstdint>

namespace mote::firmware::cortex_m {

inline void disable_interrupts() { asm volatile("cpsid i" ::: "memory"); }
inline void enable_interrupts() { asm volatile("cpsie i" ::: "memory"); }
// Sleeps until an interrupt is pending; wakes even while PRIMASK masks it.
inline void wait_for_interrupt() { asm volatile("wfi" ::: "memory"); }

inline std::uint32_t primask() {
  std::uint32_t value;
  asm volatile("mrs %0, primask" : "=r"(value));
  return value;
}
inline std::uint32_t ipsr() {
  std::uint32_t value;
  asm volatile("mrs %0, ipsr" : "=r"(value));
  return value;
}

// Masks interrupts for its lifetime and restores the previous state.
class InterruptLock {
 public:
  InterruptLock() : was_masked_(primask() & 1U) { disable_interrupts(); }
  ~InterruptLock() {
    if (!was_masked_) enable_interrupts();
  }
  InterruptLock(const InterruptLock&) = delete;
  InterruptLock& operator=(const InterruptLock&) = delete;

 private:
  std::uint32_t was_masked_;
};

// SysTick (System Control Space, present on every Cortex-M0/M3).
struct SysTickRegisters {
  volatile std::uint32_t ctrl;
  volatile std::uint32_t load;
  volatile std::uint32_t val;
  volatile std::uint32_t calib;
};
inline SysTickRegisters& systick_registers() {
  return *reinterpret_cast<SysTickRegisters*>(0xE000E010U);  // NOLINT(performance-no-int-to-ptr)
}
inline constexpr std::uint32_t kSysTickEnable = 1U << 0;
inline constexpr std::uint32_t kSysTickInterrupt = 1U << 1;
inline constexpr std::uint32_t kSysTickProcessorClock = 1U << 2;

// NVIC: external interrupts 0..31 (all the nRF51 and the AN385 have). The
// set/clear registers take a bit mask and touch only the bits that are 1, so
// an interrupt handler and a task may use them without a lock.
namespace nvic {
inline volatile std::uint32_t& word(std::uint32_t address) {
  return *reinterpret_cast<volatile std::uint32_t*>(address);  // NOLINT(performance-no-int-to-ptr)
}
inline void enable(unsigned irq) { word(0xE000E100U) = 1U << irq; }
inline void disable(unsigned irq) {
  word(0xE000E180U) = 1U << irq;
  // The disable takes effect before the next instruction (ARMv6-M/ARMv7-M
  // recommend DSB + ISB after ICER).
  asm volatile("dsb\n\tisb" ::: "memory");
}
// Makes the interrupt pending: its handler runs as soon as it is enabled and
// unmasked. How a task hands work to an interrupt handler.
inline void set_pending(unsigned irq) { word(0xE000E200U) = 1U << irq; }
inline void clear_pending(unsigned irq) { word(0xE000E280U) = 1U << irq; }
}  // namespace nvic

}  // namespace mote::firmware::cortex_m
