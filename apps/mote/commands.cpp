// The registry of subcommands. Adding one is one include and one line here
// (see docs/cli.md); main.cpp, the parser, stays untouched.

#include "bench_command.hpp"
#include "broker_command.hpp"
#include "command.hpp"
#include "demo_command.hpp"
#include "gateway_command.hpp"
#include "pub_command.hpp"
#include "sensor_command.hpp"
#include "sub_command.hpp"

namespace mote::cli {

std::vector<std::unique_ptr<Command>> all_commands() {
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(make_demo_command());
  commands.push_back(make_broker_command());
  commands.push_back(make_sensor_command());
  commands.push_back(make_gateway_command());
  commands.push_back(make_bench_command());
  commands.push_back(make_pub_command());
  commands.push_back(make_sub_command());
  return commands;
}

}  // namespace mote::cli
