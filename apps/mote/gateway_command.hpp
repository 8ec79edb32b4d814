#pragma once

#include <memory>

#include "command.hpp"

namespace mote::cli {

std::unique_ptr<Command> make_gateway_command();

}  // namespace mote::cli
