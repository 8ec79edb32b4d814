#pragma once
// `mote pub`: like mosquitto_pub (docs/cli.md).

#include <memory>

#include "command.hpp"

namespace mote::cli {

std::unique_ptr<Command> make_pub_command();

}  // namespace mote::cli
