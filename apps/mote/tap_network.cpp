#define MOTE_LOG_MODULE "tap"

#include "tap_network.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <utility>

#include "mote/base/log.hpp"

namespace mote::cli {

using namespace std::chrono_literals;

namespace {

std::string text_of(io::Ipv4Address address) {
  std::array<char, io::Ipv4Address::kMaxTextLen> text{};
  const Result<std::size_t> size = address.format(text);
  return size.ok() ? std::string(text.data(), *size) : std::string("?");
}

// FNV-1a: the same name gives the same hardware address on every run.
net::wire::MacAddress derived_hardware_address(std::string_view device, std::string_view host) {
  std::uint64_t hash = 14695981039346656037ULL;
  const auto mix = [&hash](std::string_view text) {
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ULL;
    }
  };
  mix(host);
  mix("@");
  mix(device);
  // 0x02: locally administered, unicast (IEEE 802 §8.2.2).
  return {0x02,
          static_cast<std::uint8_t>(hash >> 32),
          static_cast<std::uint8_t>(hash >> 24),
          static_cast<std::uint8_t>(hash >> 16),
          static_cast<std::uint8_t>(hash >> 8),
          static_cast<std::uint8_t>(hash)};
}

}  // namespace

Result<FixedAddress> parse_fixed_address(std::string_view text) {
  FixedAddress fixed;
  const std::size_t comma = text.find(',');
  if (comma != std::string_view::npos) {
    MOTE_TRY_ASSIGN(const io::Ipv4Address gateway, io::Ipv4Address::parse(text.substr(comma + 1)));
    fixed.gateway = gateway;
    text = text.substr(0, comma);
  }
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return Status::invalid_argument();
  MOTE_TRY_ASSIGN(fixed.address, io::Ipv4Address::parse(text.substr(0, slash)));
  const std::string_view prefix = text.substr(slash + 1);
  unsigned prefix_len = 0;
  const auto [end, error] =
      std::from_chars(prefix.data(), prefix.data() + prefix.size(), prefix_len);
  // /31 and /32 leave no room for a peer on the link (RFC 3021 aside).
  if (error != std::errc() || end != prefix.data() + prefix.size() || prefix.empty() ||
      prefix_len < 1 || prefix_len > 30) {
    return Status::invalid_argument();
  }
  fixed.prefix_len = static_cast<std::uint8_t>(prefix_len);
  if (fixed.address.is_unspecified() || fixed.address.is_broadcast() ||
      fixed.address.is_multicast() || fixed.address.is_loopback()) {
    return Status::invalid_argument();
  }
  if (fixed.gateway && !fixed.address.same_subnet(*fixed.gateway, fixed.prefix_len)) {
    return Status::invalid_argument();
  }
  return fixed;
}

TapNetwork::TapNetwork(platform::EpollDriver& driver, TapNetworkConfig config)
    : driver_(driver),
      config_(std::move(config)),
      mac_(derived_hardware_address(config_.device, config_.host_name)) {}

TapNetwork::~TapNetwork() {
  dhcp_task_.cancel();
  stack_task_.cancel();
}

Status TapNetwork::open() {
  MOTE_TRY_ASSIGN(tap_, net::TunTapDevice::open(driver_, config_.device, net::Medium::ethernet));
  net::InterfaceConfig interface_config;
  interface_config.hardware_address = mac_;
  iface_.emplace(tap_.capabilities(), interface_config);
  iface_->set_tcp_secret(random_);
  stack_.emplace(*iface_, tap_);
  connector_.emplace(*iface_, tcp_pool_);
  if (config_.address) {
    MOTE_TRY(iface_->set_ipv4_address(config_.address->address, config_.address->prefix_len));
    if (config_.address->gateway) MOTE_TRY(iface_->set_default_gateway(*config_.address->gateway));
    addressed_.set();
  } else {
    MOTE_TRY(dhcp_socket_.bind(*iface_, net::AsyncDhcpClient<net::UdpSocket>::kClientPort));
    net::DhcpClientConfig dhcp_config;
    dhcp_config.host_name = config_.host_name;
    dhcp_.emplace(dhcp_socket_, mac_, random_, dhcp_config);
  }
  return ok_status();
}

