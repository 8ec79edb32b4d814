#pragma once
// Interface: one network interface of mote's IP stack — its addresses, ARP
// cache, IPv4 input and output, reassembly, ICMP echo and errors, and the
// UDP sockets bound to it. Like smoltcp's iface it does no I/O and reads no
// clock: the caller passes `now` in, hands it a device to poll, and asks
// poll_at(now) when to come back. Freestanding: all memory is the caller's
// (InterfaceStorage / StaticInterface size it at compile time).
//
//   StaticLoopback<8192> link;
//   StaticInterface<> iface(link.capabilities(), {});
//   iface.set_ipv4_address(Ipv4Address(127, 0, 0, 1), 8);
//   for (;;) {
//     iface.poll(now(), link);
//     sleep_until(iface.poll_at(now()));   // or until the link has a frame
//   }
//
// Stack (net/stack.hpp) is that loop as an async task.
//
// What it implements, and where the RFCs say so, is quoted beside the code;
// docs/net.md has the list of what is in and what is out.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "mote/async/executor.hpp"
#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/io/address.hpp"
#include "mote/net/iface/neighbour_cache.hpp"
#include "mote/net/iface/pending_packets.hpp"
#include "mote/net/iface/reassembly.hpp"
#include "mote/net/phy/device.hpp"
#include "mote/net/tcp/tcp_control_block.hpp"
#include "mote/net/wire/address.hpp"
#include "mote/net/wire/arp.hpp"
#include "mote/net/wire/icmpv4.hpp"
#include "mote/net/wire/ipv4.hpp"

namespace mote::net {

class UdpSocket;
class TcpSocket;
class TcpListener;
class RandomSource;
struct TcpTransmit;

struct InterfaceConfig {
  // Ethernet medium only: the interface's own address (a locally
  // administered one, 02:..., when the board has none).
  wire::MacAddress hardware_address;
  // RFC 1122 §3.2.1.7: a fixed default TTL, "at least big enough for the
  // Internet diameter"; 64 as Linux.
  std::uint8_t ttl = 64;
  // How long an ARP answer is trusted (RFC 1122 §2.3.2.1 asks for a timeout;
  // smoltcp and lwIP use a minute or so).
  Duration neighbour_lifetime = std::chrono::seconds(60);
  // ARP requests for an unresolved neighbour: `arp_attempts` of them,
  // `arp_retry_interval` apart (Linux: 3 x 1 s). RFC 1122 §2.3.2.1: at most
  // one request per second per destination.
  Duration arp_retry_interval = std::chrono::seconds(1);
  std::uint8_t arp_attempts = 3;
  // Packets kept per unresolved neighbour (RFC 1122 §2.3.2.2 asks for >= 1).
  std::size_t pending_per_neighbour = 4;
  // Gratuitous ARP on set_ipv4_address: RFC 5227 §2.3's announcements,
  // ANNOUNCE_NUM of them ANNOUNCE_INTERVAL apart.
  std::uint8_t announcements = 2;
  Duration announce_interval = std::chrono::seconds(2);
  // Reassembly timeout (RFC 791's timer; Linux's ipfrag_time is 30 s).
  Duration reassembly_timeout = std::chrono::seconds(30);
  // Received IPv4, ICMP and UDP checksums: `ignore` for a link whose
  // hardware has checked them already, and for fuzzing. Sent ones are
  // always computed.
  wire::ChecksumMode rx_checksums = wire::ChecksumMode::verify;
};

// The memory an Interface works in; InterfaceStorage makes one.
struct InterfaceMemory {
  ByteSpan rx_frame;  // each at least the device's max_frame_len()
  ByteSpan tx_frame;
  std::span<Neighbour> neighbours;
  ByteSpan pending;  // packets waiting for ARP
  std::span<ReassemblySlot> reassembly_slots;
  ByteSpan reassembly_bytes;
  // The UDP port table: a power of two, at least twice the sockets wanted
  // (open addressing, kept at most half full for O(1) lookups).
  std::span<UdpSocket*> udp_table;
  // The TCP connection table by 4-tuple: the same scheme, power of two.
  std::span<TcpSocket*> tcp_table;
};

struct InterfaceLimits {
  std::size_t max_frame_len = 1514;  // Ethernet: 1500-byte MTU + 14
  std::size_t neighbours = 8;
  std::size_t pending_bytes = 2048;  // a packet or so per neighbour
  std::size_t reassembly_slots = 2;
  std::size_t reassembly_bytes = 4096;  // shared by the slots
  std::size_t udp_sockets = 8;
  std::size_t tcp_sockets = 8;  // connections at once, listeners' backlogs included
};

namespace internal {
constexpr std::size_t next_power_of_two(std::size_t n) {
  std::size_t power = 1;
  while (power < n) power <<= 1;
  return power;
}
}  // namespace internal

template <InterfaceLimits kLimits = InterfaceLimits{}>
class InterfaceStorage {
 public:
  InterfaceMemory memory() {
    return {rx_frame_,         tx_frame_,         neighbours_, pending_,
            reassembly_slots_, reassembly_bytes_, udp_table_,  tcp_table_};
  }

