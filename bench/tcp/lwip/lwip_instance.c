/* One lwIP instance for the TCP benchmark: a point-to-point IPv4 netif whose
 * frames go to the harness, lwIP's clock set by the harness, and bulk flows
 * on the raw API (tcp_write with copy on the sending side; the receiving side
 * checks every byte against the pattern and reopens the window at once).
 * bench/tcp/run compiles this with lwIP's core and links the result twice,
 * each copy with its globals made local, so two independent lwIP stacks live
 * in one process. See lwip_instance.h for the interface. */
#include "lwip_instance.h"

#include <string.h>

#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

const unsigned char lwip_bench_runtime = 1;
unsigned lwip_bench_mss = 536;
unsigned lwip_bench_wnd = 0xffff;
unsigned lwip_bench_snd_buf = 0xffff;

struct flow {
  struct tcp_pcb* pcb;
  uint64_t to_send;
  struct lwip_bench_flow state;
};

static struct lwip_bench_config config_;
static struct netif netif_;
static uint32_t now_ms_;
static struct pbuf* input_;
static struct flow flows_[LWIP_BENCH_MAX_FLOWS];
static unsigned accept_limit_;
static unsigned accepted_;
static uint8_t flat_[PBUF_POOL_BUFSIZE];

u32_t sys_now(void) { return now_ms_; }

static err_t link_output(struct netif* netif, struct pbuf* p, const ip4_addr_t* next_hop) {
  (void)netif;
  (void)next_hop;
  if (p->next == NULL) {
    config_.transmit(config_.link_context, p->payload, p->len);
    return ERR_OK;
  }
  /* A segment built from more than one pbuf: the link takes one run of bytes. */
  if (p->tot_len > sizeof flat_) return ERR_BUF;
  pbuf_copy_partial(p, flat_, p->tot_len, 0);
  config_.transmit(config_.link_context, flat_, p->tot_len);
  return ERR_OK;
}

static err_t netif_setup(struct netif* netif) {
  netif->name[0] = 'b';
  netif->name[1] = 'n';
  netif->output = link_output;
  netif->mtu = config_.mtu;
  return ERR_OK;
}

static int bench_init(const struct lwip_bench_config* config) {
  config_ = *config;
  lwip_bench_mss = config->mss;
  lwip_bench_wnd = config->window;
  lwip_bench_snd_buf = config->send_buffer;
  /* What LWIP_DISABLE_TCP_SANITY_CHECKS skipped, on the run-time values. */
  if (config->mtu < config->mss + 40u || config->mtu > PBUF_POOL_BUFSIZE) return -1;
  if (config->window < 128u) return -1; /* the smallest netsim buffer */
  if (config->window > (0xffffu << TCP_RCV_SCALE)) return -1;
  if (config->window > (uint64_t)PBUF_POOL_SIZE * config->mss) return -1;
  if (config->send_buffer > 0xffffu * 4u) return -1;
  lwip_init();
  ip4_addr_t address;
  ip4_addr_t netmask;
  ip4_addr_t gateway;
  ip4_addr_set_u32(&address, lwip_htonl(config->address));
  IP4_ADDR(&netmask, 255, 255, 255, 252);
  ip4_addr_set_zero(&gateway);
  if (netif_add(&netif_, &address, &netmask, &gateway, NULL, netif_setup, ip4_input) == NULL) {
    return -1;
  }
  netif_set_default(&netif_);
  netif_set_up(&netif_);
  netif_set_link_up(&netif_);
  return 0;
}

static void set_time_ms(uint32_t now_ms) { now_ms_ = now_ms; }
static void check_timeouts(void) { sys_check_timeouts(); }
static uint32_t next_timeout_ms(void) { return sys_timeouts_sleeptime(); }

static void* input_begin(size_t capacity) {
  if (input_ == NULL) {
    if (capacity > PBUF_POOL_BUFSIZE) capacity = PBUF_POOL_BUFSIZE;
    input_ = pbuf_alloc(PBUF_RAW, (u16_t)capacity, PBUF_POOL);
    if (input_ == NULL) return NULL;
  }
  return input_->payload;
}

static void input_commit(size_t len) {
  struct pbuf* p = input_;
  input_ = NULL;
  if (p == NULL) return;
  pbuf_realloc(p, (u16_t)len);
  if (netif_.input(p, &netif_) != ERR_OK) pbuf_free(p);
}

static void on_error(void* arg, err_t err) {
  (void)err;
  struct flow* flow = arg;
  if (flow == NULL) return;
  flow->pcb = NULL; /* lwIP has freed it */
  flow->state.failed = 1;
}

