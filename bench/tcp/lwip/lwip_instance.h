/* One lwIP instance as the benchmark drives it: the C interface between
 * lwip_instance.c (compiled with lwIP, linked twice with its globals made
 * local, see bench/tcp/run) and the C++ adapter (lwip_pair.cpp). Each copy
 * exports one table of these functions: lwip_bench_instance_a and _b, and
 * _c and _d from the build with timestamps on (LWIP_TCP_TIMESTAMPS 1). */
#ifndef MOTE_BENCH_LWIP_INSTANCE_H
#define MOTE_BENCH_LWIP_INSTANCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { LWIP_BENCH_MAX_FLOWS = 64 };

struct lwip_bench_config {
  uint32_t address;     /* this instance's IPv4 address, host order */
  uint32_t peer;        /* the other end of the point-to-point link */
  uint16_t mtu;         /* IP MTU of the link: MSS + 40 */
  uint16_t mss;         /* the MSS this instance announces and sends with */
  uint32_t window;      /* receive window, bytes */
  uint32_t send_buffer; /* send buffer, bytes */
  /* The bytes every flow carries: flow byte i is pattern[i % pattern_period];
   * pattern holds 2 * pattern_period bytes so any run up to one period is
   * contiguous. The receiver compares what arrives against it. */
  const uint8_t* pattern;
  size_t pattern_period;
  /* A frame leaving this instance (a bare IPv4 packet). */
  void* link_context;
  void (*transmit)(void* link_context, const void* packet, size_t len);
};

struct lwip_bench_flow {
  uint64_t sent;     /* bytes accepted by tcp_write */
  uint64_t received; /* bytes delivered in order and matching the pattern */
  uint8_t connected; /* the three-way handshake completed */
  uint8_t finished;  /* sender: everything written and the FIN acknowledged;
                        receiver: the peer's FIN arrived */
  uint8_t failed;    /* reset, an error callback, or a pattern mismatch */
};

struct lwip_bench_instance {
  /* Sets the instance up; 0 on success. Call once, first. */
  int (*init)(const struct lwip_bench_config* config);
  /* lwIP's clock: sys_now() returns this. */
  void (*set_time_ms)(uint32_t now_ms);
  /* Runs the lwIP timers due at the time set. */
  void (*check_timeouts)(void);
  /* Milliseconds until the next lwIP timer (UINT32_MAX: none). */
  uint32_t (*next_timeout_ms)(void);
  /* Receiving a frame: a buffer of `capacity` bytes to copy it into (NULL
   * when the pool is empty: the frame is lost, as on a NIC), then
   * input_commit with its length hands it to lwIP. */
  void* (*input_begin)(size_t capacity);
  void (*input_commit)(size_t len);
  /* Accepts up to `flows` connections on `port`; each receives its bytes. */
  int (*listen)(uint16_t port, unsigned flows);
  /* Opens flow `flow` to the peer's `port`, to send `bytes` and then close. */
  int (*connect)(unsigned flow, uint16_t port, uint64_t bytes);
  /* Writes what the send buffers take now and pushes it out. */
  void (*send_more)(void);
  void (*flow_state)(unsigned flow, struct lwip_bench_flow* out);
};

extern const struct lwip_bench_instance lwip_bench_instance_a;
extern const struct lwip_bench_instance lwip_bench_instance_b;
extern const struct lwip_bench_instance lwip_bench_instance_c;
extern const struct lwip_bench_instance lwip_bench_instance_d;

#ifdef __cplusplus
}
#endif

#endif
