/* lwIP port header for the TCP benchmark (host and arm-none-eabi): the C
 * library gives the integer types; asserts are off (LWIP_NOASSERT in
 * lwipopts.h), diagnostics go nowhere. */
#ifndef MOTE_BENCH_LWIP_ARCH_CC_H
#define MOTE_BENCH_LWIP_ARCH_CC_H

#include <stdlib.h>

#define LWIP_PLATFORM_DIAG(x) \
  do {                        \
  } while (0)
#define LWIP_PLATFORM_ASSERT(x) abort()
#define LWIP_RAND() ((u32_t)rand())

#endif
