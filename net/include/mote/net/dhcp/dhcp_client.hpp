#pragma once
// A DHCPv4 client (RFC 2131, options of RFC 2132) as a sans-I/O state
// machine: it reads no clock and does no I/O. The caller passes received
// messages and the time in, sends what it is handed, and comes back at
// poll_at(). The same core runs under the async wrapper
// (async_dhcp_client.hpp), under mote's interface, and under the fuzzer.
//
//   DhcpClient client(mac, random);
//   client.start(now);
//   loop:
//     while (auto out = client.poll(now)) send out->message from out->source
//                                          to out->destination, UDP 68 -> 67;
//     if (auto event = client.take_event()) configure or unconfigure the interface;
//     wait for a message to port 68 or until client.poll_at();
//     client.handle(received, now);
//
// States (RFC 2131 §4.4, Figure 5):
//
//   stopped --start()--> INIT --DISCOVER--> SELECTING --OFFER/REQUEST--> REQUESTING --ACK--> BOUND
//           --start(remembered)--> INIT-REBOOT --REQUEST--> REBOOTING --ACK--> BOUND
//   BOUND --T1--> RENEWING (REQUEST unicast to the server)
//         --T2--> REBINDING (REQUEST broadcast) --lease expiry--> INIT (lease lost)
//   NAK in REQUESTING/REBOOTING/RENEWING/REBINDING --> INIT (lease lost if there was one)
//   decline() (the address is in use) --> DECLINE, INIT after 10 s
//   release() --> RELEASE, stopped
//
// Deviations, on purpose: the first acceptable OFFER is taken (RFC 2131
// §4.4.1 lets a client wait for several); options in sname/file (overload,
// option 52) are not read; there is no ARP probe here -- ARP is the
// interface's, and whoever probes the address calls decline() on a conflict.

#include <cstdint>
#include <optional>
#include <string_view>

#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/inline_vector.hpp"
#include "mote/base/status.hpp"
#include "mote/net/random_source.hpp"
#include "mote/net/wire/dhcp.hpp"

namespace mote::net {

using async::Duration;
using async::Instant;

// What a server leased, in the form an interface is configured with.
struct DhcpLease {
  io::Ipv4Address address;                // yiaddr
  std::uint8_t prefix_len = 24;           // from the subnet mask (option 1)
  std::optional<io::Ipv4Address> router;  // option 3, the first
  InlineVector<io::Ipv4Address, wire::DhcpRepr::kMaxDnsServers> dns_servers;  // option 6
  io::Ipv4Address server;  // the server identifier (option 54)
  // Option 51 and T1/T2 (58/59, or RFC 2131 §4.4.5's defaults 0.5 and
  // 0.875 of the lease); kInfinite for a lease that never ends.
  Duration lease_time{};
  Duration renewal_time{};
  Duration rebinding_time{};
  Instant acquired_at{};  // when the ACK arrived: the times count from here

  // RFC 2131 §3.3: "0xffffffff ... is reserved to represent 'infinity'".
  static constexpr Duration kInfinite = Duration::max();

  friend bool operator==(const DhcpLease&, const DhcpLease&) = default;
};

struct DhcpEvent {
  enum class Kind : std::uint8_t {
    // A new lease, or a renewal that changed the address or a parameter:
    // configure the interface with `lease`.
    acquired,
    // The same lease renewed (only its times moved).
    renewed,
    // `lease` ended (expired, NAKed, declined or released): remove its
    // address from the interface.
    lost,
  };
  Kind kind = Kind::acquired;
  DhcpLease lease;
};

// A message the caller must send now, from UDP port 68 to port 67.
struct DhcpTransmit {
  wire::DhcpRepr message;
  // RFC 2131 §4.1: "DHCP messages broadcast by a client prior to that client
  // obtaining its IP address must have the source address field in the IP
  // header set to 0." The leased address once there is one.
  io::Ipv4Address source;
  // 255.255.255.255, or the server (RENEWING and RELEASE are unicast).
  io::Ipv4Address destination;
};

struct DhcpClientConfig {
  // Option 12, sent in DISCOVER and REQUEST when not empty. The text must
  // outlive the client.
  std::string_view host_name;
  // RFC 2131 §4.1: set the BROADCAST flag so that servers broadcast their
  // replies, for a stack that cannot receive unicast to an address it does
  // not have yet (mote's interface can; leave it on for other stacks).
  bool request_broadcast = true;
  // RFC 2131 §4.4.1: "The client SHOULD wait a random time between one and
  // ten seconds to desynchronize the use of DHCP at startup." Zero: no wait.
  Duration max_start_delay{};
  // REQUEST (after an OFFER) and INIT-REBOOT's REQUEST are sent this many
  // times before the client goes back to INIT.
  std::uint8_t request_attempts = 4;
  std::uint8_t reboot_attempts = 2;
};

class DhcpClient {
 public:
  enum class State : std::uint8_t {
    stopped,
    init,
    selecting,
    requesting,
    init_reboot,
    rebooting,
    bound,
    renewing,
    rebinding,
    declined,  // waiting RFC 2131 §3.1.5's ten seconds before INIT
  };

