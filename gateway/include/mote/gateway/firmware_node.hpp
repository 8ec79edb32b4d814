#pragma once
// How a host runs the firmware sensor node (firmware/sensor_node_net) next
// to a gateway: QEMU's mps2-an385 with its LAN9118 on QEMU's user
// networking (slirp: DHCP from QEMU, the host's loopback at 10.0.2.2), and
// the node's own options on its semihosting command line (-append), as
// firmware/sensor_node_net/main.cpp reads them. `mote demo` starts its
// firmware node so, and firmware_node_test runs the image so against
// `mote gateway`. Host only.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mote::gateway {

// The host's loopback as the guest sees it through slirp: where the node
// finds the gateway.
inline constexpr const char* kFirmwareNodeHostAddress = "10.0.2.2";

// The node's command line.
struct FirmwareNodeOptions {
  enum class Transport : std::uint8_t { mqtt, coap };

  Transport transport = Transport::mqtt;
  std::uint16_t port = 0;  // the gateway's MQTT (TCP) or CoAP (UDP) port on the host's loopback
  std::string device;
  std::chrono::milliseconds interval{1000};  // between readings
  // --count N: the node exits after N readings the gateway took; 0 or none:
  // it runs until QEMU is stopped.
  std::optional<std::uint32_t> count;
};

// "--mqtt 10.0.2.2:PORT --device NAME --interval-ms N [--count N]".
std::string firmware_node_command_line(const FirmwareNodeOptions& options);

// The whole QEMU command line; `qemu` is the qemu-system-arm to run and
// `command_line` the node's (firmware_node_command_line, normally).
std::vector<std::string> firmware_node_qemu_argv(const std::string& qemu, const std::string& image,
                                                 const std::string& command_line);

}  // namespace mote::gateway
