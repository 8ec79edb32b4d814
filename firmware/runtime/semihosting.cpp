#include "mote/firmware/semihosting.hpp"

#include <cstdint>

namespace mote::firmware::semihosting {
namespace {

constexpr std::uint32_t kSysWrite0 = 0x04;
constexpr std::uint32_t kSysGetCmdline = 0x15;
constexpr std::uint32_t kSysExitExtended = 0x20;
constexpr std::uint32_t kAdpStoppedApplicationExit = 0x20026;

std::uint32_t call(std::uint32_t operation, const void* argument) {
  register std::uint32_t r0 asm("r0") = operation;
  register const void* r1 asm("r1") = argument;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

}  // namespace

void write0(const char* text) { call(kSysWrite0, text); }

int command_line(char* buffer, unsigned size) {
  if (buffer == nullptr || size == 0) return -1;
  // The block: the buffer and its size; the host stores the length in the
  // second word and returns 0, or -1 when the line does not fit.
  std::uint32_t block[2] = {static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(buffer)),
                            size};
  if (call(kSysGetCmdline, block) != 0) return -1;
  if (block[1] >= size) return -1;
  buffer[block[1]] = '\0';
  return static_cast<int>(block[1]);
}

void exit(int code) {
  const std::uint32_t block[2] = {kAdpStoppedApplicationExit, static_cast<std::uint32_t>(code)};
  call(kSysExitExtended, block);
  for (;;) asm volatile("bkpt 0");  // not reached under a semihosting host
}

}  // namespace mote::firmware::semihosting
