#pragma once
// TunTapDevice: a Linux TAP (Ethernet frames) or TUN (bare IP packets)
// interface as a link for mote's stack, through /dev/net/tun, non-blocking
// and watched by the EpollDriver. Host only.
//
//   auto tap = TunTapDevice::open(driver, "mote0", Medium::ethernet);
//   StaticInterface<> iface(tap->capabilities(), config);
//   Stack stack(iface, *tap);
//
// The kernel side of the interface (its address, "up") is configured with
// ip(8) as for any TAP device; opening needs CAP_NET_ADMIN unless the device
// was made persistent for this user (`ip tuntap add ... user`).

#include <cstddef>
#include <string>
#include <string_view>

#include "mote/base/result.hpp"
#include "mote/net/phy/device.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote::net {

class TunTapDevice {
 public:
  TunTapDevice() = default;
  TunTapDevice(TunTapDevice&&) noexcept = default;
  TunTapDevice& operator=(TunTapDevice&& other) noexcept;
  ~TunTapDevice() { close(); }

  // Attaches to the TAP (Medium::ethernet) or TUN (Medium::ip) interface
  // `name`, creating it if it does not exist (it then lives as long as the
  // device is open). Empty `name`: the kernel picks one (name() tells).
  // Errors: permission_denied without CAP_NET_ADMIN, not_found without
  // /dev/net/tun, invalid_argument for a name that is too long or an
  // existing interface of the other kind.
  static Result<TunTapDevice> open(platform::EpollDriver& driver, std::string_view name,
                                   Medium medium = Medium::ethernet, std::size_t mtu = 1500);

  [[nodiscard]] DeviceCapabilities capabilities() const { return capabilities_; }
  Result<std::size_t> receive(Instant now, ByteSpan buffer);
  [[nodiscard]] bool can_transmit() const { return watch_.is_open(); }
  Status transmit(Instant now, ConstByteSpan frame);
  platform::FdWatch::ReadinessAwaiter wait_receive() { return watch_.readable(); }

  [[nodiscard]] const std::string& name() const { return name_; }
  void close();

 private:
  platform::FdWatch watch_;
  DeviceCapabilities capabilities_;
  std::string name_;
};

static_assert(AsyncDevice<TunTapDevice>);

}  // namespace mote::net
