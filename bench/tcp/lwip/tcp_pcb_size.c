/* Size probe for lwIP's TCP control block on the target: bench/tcp/run
 * compiles this with arm-none-eabi-gcc for a Cortex-M0 and reads the size
 * of this object from the symbol table (arm-none-eabi-nm -S), so nothing
 * has to run on the target. */
#include "lwip/tcp.h"

const char lwip_tcp_pcb_size[sizeof(struct tcp_pcb)] = {0};
const char lwip_tcp_pcb_listen_size[sizeof(struct tcp_pcb_listen)] = {0};
