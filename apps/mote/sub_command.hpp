#pragma once
// `mote sub`: like mosquitto_sub (docs/cli.md).

#include <memory>

#include "command.hpp"

namespace mote::cli {

std::unique_ptr<Command> make_sub_command();

}  // namespace mote::cli
