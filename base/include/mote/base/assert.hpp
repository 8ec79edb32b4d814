#pragma once
// MOTE_ASSERT is for programmer errors only (a broken invariant, an API used
// against its contract). Anything that bad input, a peer or the environment
// can cause is reported as a Status instead.

namespace mote {

// Provided by the platform: the host prints and aborts, firmware halts or
// reports through semihosting. Never returns.
[[noreturn]] void assert_failed(const char* file, int line, const char* expression);

}  // namespace mote

#if defined(MOTE_ASSERT_DISABLED)
#define MOTE_ASSERT(condition) static_cast<void>(sizeof(static_cast<bool>(condition)))
#else
#define MOTE_ASSERT(condition)                       \
  (__builtin_expect(static_cast<bool>(condition), 1) \
       ? static_cast<void>(0)                        \
       : ::mote::assert_failed(__FILE__, __LINE__, #condition))
#endif
