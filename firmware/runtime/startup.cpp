// Cortex-M startup: the vector table and the reset handler. The linker script
// (cortex_m.ld, included by each board's memory.ld) provides the symbols.
// The board's irq_handlers.inc (firmware/boards/<board>/) names its external
// interrupts' handlers: each is a weak alias of Default_Handler that a driver
// overrides by defining a function of that name (extern "C").
//
// Reset: copy .data (and the TLS template .tdata) from flash to RAM, zero .bss
// (and .tbss), point picolibc's TLS at the static TLS block, run static
// constructors, call main and report its result through semihosting.

#include <cstdint>
#include <cstring>

#include "mote/firmware/cortex_m.hpp"
#include "mote/firmware/semihosting.hpp"

extern "C" {
// Linker script symbols.
extern std::uint8_t __stack[];
extern std::uint8_t __data_start[];
extern std::uint8_t __data_end[];
extern const std::uint8_t __data_source[];
extern std::uint8_t __bss_start[];
extern std::uint8_t __bss_end[];
extern std::uint8_t __tls_base[];
using InitFunction = void (*)();
extern const InitFunction __preinit_array_start[];
extern const InitFunction __preinit_array_end[];
extern const InitFunction __init_array_start[];
extern const InitFunction __init_array_end[];

void _set_tls(void* tls);  // picolibc: errno and friends are thread-local
int main();

[[noreturn]] void Reset_Handler();
void Default_Handler();
void NMI_Handler() __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler() __attribute__((weak, alias("Default_Handler")));
void SVC_Handler() __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler() __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler() __attribute__((weak, alias("Default_Handler")));
#define MOTE_IRQ(number, name) void name() __attribute__((weak, alias("Default_Handler")));
#include "irq_handlers.inc"
#undef MOTE_IRQ

// Static objects' destructors never run on firmware (main's return ends the
// program), so registering one is a no-op. This also keeps picolibc's atexit
// machinery out of the image. (-fno-use-cxa-atexit makes the compiler call
// atexit instead of __cxa_atexit.)
int atexit(void (*)()) { return 0; }
}

namespace {

using Handler = void (*)();
constexpr int kExternalInterrupts = 32;  // nRF51 and CMSDK (mps2) both use at most 32

struct VectorTable {
  void* initial_stack;
  Handler system[15];
  Handler external[kExternalInterrupts];
};

constexpr VectorTable make_vector_table() {
  VectorTable table = {
      __stack,
      {
          Reset_Handler,
          NMI_Handler,
          HardFault_Handler,
          nullptr,  // MemManage (M3), reserved (M0)
          nullptr,  // BusFault (M3)
          nullptr,  // UsageFault (M3)
          nullptr,
          nullptr,
          nullptr,
          nullptr,
          SVC_Handler,
          nullptr,  // DebugMonitor (M3)
          nullptr,
          PendSV_Handler,
          SysTick_Handler,
      },
      {},
  };
  for (Handler& handler : table.external) handler = Default_Handler;
#define MOTE_IRQ(number, name)                                           \
  static_assert((number) >= 0 && (number) < kExternalInterrupts, #name); \
  table.external[number] = name;
#include "irq_handlers.inc"
#undef MOTE_IRQ
  return table;
}

}  // namespace

extern "C"
    __attribute__((section(".vectors"), used)) constinit const VectorTable mote_vector_table =
        make_vector_table();

extern "C" void Reset_Handler() {
  std::memcpy(__data_start, __data_source, static_cast<std::size_t>(__data_end - __data_start));
  std::memset(__bss_start, 0, static_cast<std::size_t>(__bss_end - __bss_start));
  _set_tls(__tls_base);
  for (const InitFunction* f = __preinit_array_start; f != __preinit_array_end; ++f) (*f)();
  for (const InitFunction* f = __init_array_start; f != __init_array_end; ++f) (*f)();
  mote::firmware::semihosting::exit(main());
}

// Any exception without a handler of its own: report which one and stop.
// Exit status 0x80 + exception number (e.g. 131 for a HardFault).
extern "C" void Default_Handler() {
  const std::uint32_t exception = mote::firmware::cortex_m::ipsr() & 0x1FFU;
  char message[] = "mote: unhandled exception 000\n";
  char* digits = message + sizeof("mote: unhandled exception ") - 1;
  digits[0] = static_cast<char>('0' + exception / 100 % 10);
  digits[1] = static_cast<char>('0' + exception / 10 % 10);
  digits[2] = static_cast<char>('0' + exception % 10);
  mote::firmware::semihosting::write0(message);
  mote::firmware::semihosting::exit(static_cast<int>(0x80 + (exception & 0x7F)));
}
