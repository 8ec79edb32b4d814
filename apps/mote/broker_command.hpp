#pragma once
// `mote broker`: the MQTT 3.1.1 / 5.0 broker on the kernel's sockets.

#include <memory>

#include "command.hpp"

namespace mote::cli {

std::unique_ptr<Command> make_broker_command();

}  // namespace mote::cli
