#pragma once
// QEMU's frame sockets, the host side: how a process on the host becomes the
// other end of an emulated board's network card (the LAN9118 of
// mps2-an385, say), so mote's stack on the host and firmware under QEMU
// share one Ethernet segment. Host only.
//
//   QemuDgramLink: -netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,
//     local.port=P1,remote.type=inet,remote.host=127.0.0.1,remote.port=P2
//     One UDP datagram is one Ethernet frame. mote binds P2 and sends to P1.
//   QemuStreamLink: -netdev stream,id=n0,server=on,addr.type=unix,addr.path=S
//     A stream socket (unix or TCP) carrying each frame behind its length
//     as a 4-byte big-endian number. mote connects to S (connect_unix), or
//     accepts QEMU's connection itself and adopts the socket.
//
// Both are Ethernet devices for an Interface, and AsyncDevices for Stack.

#include <cstddef>
#include <string>
#include <vector>

#include "mote/base/result.hpp"
#include "mote/io/address.hpp"
#include "mote/net/phy/device.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote::net {

class QemuDgramLink {
 public:
  QemuDgramLink() = default;
  QemuDgramLink(QemuDgramLink&&) noexcept = default;
  QemuDgramLink& operator=(QemuDgramLink&& other) noexcept;
  ~QemuDgramLink() { close(); }

  // Binds `local` (port 0: any free one, see local_endpoint()) and talks to
  // `remote` only: datagrams from anywhere else are not received.
  static Result<QemuDgramLink> open(platform::EpollDriver& driver, io::Endpoint local,
                                    io::Endpoint remote, std::size_t mtu = 1500);

  [[nodiscard]] DeviceCapabilities capabilities() const { return {Medium::ethernet, mtu_}; }
  Result<std::size_t> receive(Instant now, ByteSpan buffer);
  [[nodiscard]] bool can_transmit() const { return watch_.is_open(); }
  Status transmit(Instant now, ConstByteSpan frame);
  platform::FdWatch::ReadinessAwaiter wait_receive() { return watch_.readable(); }

  [[nodiscard]] Result<io::Endpoint> local_endpoint() const;
  void close();

 private:
  platform::FdWatch watch_;
  std::size_t mtu_ = 1500;
};

class QemuStreamLink {
 public:
  QemuStreamLink() = default;
  QemuStreamLink(QemuStreamLink&&) noexcept = default;
  QemuStreamLink& operator=(QemuStreamLink&& other) noexcept;
  ~QemuStreamLink() { close(); }

  // Connects to QEMU's `-netdev stream,server=on` unix socket.
  static Result<QemuStreamLink> connect_unix(platform::EpollDriver& driver, const std::string& path,
                                             std::size_t mtu = 1500);
  // Takes a connected stream socket (made non-blocking here).
  static Result<QemuStreamLink> adopt(platform::EpollDriver& driver, int fd,
                                      std::size_t mtu = 1500);

  [[nodiscard]] DeviceCapabilities capabilities() const { return {Medium::ethernet, mtu_}; }
  // data_loss (and the link closes) when a length prefix is larger than a
  // frame can be: the stream has lost its framing and cannot recover.
  Result<std::size_t> receive(Instant now, ByteSpan buffer);
  // False while an earlier frame is still partly unsent, or after QEMU
  // closed the connection.
  [[nodiscard]] bool can_transmit() const;
  Status transmit(Instant now, ConstByteSpan frame);
  platform::FdWatch::ReadinessAwaiter wait_receive() { return watch_.readable(); }

  // False once the peer has closed its end (or the link was closed).
  [[nodiscard]] bool connected() const { return watch_.is_open() && !peer_closed_; }
  void close();

 private:
  // Writes what is left of the pending frame; false while some remains.
  // const: can_transmit() retries it, there being no writable wake-up.
  bool flush() const;

  platform::FdWatch watch_;
  std::size_t mtu_ = 1500;
  std::vector<std::byte> rx_;          // bytes read and not yet returned as frames
  mutable std::vector<std::byte> tx_;  // a frame (with its prefix) not yet fully written
  mutable std::size_t tx_sent_ = 0;
  mutable bool peer_closed_ = false;
};

static_assert(AsyncDevice<QemuDgramLink>);
static_assert(AsyncDevice<QemuStreamLink>);

}  // namespace mote::net
