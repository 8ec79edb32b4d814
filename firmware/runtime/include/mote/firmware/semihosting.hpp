#pragma once
// ARM semihosting: the debugger (here: QEMU with
// `-semihosting-config enable=on,target=native`) services `bkpt 0xAB`.
// Without a debugger attached a semihosting call faults or hangs, so these are
// for emulated boards and debug sessions only.

namespace mote::firmware::semihosting {

// Writes a NUL-terminated string to the host's console (SYS_WRITE0).
void write0(const char* text);

// The command line the host gives the program (SYS_GET_CMDLINE), written
// NUL-terminated into `buffer`: QEMU passes `-semihosting-config
// ...,arg=A,arg=B` joined by spaces, or else the -kernel file name followed
// by the -append text. Its length, or -1 when the host has none or it does
// not fit.
int command_line(char* buffer, unsigned size);

// Ends the program; `code` becomes QEMU's exit status (SYS_EXIT_EXTENDED).
[[noreturn]] void exit(int code);

}  // namespace mote::firmware::semihosting
