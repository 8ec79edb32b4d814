#include "mote/websocket/system_random.hpp"

#include <cerrno>
#include <sys/random.h>

#include "mote/base/assert.hpp"

namespace mote::websocket {
namespace {

void fill_from_kernel(void* /*context*/, ByteSpan out) {
  std::size_t filled = 0;
  while (filled < out.size()) {
    const ssize_t got = getrandom(out.data() + filled, out.size() - filled, 0);
    if (got < 0 && errno == EINTR) continue;
    // getrandom only fails for bad arguments (or before the pool is
    // initialised, which GRND_NONBLOCK is not asking about).
    MOTE_ASSERT(got > 0);
    filled += static_cast<std::size_t>(got);
  }
}

}  // namespace

RandomSource system_random() { return RandomSource{nullptr, fill_from_kernel}; }

}  // namespace mote::websocket
