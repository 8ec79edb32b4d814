// Failed MOTE_ASSERT on firmware: print where, then stop with exit status 134
// (what a host process killed by abort() reports).

#include <cstdio>

#include "mote/base/assert.hpp"
#include "mote/firmware/semihosting.hpp"

namespace mote {

void assert_failed(const char* file, int line, const char* expression) {
  static char message[192];
  std::snprintf(message, sizeof message, "%s:%d: assertion failed: %s\n", file, line, expression);
  firmware::semihosting::write0(message);
  firmware::semihosting::exit(134);
}

}  // namespace mote