std::string TapNetwork::open_error(const Status& status) const {
  const std::string device = "TAP device '" + config_.device + "'";
  switch (status.code()) {
    case StatusCode::permission_denied:
      return "cannot open " + device +
             ": permission denied. It needs CAP_NET_ADMIN (run as root), or a device made "
             "for this user first (sudo ip tuntap add dev " +
             config_.device + " mode tap user $USER) and /dev/net/tun open to the user";
    case StatusCode::not_found:
      return "cannot open " + device + ": no /dev/net/tun (is the tun module loaded?)";
    case StatusCode::invalid_argument:
      return "cannot open " + device +
             ": the name is too long, or the interface exists and is not a TAP device";
    default: return "cannot open " + device + ": " + status.str();
  }
}

Status TapNetwork::start(async::Executor& executor) {
  MOTE_TRY(executor.spawn(stack_task_, run_stack, std::ref(*this)));
  if (dhcp_) MOTE_TRY(executor.spawn(dhcp_task_, run_dhcp, std::ref(*this)));
  return ok_status();
}

async::Task<void> TapNetwork::run_stack(TapNetwork& network) { return network.stack_->run(); }

async::Task<Status> TapNetwork::run_dhcp(TapNetwork& network) {
  co_return co_await network.dhcp_->run(
      [&network](const net::DhcpEvent& event) { network.on_dhcp(event); });
}

void TapNetwork::on_dhcp(const net::DhcpEvent& event) {
  net::Interface& iface = *iface_;
  if (event.kind == net::DhcpEvent::Kind::lost) {
    MOTE_LOG_WARN("%s: DHCP lease of %s lost; asking for another", config_.device.c_str(),
                  text_of(event.lease.address).c_str());
    iface.clear_ipv4_address();
    addressed_.reset();
    return;
  }
  if (event.kind != net::DhcpEvent::Kind::acquired) return;
  Status configured = iface.set_ipv4_address(event.lease.address, event.lease.prefix_len);
  if (configured.ok() && event.lease.router) {
    configured = iface.set_default_gateway(*event.lease.router);
  }
  if (!configured.ok()) {
    MOTE_LOG_ERROR("%s: cannot use the DHCP lease %s/%u: %s", config_.device.c_str(),
                   text_of(event.lease.address).c_str(),
                   static_cast<unsigned>(event.lease.prefix_len), configured.str());
    return;
  }
  MOTE_LOG_INFO("%s: DHCP lease %s from %s", config_.device.c_str(), address_text().c_str(),
                text_of(event.lease.server).c_str());
  addressed_.set();
}

async::Task<Status> TapNetwork::wait_for_address() {
  if (addressed_.is_set()) co_return ok_status();
  co_return co_await async::with_timeout(
      config_.lease_timeout,
      [](async::Event& addressed) -> async::Task<void> { co_await addressed.wait(); }(addressed_));
}

async::Task<void> TapNetwork::stop() {
  const async::Instant give_up = async::now() + 1s;
  for (;;) {
    bool closing = false;
    for (const net::TcpSocket& socket : tcp_sockets_) {
      const net::TcpState state = socket.tcb().state();
      closing = closing || (state != net::TcpState::closed && state != net::TcpState::time_wait);
    }
    if (!closing || async::now() >= give_up) break;
    co_await async::sleep_for(10ms);
  }
  dhcp_task_.cancel();
  stack_task_.cancel();
}

Result<TapNetwork::Datagram*> TapNetwork::open_datagram(const io::Endpoint& server) {
  if (!server.address.is_v4()) return Status::invalid_argument();  // mote's stack is IPv4 only
  MOTE_TRY(datagram_socket_.bind(*iface_, 0));
  return static_cast<Datagram*>(&datagram_socket_);
}

std::string TapNetwork::address_text() const {
  if (!iface_ || !iface_->has_ipv4_address()) return "none";
  std::string text =
      text_of(iface_->ipv4_address()) + "/" + std::to_string(unsigned{iface_->prefix_len()});
  if (!iface_->default_gateway().is_unspecified()) {
    text += " via " + text_of(iface_->default_gateway());
  }
  return text;
}

}  // namespace mote::cli
