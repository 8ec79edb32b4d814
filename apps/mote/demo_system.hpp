#pragma once
// `mote demo`: the whole system on one machine (docs/cli.md#mote-demo):
// `mote gateway`, three `mote sensor` nodes (two over MQTT, one over CoAP)
// and, when QEMU and the image are there, the firmware node, each a child
// process of the demo; Ctrl-C or SIGTERM stops the nodes, then the gateway.

#include <cstdint>
#include <string>

#include "mote/async/time.hpp"
#include "mote/base/log.hpp"

namespace mote::cli {

struct SystemDemoConfig {
  std::string data_dir;  // empty: $XDG_STATE_HOME/mote/demo (~/.local/state/mote/demo)
  std::string bind = "127.0.0.1";
  std::int64_t mqtt_port = 1883;
  std::int64_t http_port = 8080;
  std::int64_t coap_port = 5683;
  async::Duration interval = std::chrono::seconds(2);  // between a node's readings
  async::Duration duration = async::Duration::zero();  // zero: until Ctrl-C / SIGTERM
  std::string firmware;                                // the image; empty: looked for
  bool no_firmware = false;
  std::string w1_dir = "/sys/bus/w1/devices";
  log::Level log_level = log::Level::info;  // passed on to every `mote` child
};

// Runs the system until --duration, SIGINT or SIGTERM, or until the gateway
// fails; returns kExitOk after a clean stop, kExitFailure otherwise (a port
// in use, the gateway failing).
int run_system_demo(const SystemDemoConfig& config);

}  // namespace mote::cli