 private:
  std::array<std::byte, kLimits.max_frame_len> rx_frame_{};
  std::array<std::byte, kLimits.max_frame_len> tx_frame_{};
  std::array<Neighbour, kLimits.neighbours> neighbours_{};
  std::array<std::byte, kLimits.pending_bytes> pending_{};
  std::array<ReassemblySlot, kLimits.reassembly_slots> reassembly_slots_{};
  std::array<std::byte, kLimits.reassembly_bytes> reassembly_bytes_{};
  std::array<UdpSocket*, internal::next_power_of_two(2 * kLimits.udp_sockets)> udp_table_{};
  std::array<TcpSocket*, internal::next_power_of_two(2 * kLimits.tcp_sockets)> tcp_table_{};
};

// Counters for tests and diagnostics; they only ever grow.
struct InterfaceStats {
  std::uint32_t rx_frames = 0;
  std::uint32_t tx_frames = 0;
  std::uint32_t rx_dropped = 0;  // malformed, not for us, unsupported
  std::uint32_t rx_checksum_errors = 0;
  std::uint32_t tx_dropped = 0;  // no route, ARP failed, queue full
  std::uint32_t arp_requests_sent = 0;
  std::uint32_t arp_replies_sent = 0;
  std::uint32_t echo_replies_sent = 0;
  std::uint32_t icmp_errors_sent = 0;  // unreachable and time exceeded
  std::uint32_t udp_delivered = 0;
  std::uint32_t udp_no_socket = 0;
  std::uint32_t udp_rx_full = 0;       // the socket's receive buffer was full
  std::uint32_t tcp_segments_in = 0;   // given to a connection or listener
  std::uint32_t tcp_resets_sent = 0;   // to segments no socket takes
  std::uint32_t tcp_backlog_full = 0;  // SYNs dropped: no free socket in the backlog
  std::uint32_t tcp_icmp_errors = 0;   // ICMP unreachables a connection took
};

class Interface {
 public:
  Interface(DeviceCapabilities device, const InterfaceConfig& config, InterfaceMemory memory);
  ~Interface();
  Interface(const Interface&) = delete;
  Interface& operator=(const Interface&) = delete;

  // --- Addresses -----------------------------------------------------------
  // Sets the address and prefix length (0..32). On Ethernet, announces it
  // with gratuitous ARP (RFC 5227 §2.3). Errors: invalid_argument for a
  // prefix over 32 or an address that is not unicast.
  Status set_ipv4_address(io::Ipv4Address address, std::uint8_t prefix_len);
  // Forgets the address (and the gateway): DHCP's "no lease" state, in which
  // the interface still sends from 0.0.0.0 to broadcast and, as RFC 2131
  // §4.1 allows servers to unicast to a client before it has its address,
  // takes IPv4 unicast that is addressed to its hardware address.
  void clear_ipv4_address();
  [[nodiscard]] bool has_ipv4_address() const { return !address_.is_unspecified(); }
  [[nodiscard]] io::Ipv4Address ipv4_address() const { return address_; }
  [[nodiscard]] std::uint8_t prefix_len() const { return prefix_len_; }
  // The default route; unspecified for none. Errors: invalid_argument when
  // the gateway is not on the interface's subnet.
  Status set_default_gateway(io::Ipv4Address gateway);
  [[nodiscard]] io::Ipv4Address default_gateway() const { return gateway_; }
  [[nodiscard]] wire::MacAddress hardware_address() const { return config_.hardware_address; }
  [[nodiscard]] DeviceCapabilities device_capabilities() const { return device_; }

  // --- Driving it --------------------------------------------------------
  // Moves frames between the device and the sockets until neither has
  // anything more (or a budget of frames is spent, after which poll_at says
  // "now"). Returns whether anything was received or sent.
  template <Device D>
  bool poll(Instant now, D& device);
  // When poll() next has work without a frame arriving: `now` when something
  // is ready to send, the next ARP retry / announcement / reassembly
  // timeout, or kNever.
  [[nodiscard]] Instant poll_at(Instant now) const;

