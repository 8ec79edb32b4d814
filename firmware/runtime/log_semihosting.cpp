// The firmware log backend: "LEVEL module: message" lines on the semihosting
// console. Formatting uses picolibc's integer-only vsnprintf (no heap).

#include <cstdio>

#include "mote/base/log.hpp"
#include "mote/firmware/semihosting.hpp"

extern "C" void mote_log_write(mote::log::Level level, const char* module, const char* format,
                               va_list args) {
  static char line[160];
  int used = std::snprintf(line, sizeof line, "%-5s %s: ", mote::log::to_string(level), module);
  if (used < 0) used = 0;
  auto offset = static_cast<std::size_t>(used);
  if (offset < sizeof line - 2) {
    int written = std::vsnprintf(line + offset, sizeof line - 1 - offset, format, args);
    if (written > 0) offset += static_cast<std::size_t>(written);
  }
  if (offset > sizeof line - 2) offset = sizeof line - 2;  // truncated
  line[offset] = '\n';
  line[offset + 1] = '\0';
  mote::firmware::semihosting::write0(line);
}
