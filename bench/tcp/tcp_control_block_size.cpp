// The size of mote's TCP control block on the target, for bench/tcp/run's
// table: compiled with the Cortex-M0 flags and read from the symbol table
// (arm-none-eabi-nm -S), so nothing runs on the target. Buffers excluded,
// as for lwIP's tcp_pcb.
#include "mote/net/tcp/tcp_control_block.hpp"

extern "C" {
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
unsigned char mote_tcp_control_block_size[sizeof(mote::net::TcpControlBlock)];
}