  // One received frame. If it calls for an immediate answer (ARP reply,
  // echo reply, ICMP error), that frame is built in `tx` and its length
  // returned; 0 otherwise. poll() is these two in a loop; tests call them
  // directly.
  std::size_t receive_frame(Instant now, ConstByteSpan frame, ByteSpan tx);
  // The next frame the interface wants to send, built in `tx`; 0 if none.
  std::size_t next_frame(Instant now, ByteSpan tx);

  // The task that runs poll() (Stack) parks here; sockets and address
  // changes wake it when they give the interface something to send.
  void set_egress_waker(async::Waker waker) { egress_waker_ = waker; }
  void request_poll() { egress_waker_.wake(); }

  [[nodiscard]] const InterfaceStats& stats() const { return stats_; }
  [[nodiscard]] const ReassemblyStats& reassembly_stats() const { return reassembler_.stats(); }
  [[nodiscard]] NeighbourCache& neighbours() { return neighbours_; }

  // --- For UdpSocket -------------------------------------------------------
  Status bind_udp(UdpSocket& socket, std::uint16_t port);
  void unbind_udp(UdpSocket& socket);
  // The socket bound to `port`, or nullptr: O(1) expected.
  [[nodiscard]] UdpSocket* find_udp(std::uint16_t port) const;
  // Whether a datagram to `destination` has a route now (not_found if not;
  // invalid_argument for an unspecified destination), and the largest UDP
  // payload a datagram may carry (it is never fragmented on output).
  [[nodiscard]] Status check_route(io::Ipv4Address destination) const;
  [[nodiscard]] std::size_t max_udp_payload() const;

  // --- For TCP ---------------------------------------------------------------
  // Turns TCP on: segments go to connections and listeners, and those for
  // closed ports get a RST (before, TCP is a transport the interface lacks:
  // ICMP protocol unreachable). The first listen_tcp / connect_tcp does it;
  // an image that never calls any of them does not link the TCP code.
  void enable_tcp();
  // The key of the initial sequence numbers (RFC 6528); draw it once from
  // a good source before TCP is used. Until then the key is zero and the
  // numbers are guessable by an off-path attacker.
  void set_tcp_secret(RandomSource& random);
  // RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
  // secretkey), M a 4 µs clock and F SHA-1 over the tuple and the key.
  [[nodiscard]] std::uint32_t tcp_initial_sequence(TcpEndpoint local, TcpEndpoint remote,
                                                   Instant now) const;
  // The MSS this interface takes (MTU - 40).
  [[nodiscard]] std::uint16_t tcp_mss() const;
  // Opens `socket` (free, not bound) to `remote` from a free ephemeral port.
  // Errors: not_found (no route or no address), resource_exhausted (table
  // or ports full), invalid_argument (not IPv4, port 0).
  Status connect_tcp(TcpSocket& socket, io::Endpoint remote, Instant now);
  Status listen_tcp(TcpListener& listener, std::uint16_t port);
  void unlisten_tcp(TcpListener& listener);
  // Takes a socket out of the table (it keeps its state).
  void unbind_tcp(TcpSocket& socket);
  // The socket of a connection, or nullptr: O(1) expected.
  [[nodiscard]] TcpSocket* find_tcp(std::uint16_t local_port, io::Ipv4Address remote,
                                    std::uint16_t remote_port) const;

 private:
  static constexpr std::size_t kPollBudget = 64;
  // Frames of in-order TCP data taken in a row before the sockets answer
  // (Linux's GRO merges up to 64 KiB, NAPI polls 64 frames); the poll's
  // budget bounds it too.
  static constexpr std::size_t kReceiveBurst = 64;

  struct NextHop {
    wire::MacAddress hardware_address;  // when resolved (broadcast, multicast)
    io::Ipv4Address address;            // the neighbour to resolve otherwise
    bool resolved = false;
  };
  [[nodiscard]] bool is_broadcast(io::Ipv4Address address) const;
  [[nodiscard]] Result<NextHop> next_hop(io::Ipv4Address destination) const;