static void send_flow(struct flow* flow) {
  struct tcp_pcb* pcb = flow->pcb;
  if (pcb == NULL || !flow->state.connected || flow->state.finished) return;
  while (flow->state.sent < flow->to_send) {
    const size_t room = tcp_sndbuf(pcb);
    if (room == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN) break;
    const size_t offset = (size_t)(flow->state.sent % config_.pattern_period);
    size_t len = room;
    if (flow->to_send - flow->state.sent < len) len = (size_t)(flow->to_send - flow->state.sent);
    if (len > config_.pattern_period) len = config_.pattern_period;
    if (len > 0xffff) len = 0xffff;
    const int more = flow->state.sent + len < flow->to_send;
    const err_t err = tcp_write(pcb, config_.pattern + offset, (u16_t)len,
                                TCP_WRITE_FLAG_COPY | (more ? TCP_WRITE_FLAG_MORE : 0));
    if (err == ERR_MEM) break;
    if (err != ERR_OK) {
      flow->state.failed = 1;
      return;
    }
    flow->state.sent += len;
  }
  tcp_output(pcb);
  if (flow->state.sent == flow->to_send && tcp_close(pcb) == ERR_OK) {
    /* The FIN follows the data; lwIP owns the pcb from here on. */
    tcp_arg(pcb, NULL);
    tcp_err(pcb, NULL);
    flow->pcb = NULL;
    flow->state.finished = 1;
  }
}

static err_t on_connected(void* arg, struct tcp_pcb* pcb, err_t err) {
  (void)pcb;
  struct flow* flow = arg;
  if (err != ERR_OK) {
    flow->state.failed = 1;
    return err;
  }
  flow->state.connected = 1;
  send_flow(flow);
  return ERR_OK;
}

static err_t on_receive(void* arg, struct tcp_pcb* pcb, struct pbuf* p, err_t err) {
  struct flow* flow = arg;
  if (err != ERR_OK) {
    if (p != NULL) pbuf_free(p);
    return ERR_OK;
  }
  if (p == NULL) { /* the peer's FIN: close our side too */
    flow->state.finished = 1;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_err(pcb, NULL);
    flow->pcb = NULL;
    if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
    return ERR_OK;
  }
  for (struct pbuf* q = p; q != NULL; q = q->next) {
    const size_t offset = (size_t)(flow->state.received % config_.pattern_period);
    if (memcmp(q->payload, config_.pattern + offset, q->len) != 0) flow->state.failed = 1;
    flow->state.received += q->len;
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t on_accept(void* arg, struct tcp_pcb* pcb, err_t err) {
  (void)arg;
  if (err != ERR_OK || pcb == NULL) return ERR_VAL;
  if (accepted_ >= accept_limit_) {
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  struct flow* flow = &flows_[accepted_++];
  flow->pcb = pcb;
  flow->state.connected = 1;
  tcp_arg(pcb, flow);
  tcp_recv(pcb, on_receive);
  tcp_err(pcb, on_error);
  return ERR_OK;
}

static int bench_listen(uint16_t port, unsigned flows) {
  if (flows > LWIP_BENCH_MAX_FLOWS) return -1;
  struct tcp_pcb* pcb = tcp_new();
  if (pcb == NULL || tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) return -1;
  struct tcp_pcb* listener = tcp_listen_with_backlog(pcb, (u8_t)flows);
  if (listener == NULL) return -1;
  accept_limit_ = flows;
  tcp_accept(listener, on_accept);
  return 0;
}

static int bench_connect(unsigned index, uint16_t port, uint64_t bytes) {
  if (index >= LWIP_BENCH_MAX_FLOWS) return -1;
  struct flow* flow = &flows_[index];
  flow->pcb = tcp_new();
  if (flow->pcb == NULL) return -1;
  flow->to_send = bytes;
  tcp_arg(flow->pcb, flow);
  tcp_err(flow->pcb, on_error);
  ip_addr_t peer;
  ip_addr_set_ip4_u32(&peer, lwip_htonl(config_.peer));
  return tcp_connect(flow->pcb, &peer, port, on_connected) == ERR_OK ? 0 : -1;
}

static void send_more(void) {
  for (unsigned i = 0; i < LWIP_BENCH_MAX_FLOWS; ++i) send_flow(&flows_[i]);
}

static void flow_state(unsigned index, struct lwip_bench_flow* out) {
  if (index >= LWIP_BENCH_MAX_FLOWS) {
    memset(out, 0, sizeof *out);
    return;
  }
  *out = flows_[index].state;
}

/* bench/tcp/run renames this to lwip_bench_instance_a / _b. */
const struct lwip_bench_instance lwip_bench_instance = {
    bench_init,  set_time_ms,   check_timeouts, next_timeout_ms, input_begin, input_commit,
    bench_listen, bench_connect, send_more,      flow_state,
};
