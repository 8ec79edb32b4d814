#pragma once
// `mote sensor`: a Linux sensor node for the gateway (docs/cli.md).

#include <memory>

#include "command.hpp"

namespace mote::cli {

std::unique_ptr<Command> make_sensor_command();

}  // namespace mote::cli
