#pragma once
// TapNetwork: mote's own IPv4 stack (ARP, UDP, TCP, DHCPv4) on a Linux TAP
// device, for a command whose protocol code is written against the io
// concepts (io::Connector, io::DatagramSocket) and also runs on the kernel's
// sockets. It owns the device, the Interface, the Stack task, the DHCP
// client's task and the sockets the command borrows.
//
//   TapNetwork network(driver, config);
//   if (Status s = network.open(); !s.ok()) ... network.open_error(s) ...
//   network.start(executor);                     // the stack and DHCP tasks
//   co_await network.wait_for_address();         // the lease (or --address)
//   mqtt::Client<TapNetwork::Connector> client(network.connector(), ...);
//   ...
//   co_await network.stop();                     // lets TCP close, ends the tasks
//
// The device is attached to by name: a persistent TAP made for the user
// (`ip tuntap add dev NAME mode tap user $USER`) needs no privilege; any
// other needs CAP_NET_ADMIN, and one that did not exist is created and
// lives as long as the command (its kernel side then has no address: the
// peer must be reached through another interface bridged to it). Host only.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mote/async/async.hpp"
#include "mote/async/event.hpp"
#include "mote/base/result.hpp"
#include "mote/io/address.hpp"
#include "mote/net/dhcp/async_dhcp_client.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/linux/system_random.hpp"
#include "mote/net/linux/tap_device.hpp"
#include "mote/net/socket/tcp_socket.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/stack.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote::cli {

// --address A.B.C.D/NN[,GATEWAY]: a fixed address instead of DHCP.
struct FixedAddress {
  io::Ipv4Address address;
  std::uint8_t prefix_len = 24;
  std::optional<io::Ipv4Address> gateway;  // none: only the subnet is reachable
};
// Errors: invalid_argument (with nothing else to say: the caller prints
// the expected form).
Result<FixedAddress> parse_fixed_address(std::string_view text);

struct TapNetworkConfig {
  std::string device;                    // the TAP interface's name
  std::optional<FixedAddress> address;   // none: DHCP
  async::Duration lease_timeout{30000};  // ms: how long wait_for_address() waits for DHCP
  // The hardware address is derived from it (and the device name), so a
  // restarted node asks for, and usually gets, the same lease; DHCP option
  // 12 carries it.
  std::string host_name;
};

class TapNetwork {
 public:
  using Connector = net::TcpConnector;
  using Datagram = net::UdpSocket;

  TapNetwork(platform::EpollDriver& driver, TapNetworkConfig config);
  TapNetwork(const TapNetwork&) = delete;
  TapNetwork& operator=(const TapNetwork&) = delete;
  // Cancels the tasks start() spawned if stop() did not (the executor must
  // outlive the network).
  ~TapNetwork();

  // Attaches to the TAP device and builds the interface. Errors as
  // net::TunTapDevice::open: permission_denied, not_found, invalid_argument.
  Status open();
  // A sentence for a person about why open() failed, with what to do.
  [[nodiscard]] std::string open_error(const Status& status) const;

  // Spawns the stack's task and, without a fixed address, the DHCP client's.
  Status start(async::Executor& executor);
  // Ok once the interface has an address: at once with a fixed one, else
  // when the first lease came. deadline_exceeded after the lease timeout.
  async::Task<Status> wait_for_address();
  // Gives open TCP connections up to a second to finish closing (so the
  // peer sees a FIN, not silence), then cancels the tasks start() spawned.
  async::Task<void> stop();

  // A TCP connector over a pool of two sockets (a reconnect need not wait
  // for the last connection's TIME-WAIT).
  Connector& connector() { return *connector_; }
  // The one UDP socket for the command, bound to an ephemeral port.
  Result<Datagram*> open_datagram(const io::Endpoint& server);

  [[nodiscard]] const std::string& device_name() const { return config_.device; }
  [[nodiscard]] net::wire::MacAddress hardware_address() const { return mac_; }
  // "10.0.0.5/24 via 10.0.0.1" (or without the gateway), "none" before one.
  [[nodiscard]] std::string address_text() const;

 private:
  static async::Task<void> run_stack(TapNetwork& network);
  static async::Task<Status> run_dhcp(TapNetwork& network);
  void on_dhcp(const net::DhcpEvent& event);

  platform::EpollDriver& driver_;
  TapNetworkConfig config_;
  net::wire::MacAddress mac_;
  net::TunTapDevice tap_;
  std::optional<net::StaticInterface<>> iface_;
  std::optional<net::Stack<net::TunTapDevice>> stack_;
  net::SystemRandom random_;
  // After the interface: they unbind from it when destroyed.
  net::StaticUdpSocket<2048, 2048> dhcp_socket_;
  net::StaticUdpSocket<4096, 4096> datagram_socket_;
  net::StaticTcpSocket<16384, 16384> tcp_sockets_[2];
  std::array<net::TcpSocket*, 2> tcp_pool_{&tcp_sockets_[0], &tcp_sockets_[1]};
  std::optional<net::TcpConnector> connector_;
  std::optional<net::AsyncDhcpClient<net::UdpSocket>> dhcp_;
  async::Event addressed_;
  async::TaskStorage<std::size_t{4} * 1024> stack_task_;
  async::TaskStorage<std::size_t{16} * 1024> dhcp_task_;
};

}  // namespace mote::cli
