#pragma once
// `mote bench mqtt`: the MQTT load generator (mqtt_load.hpp).

#include <memory>

#include "command.hpp"

namespace mote::cli {

std::unique_ptr<Command> make_bench_command();

}  // namespace mote::cli
