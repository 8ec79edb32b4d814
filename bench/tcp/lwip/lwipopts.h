/* lwIP options for mote's TCP benchmark (bench/tcp). One configuration for
 * both uses of lwIP there:
 *   - the host build, two lwIP instances in one process (bench/tcp/run links
 *     each as its own object with its globals made local), raw API, NO_SYS;
 *   - the Cortex-M0 size probe (LWIP_BENCH_SIZE_PROBE): the same TCP
 *     features, so sizeof(struct tcp_pcb) is the control block that the
 *     benchmark runs.
 * Checksums are generated and checked (lwIP's defaults, spelled out), asserts
 * are off, IPv4 only on a point-to-point IP link (no ARP, no Ethernet).
 *
 * The MSS, the receive window and the send buffer are run-time values on the
 * host, so one build serves every row of the table (MSS 536/1460/8192, netsim
 * buffers 128 B..32 KiB). lwIP reads them through TCP_MSS, TCP_WND and
 * TCP_SND_BUF in C code, and also in a few #if sanity checks; in an #if an
 * identifier is 0, so `(lwip_bench_runtime ? variable : constant)` is the
 * constant to the preprocessor and the variable to the compiler
 * (lwip_bench_runtime is 1, defined in lwip_instance.c). */
#ifndef MOTE_BENCH_LWIPOPTS_H
#define MOTE_BENCH_LWIPOPTS_H

#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_NOASSERT 1

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 0
#define LWIP_ETHERNET 0
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 0
#define LWIP_TCP 1
#define LWIP_DHCP 0
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0
#define LWIP_STATS 0
#define LWIP_NETIF_LOOPBACK 0

/* Checksums on, in both directions. */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_TCP 1

/* TCP features: what a bulk transfer uses. Window scaling lets the window
 * grow past 64 KiB (TCP_RCV_SCALE 2: up to 256 KiB, in 4-byte steps, which
 * still expresses a 128-byte window). lwIP 2.1 has no SACK-based recovery
 * (LWIP_TCP_SACK_OUT only sends SACK blocks); NewReno fast retransmit and
 * recovery are always on. */
#ifndef LWIP_WND_SCALE /* the size probe is also built without it */
#define LWIP_WND_SCALE 1
#endif
#define TCP_RCV_SCALE 2
/* Off as in lwIP's defaults; bench/tcp/run also builds a second pair of
 * instances with -DLWIP_TCP_TIMESTAMPS=1, which send the same segments as
 * mote (12 bytes of each carry the option): the `lwip-ts` stack. */
#ifndef LWIP_TCP_TIMESTAMPS
#define LWIP_TCP_TIMESTAMPS 0
#endif
#define LWIP_TCP_SACK_OUT 0
#define TCP_QUEUE_OOSEQ 1
#define LWIP_TCP_KEEPALIVE 0
#define TCP_LISTEN_BACKLOG 1
#define LWIP_CALLBACK_API 1

#ifdef LWIP_BENCH_SIZE_PROBE
/* Cortex-M0: typical small-board sizes; they change no struct layout. */
#define MEM_ALIGNMENT 4
#define MEM_SIZE (8 * 1024)
#define TCP_MSS 536
#define TCP_WND (4 * TCP_MSS)
#define TCP_SND_BUF (4 * TCP_MSS)
#define MEMP_NUM_TCP_PCB 4
#define PBUF_POOL_SIZE 8
#else
extern const unsigned char lwip_bench_runtime;
extern unsigned lwip_bench_mss;
extern unsigned lwip_bench_wnd;
extern unsigned lwip_bench_snd_buf;
#define TCP_MSS (lwip_bench_runtime ? lwip_bench_mss : 1460)
#define TCP_WND (lwip_bench_runtime ? lwip_bench_wnd : 0x20000)
#define TCP_SND_BUF (lwip_bench_runtime ? lwip_bench_snd_buf : 0x20000)
/* Segments a send buffer can be cut into: enough for the smallest writes. */
#define TCP_SND_QUEUELEN (lwip_bench_runtime ? (4 * lwip_bench_snd_buf / 128 + 16) : 0x2000)
/* The window check against the pool and the rest are done by the adapter,
 * which knows the run-time values (lwip_instance.c). */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1

#define MEM_ALIGNMENT 8
/* Sent segments are copied into PBUF_RAM pbufs from lwIP's own heap
 * (tcp_write with TCP_WRITE_FLAG_COPY, the usual socket-like use): room for
 * two full send buffers plus headers. */
#define MEM_LIBC_MALLOC 0
#define MEM_SIZE (8 * 1024 * 1024)
#define MEMP_NUM_TCP_PCB 80
#define MEMP_NUM_TCP_PCB_LISTEN 2
#define MEMP_NUM_TCP_SEG 0x4000
#define MEMP_NUM_PBUF 64
#define MEMP_NUM_SYS_TIMEOUT 8
/* Received frames land in pool pbufs, one per frame (the largest MTU is
 * 8192 + 40): enough for a full window of the smallest segments. */
#define PBUF_POOL_SIZE 2048
#define PBUF_POOL_BUFSIZE (8192 + 40)
#endif

#endif
