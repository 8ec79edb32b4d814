#pragma once
// The Linux kernel's CSPRNG (getrandom(2)) as a RandomSource for client
// mask keys and handshake nonces. Host only.

#include "mote/websocket/connection.hpp"

namespace mote::websocket {

[[nodiscard]] RandomSource system_random();

}  // namespace mote::websocket