  // RFC 2131 §4.1: retransmissions wait 4 s, then 8 s, ..., at most 64 s,
  // each randomized by ±1 s.
  static constexpr Duration kFirstRetransmission = std::chrono::seconds(4);
  static constexpr Duration kMaxRetransmission = std::chrono::seconds(64);
  static constexpr Duration kJitter = std::chrono::seconds(1);
  // RFC 2131 §4.4.5: in RENEWING and REBINDING, wait half the time left
  // "down to a minimum of 60 seconds".
  static constexpr Duration kMinRenewRetransmission = std::chrono::seconds(60);
  // RFC 2131 §3.1.5: "wait a minimum of ten seconds before restarting".
  static constexpr Duration kDeclineBackoff = std::chrono::seconds(10);

  // `random` must outlive the client.
  DhcpClient(wire::MacAddress hardware_address, RandomSource& random,
             const DhcpClientConfig& config = {});

  // Starts from INIT, or from INIT-REBOOT when a previously leased address
  // is known (RFC 2131 §3.2). Restarting drops any lease without an event.
  void start(Instant now, std::optional<io::Ipv4Address> remembered_address = std::nullopt);

  // A message received on port 68. ok when it moved the client on;
  // not_found when it is not for this client (BOOTREQUEST, other
  // transaction id or hardware address); failed_precondition when it is
  // for this client but not expected in this state (a late OFFER, a
  // duplicate ACK); invalid_argument when a required field is missing or
  // unusable (an ACK without a lease time, a zero yiaddr). Nothing changes
  // unless it returns ok.
  Status handle(const wire::DhcpRepr& message, Instant now);

  // Runs the timers due at `now` (T1, T2, lease expiry, retransmission) and
  // returns the message to send now, if any. Call it until it returns
  // nothing: a timer can lead to a message at once.
  std::optional<DhcpTransmit> poll(Instant now);

  // The event since the last call, if any. One slot: when a lost lease is
  // followed by a new one before the caller looks, only the new one is
  // reported (acquired replaces the whole configuration).
  std::optional<DhcpEvent> take_event();

  // When poll() next has something to do (kNever when stopped).
  [[nodiscard]] Instant poll_at() const;

  // The address of the current lease is in use by another host (the
  // interface's ARP check found it, RFC 2131 §2.2). Returns the DECLINE to
  // broadcast and reports the lease lost; the client starts over after ten
  // seconds. failed_precondition without a lease.
  Result<DhcpTransmit> decline(Instant now);

  // RFC 2131 §4.4.6: gives the lease back. Returns the RELEASE to send to the
  // server, reports the lease lost and stops. failed_precondition without a
  // lease.
  Result<DhcpTransmit> release();

  [[nodiscard]] State state() const { return state_; }
  // The lease in BOUND, RENEWING and REBINDING.
  [[nodiscard]] const std::optional<DhcpLease>& lease() const { return lease_; }
  [[nodiscard]] std::uint32_t transaction_id() const { return xid_; }

 private:
  void enter(State state, Instant now, Instant first_transmission);
  void lose_lease();
  Status accept_offer(const wire::DhcpRepr& offer, Instant now);
  Status accept_ack(const wire::DhcpRepr& ack, Instant now);
  [[nodiscard]] Duration backoff(std::uint8_t sent);
  [[nodiscard]] wire::DhcpRepr base_message(wire::DhcpMessageType type, Instant now) const;
  DhcpTransmit build_transmission(Instant now);
  void schedule_retransmission(Instant now);

  wire::MacAddress hardware_address_;
  RandomSource* random_;
  DhcpClientConfig config_;

  State state_ = State::stopped;
  std::uint32_t xid_ = 0;
  Instant next_transmission_ = async::kNever;
  Instant transaction_started_{};      // for 'secs' (RFC 2131 §2)
  std::uint8_t sent_ = 0;              // messages sent in this state
  io::Ipv4Address requested_address_;  // the offered or remembered address
  io::Ipv4Address selected_server_;    // the OFFER's server identifier
  std::optional<DhcpLease> lease_;
  std::optional<DhcpEvent> event_;
};

}  // namespace mote::net
