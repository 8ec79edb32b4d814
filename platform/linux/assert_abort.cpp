#include <cstdio>
#include <cstdlib>

#include "mote/base/assert.hpp"

namespace mote {

void assert_failed(const char* file, int line, const char* expression) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expression);
  std::fflush(stderr);
  std::abort();
}

}  // namespace mote