  // receive_frame() and next_frame() without expire(): poll() expires once
  // per call, as `now` does not move within it.
  std::size_t take_frame(Instant now, ConstByteSpan frame, ByteSpan tx);
  std::size_t build_next_frame(Instant now, ByteSpan tx);
  std::size_t process_arp(Instant now, ConstByteSpan packet, ByteSpan tx);
  // `link_source` by reference: passed by value, a MacAddress just built is
  // stored 4 + 2 bytes at a time and loaded as one 8-byte register, a load
  // the CPU cannot forward from those stores (it waits for them).
  std::size_t process_ipv4(Instant now, ConstByteSpan packet, const wire::MacAddress& link_source,
                           bool link_unicast_to_us, ByteSpan tx);
  std::size_t process_udp(const wire::Ipv4Repr& ip, ConstByteSpan datagram, bool may_answer_error,
                          wire::MacAddress link_source, ByteSpan tx);
  std::size_t process_icmp(const wire::Ipv4Repr& ip, ConstByteSpan message,
                           wire::MacAddress link_source, ByteSpan tx);
  // An ICMP error about the datagram `ip` carrying `data` (RFC 792; RFC
  // 1812 §4.3.2.3 quotes as much as fits in 576 bytes), sent back to its
  // source.
  std::size_t icmp_error(std::uint8_t type, std::uint8_t code, const wire::Ipv4Repr& ip,
                         ConstByteSpan data, wire::MacAddress link_source, ByteSpan tx);

  // Frames out.
  // An ICMP message from us to `destination` in an IPv4 packet at
  // tx[link_header_len()...]; returns the packet's length, 0 when it does
  // not fit the MTU.
  std::size_t build_icmp(const wire::Icmpv4Repr& icmp, io::Ipv4Address destination, ByteSpan tx);
  // The same in a frame to `link_destination`; returns the frame's length.
  std::size_t emit_icmp(const wire::Icmpv4Repr& icmp, io::Ipv4Address destination,
                        wire::MacAddress link_destination, ByteSpan tx);
  [[nodiscard]] std::size_t link_header_len() const { return device_.link_header_len(); }
  // Writes the link header in front of an IP packet already at
  // tx[link_header_len()...] and returns the frame length.
  std::size_t finish_frame(ByteSpan tx, wire::MacAddress destination, std::size_t ip_len);
  std::size_t emit_arp(ByteSpan tx, wire::ArpOperation operation, wire::MacAddress target_mac,
                       io::Ipv4Address target, wire::MacAddress link_destination);
  // The IP packet at tx[link_header_len()...] is ready: send it to
  // `destination`'s next hop, or queue it while that is resolved (then the
  // frame returned is the ARP request, if one is due).
  std::size_t route_packet(Instant now, ByteSpan tx, io::Ipv4Address destination,
                           std::size_t ip_len);
  std::size_t next_udp_frame(Instant now, ByteSpan tx);
  std::size_t process_tcp(Instant now, const wire::Ipv4Repr& ip, ConstByteSpan segment,
                          wire::MacAddress link_source, ByteSpan tx);
  // A TCP segment in an IPv4 packet at tx[link_header_len()...]; returns
  // the IPv4 length, 0 when it does not fit.
  std::size_t build_tcp(const TcpTransmit& segment, ByteSpan tx);
  std::size_t next_tcp_frame(Instant now, ByteSpan tx);
  // An ICMP destination unreachable quoting a TCP segment: to the
  // connection that sent it (RFC 1122 §4.2.3.9, RFC 5927 §4.1).
  void process_tcp_unreachable(const wire::Icmpv4Repr& icmp);
  [[nodiscard]] Instant tcp_poll_at(Instant now) const;
  Status bind_tcp(TcpSocket& socket);
  // The interface reaches its TCP code through these, set by the first
  // listen_tcp / connect_tcp: an image that never uses TCP does not link it.
  struct TcpHooks {
    std::size_t (*process)(Interface&, Instant, const wire::Ipv4Repr&, ConstByteSpan,
                           wire::MacAddress, ByteSpan);
    std::size_t (*next_frame)(Interface&, Instant, ByteSpan);
    Instant (*poll_at)(const Interface&, Instant);
    void (*unreachable)(Interface&, const wire::Icmpv4Repr&);
  };
  [[nodiscard]] std::size_t tcp_slot(std::uint16_t local_port, io::Ipv4Address remote,
                                     std::uint16_t remote_port) const;
  std::size_t next_arp_frame(Instant now, ByteSpan tx);
  std::size_t next_pending_frame(Instant now, ByteSpan tx);
  std::size_t next_time_exceeded_frame(Instant now, ByteSpan tx);
  void expire(Instant now);

