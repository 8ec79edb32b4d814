#include "mote/gateway/firmware_node.hpp"

namespace mote::gateway {

std::string firmware_node_command_line(const FirmwareNodeOptions& options) {
  std::string line =
      options.transport == FirmwareNodeOptions::Transport::mqtt ? "--mqtt " : "--coap ";
  line += std::string(kFirmwareNodeHostAddress) + ":" + std::to_string(options.port);
  line += " --device " + options.device;
  line += " --interval-ms " + std::to_string(options.interval.count());
  if (options.count) line += " --count " + std::to_string(*options.count);
  return line;
}

std::vector<std::string> firmware_node_qemu_argv(const std::string& qemu, const std::string& image,
                                                 const std::string& command_line) {
  // No -nographic: with no display and the UART unused (the node logs by
  // semihosting, on QEMU's stderr), QEMU leaves the terminal alone
  // (-nographic would put it in raw mode).
  return {qemu,
          "-M",
          "mps2-an385",
          "-display",
          "none",
          "-serial",
          "null",
          "-monitor",
          "none",
          "-semihosting-config",
          "enable=on,target=native",
          "-nic",
          "user,model=lan9118",
          "-kernel",
          image,
          "-append",
          command_line};
}

}  // namespace mote::gateway
