#pragma once
// ARM semihosting: the debugger (here: QEMU with
// `-semihosting-config enable=on,target=native`) services `bkpt 0xAB`.
// Without a debugger attached a semihosting call faults or hangs, so these are
// for emulated boards and debug sessions only.

namespace mote::firmware::semihosting {

// Writes a NUL-terminated string to the host's console (SYS_WRITE0).
void write0(const char* text);

// Ends the program; `code` becomes QEMU's exit status (SYS_EXIT_EXTENDED).
[[noreturn]] void exit(int code);

}  // namespace mote::firmware::semihosting