  DeviceCapabilities device_;
  InterfaceConfig config_;
  InterfaceMemory memory_;
  NeighbourCache neighbours_;
  PendingPackets pending_;
  Reassembler reassembler_;
  InterfaceStats stats_;
  io::Ipv4Address address_;
  io::Ipv4Address gateway_;
  std::uint8_t prefix_len_ = 0;
  std::uint8_t announcements_left_ = 0;
  Instant next_announcement_;
  std::uint16_t next_identification_ = 1;
  std::uint16_t next_ephemeral_port_ = 49152;
  std::size_t udp_count_ = 0;
  std::size_t udp_cursor_ = 0;  // round-robin start for sockets' output
  std::size_t tcp_count_ = 0;
  std::size_t tcp_cursor_ = 0;
  // The lowest and highest occupied slots of the TCP table (first > last
  // while it is empty): the output scan skips the empty ends.
  std::size_t tcp_first_ = SIZE_MAX;
  std::size_t tcp_last_ = 0;
  TcpListener* tcp_listeners_ = nullptr;
  const TcpHooks* tcp_ = nullptr;
  std::uint16_t next_tcp_port_ = 49152;
  std::array<std::byte, 16> tcp_secret_{};
  bool more_work_ = false;  // the last poll() ran out of budget
  // The frame just taken was the next in-order data of a connection,
  // copied into its receive ring (a receive burst may go on).
  bool tcp_in_order_data_ = false;
  async::Waker egress_waker_;
  // A reassembly that timed out, for an ICMP time exceeded (RFC 1122 §3.3.2).
  std::optional<Reassembler::Expired> reassembly_expired_;
};

// An Interface with its storage inside.
template <InterfaceLimits kLimits = InterfaceLimits{}>
class StaticInterface : private InterfaceStorage<kLimits>, public Interface {
 public:
  StaticInterface(DeviceCapabilities device, const InterfaceConfig& config)
      : InterfaceStorage<kLimits>(), Interface(device, config, this->memory()) {}
};

template <Device D>
bool Interface::poll(Instant now, D& device) {
  bool progress = false;
  more_work_ = true;
  expire(now);
  // At most kPollBudget frames each way per call, bursts included.
  std::size_t receive_budget = kPollBudget;
  for (std::size_t round = 0; round < kPollBudget; ++round) {
    bool busy = false;
    // A frame is taken even when the device could not send an answer right
    // now (the answer is dropped then): receiving is what frees a loopback
    // or a cable whose queue is full.
    // A burst of frames is taken before anything is sent while each one
    // is the next in-order data of a connection, as Linux's GRO merges such
    // segments: the receiver then acknowledges the burst with one ACK
    // (stretch ACKs) instead of one per two segments. Anything else ends
    // the burst, so out-of-order data still draws its immediate duplicate
    // ACK (RFC 5681 §4.2).
    for (std::size_t burst = 0; burst < kReceiveBurst && receive_budget != 0; ++burst) {
      --receive_budget;
      tcp_in_order_data_ = false;
      Result<std::size_t> received = device.receive(now, memory_.rx_frame);
      if (!received.ok()) {
        if (received.status().code() != StatusCode::unavailable) {
          busy = true;
          ++stats_.rx_dropped;
        }
        break;
      }
      busy = true;
      const std::size_t reply =
          take_frame(now, ConstByteSpan(memory_.rx_frame).first(*received), memory_.tx_frame);
      if (reply != 0) {
        if (device.can_transmit() &&
            device.transmit(now, ConstByteSpan(memory_.tx_frame).first(reply)).ok()) {
          ++stats_.tx_frames;
        } else {
          ++stats_.tx_dropped;
        }
      }
      if (!tcp_in_order_data_) break;
    }
    if constexpr (InPlaceTransmitDevice<D>) {
      // Built where the device sends it from: no copy of the frame.
      const ByteSpan room = device.transmit_buffer();
      const std::size_t len = room.empty() ? 0 : build_next_frame(now, room);
      if (len != 0) {
        busy = true;
        if (device.commit_transmit(now, len).ok()) {
          ++stats_.tx_frames;
        } else {
          ++stats_.tx_dropped;
        }
      }
    } else if (device.can_transmit()) {
      const std::size_t len = build_next_frame(now, memory_.tx_frame);
      if (len != 0) {
        busy = true;
        if (device.transmit(now, ConstByteSpan(memory_.tx_frame).first(len)).ok()) {
          ++stats_.tx_frames;
        } else {
          ++stats_.tx_dropped;
        }
      }
    }
    if (!busy) {
      // With the receive budget spent, frames may still wait at the device.
      more_work_ = receive_budget == 0;
      break;
    }
    progress = true;
  }
  return progress;
}

}  // namespace mote::net
