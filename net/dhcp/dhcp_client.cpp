#include "mote/net/dhcp/dhcp_client.hpp"

#include <algorithm>

namespace mote::net {
namespace {

using wire::DhcpMessageType;
using wire::DhcpRepr;

// RFC 2132 option codes the client asks for (option 55): subnet mask,
// router, DNS servers, lease time, T1, T2.
constexpr std::uint8_t kParameterRequestList[] = {1, 3, 6, 51, 58, 59};
constexpr std::uint32_t kInfiniteLease = 0xffffffffu;

// `base + duration`, where an infinite duration never comes.
Instant after(Instant base, Duration duration) {
  if (duration == DhcpLease::kInfinite || base > async::kNever - duration) return async::kNever;
  return base + duration;
}

Duration seconds(std::uint32_t value) {
  return value == kInfiniteLease ? DhcpLease::kInfinite : Duration(std::chrono::seconds(value));
}

// The prefix length of a contiguous mask; the address's classful prefix
// (RFC 1122 §3.3.1.1's "network number") when the server sent none or one
// with holes.
std::uint8_t prefix_length(std::optional<io::Ipv4Address> mask, io::Ipv4Address address) {
  if (mask) {
    const std::uint32_t bits = mask->to_u32();
    const std::uint32_t inverted = ~bits;
    if ((inverted & (inverted + 1)) == 0) {  // ones then zeros
      std::uint8_t length = 0;
      for (std::uint32_t b = bits; (b & 0x80000000u) != 0; b <<= 1) ++length;
      return length;
    }
  }
  const std::uint32_t first = address.to_u32() >> 24;
  if (first < 128) return 8;
  if (first < 192) return 16;
  return 24;
}

bool usable_address(io::Ipv4Address address) {
  return address.is_unicast() && !address.is_loopback();
}

// The parameters that configure an interface (everything but the times).
bool same_configuration(const DhcpLease& a, const DhcpLease& b) {
  return a.address == b.address && a.prefix_len == b.prefix_len && a.router == b.router &&
         a.dns_servers == b.dns_servers && a.server == b.server;
}

}  // namespace

DhcpClient::DhcpClient(wire::MacAddress hardware_address, RandomSource& random,
                       const DhcpClientConfig& config)
    : hardware_address_(hardware_address), random_(&random), config_(config) {}

void DhcpClient::start(Instant now, std::optional<io::Ipv4Address> remembered_address) {
  lease_.reset();
  event_.reset();
  requested_address_ = remembered_address.value_or(io::Ipv4Address());
  selected_server_ = {};
  Duration delay{};
  if (config_.max_start_delay > Duration::zero()) {
    const auto range = static_cast<std::uint64_t>(config_.max_start_delay.count()) + 1;
    delay = Duration(static_cast<Duration::rep>(random_->next_u32() % range));
  }
  enter(remembered_address ? State::init_reboot : State::init, now, now + delay);
}

void DhcpClient::enter(State state, Instant now, Instant first_transmission) {
  // A new exchange gets a new transaction id (RFC 2131 §4.1: "The xid field
  // is used by the client to match incoming DHCP messages with pending
  // requests"); REQUESTING answers an OFFER and keeps its xid (§4.4.1).
  if (state == State::selecting || state == State::rebooting || state == State::renewing ||
      state == State::rebinding) {
    xid_ = random_->next_u32();
    transaction_started_ = now;
  }
  state_ = state;
  sent_ = 0;
  next_transmission_ = first_transmission;
}

void DhcpClient::lose_lease() {
  if (lease_) event_ = DhcpEvent{DhcpEvent::Kind::lost, *lease_};
  lease_.reset();
}

Status DhcpClient::handle(const DhcpRepr& message, Instant now) {
  const DhcpMessageType type = message.message_type;
  if ((type != DhcpMessageType::offer && type != DhcpMessageType::ack &&
       type != DhcpMessageType::nak) ||
      message.transaction_id != xid_ || message.client_hardware_address != hardware_address_) {
    return Status::not_found();
  }
  const bool awaiting_ack = state_ == State::requesting || state_ == State::rebooting ||
                            state_ == State::renewing || state_ == State::rebinding;
  switch (type) {
    case DhcpMessageType::offer:
      if (state_ != State::selecting) return Status::failed_precondition();
      return accept_offer(message, now);
    case DhcpMessageType::ack:
      if (!awaiting_ack) return Status::failed_precondition();
      return accept_ack(message, now);
    default:  // NAK
      if (!awaiting_ack) return Status::failed_precondition();
      // Only the server that was asked may refuse (RFC 2131 §4.3.2: a server
      // not selected stays silent).
      if (state_ == State::requesting && message.server_identifier &&
          *message.server_identifier != selected_server_) {
        return Status::failed_precondition();
      }
      // RFC 2131 §4.4.1 (REQUESTING), §4.4.2 (REBOOTING), §4.4.5 (RENEWING,
      // REBINDING): on DHCPNAK the client "restarts the configuration
      // process" and, holding a lease, "MUST immediately stop any other
      // network processing".
      lose_lease();
      enter(State::selecting, now, now);
      return ok_status();
  }
}

Status DhcpClient::accept_offer(const DhcpRepr& offer, Instant now) {
  // RFC 2131 Table 3: an OFFER carries the offered address in 'yiaddr' and
  // MUST carry the server identifier, which the REQUEST then names.
  if (!usable_address(offer.your_ip) || !offer.server_identifier ||
      offer.server_identifier->is_unspecified()) {
    return Status::invalid_argument();
  }
  requested_address_ = offer.your_ip;
  selected_server_ = *offer.server_identifier;
  enter(State::requesting, now, now);
  return ok_status();
}

Status DhcpClient::accept_ack(const DhcpRepr& ack, Instant now) {
  // RFC 2131 Table 3: a DHCPACK to a DHCPREQUEST MUST carry the lease time
  // and the server identifier.
  if (!usable_address(ack.your_ip) || !ack.lease_time || *ack.lease_time == 0) {
    return Status::invalid_argument();
  }
  if (state_ == State::requesting && ack.server_identifier &&
      *ack.server_identifier != selected_server_) {
    return Status::failed_precondition();
  }
  io::Ipv4Address server = ack.server_identifier.value_or(
      lease_ ? lease_->server
             : (state_ == State::requesting ? selected_server_ : io::Ipv4Address()));
  if (!usable_address(server)) return Status::invalid_argument();

  DhcpLease lease;
  lease.address = ack.your_ip;
  lease.prefix_len = prefix_length(ack.subnet_mask, ack.your_ip);
  lease.router = ack.router;
  lease.dns_servers = ack.dns_servers;
  lease.server = server;
  lease.acquired_at = now;
  lease.lease_time = seconds(*ack.lease_time);
  if (lease.lease_time == DhcpLease::kInfinite) {
    lease.renewal_time = lease.rebinding_time = DhcpLease::kInfinite;
  } else {
    // RFC 2131 §4.4.5: "T1 defaults to (0.5 * duration_of_lease). T2
    // defaults to (0.875 * duration_of_lease)." The server's values are used
    // when they make sense together: T1 <= T2 < lease.
    const std::uint32_t lease_seconds = *ack.lease_time;
    std::uint32_t t1 = ack.renewal_time.value_or(lease_seconds / 2);
    std::uint32_t t2 = ack.rebinding_time.value_or(
        static_cast<std::uint32_t>(std::uint64_t{lease_seconds} * 7 / 8));
    if (t1 > t2 || t2 >= lease_seconds) {
      t1 = lease_seconds / 2;
      t2 = static_cast<std::uint32_t>(std::uint64_t{lease_seconds} * 7 / 8);
    }
    lease.renewal_time = seconds(t1);
    lease.rebinding_time = seconds(t2);
  }

  const bool renewal = lease_ && same_configuration(*lease_, lease);
  event_ = DhcpEvent{renewal ? DhcpEvent::Kind::renewed : DhcpEvent::Kind::acquired, lease};
  lease_ = lease;
  enter(State::bound, now, async::kNever);
  return ok_status();
}

std::optional<DhcpTransmit> DhcpClient::poll(Instant now) {
  // Timers first: each may move the state on, and the new state may want
  // to send at once.
  switch (state_) {
    case State::stopped: return std::nullopt;
    case State::init:
    case State::declined:
      if (now < next_transmission_) return std::nullopt;
      enter(State::selecting, now, now);
      break;
    case State::init_reboot:
      if (now < next_transmission_) return std::nullopt;
      enter(State::rebooting, now, now);
      break;
    case State::bound:
    case State::renewing:
    case State::rebinding: {
      const Instant expires = after(lease_->acquired_at, lease_->lease_time);
      const Instant rebind = after(lease_->acquired_at, lease_->rebinding_time);
      const Instant renew = after(lease_->acquired_at, lease_->renewal_time);
      if (now >= expires) {
        // RFC 2131 §4.4.5: "If the lease expires before the client receives
        // a DHCPACK, the client moves to INIT state, MUST immediately stop
        // any other network processing and requests network parameters as
        // if the client were uninitialized."
        lose_lease();
        enter(State::selecting, now, now);
      } else if (now >= rebind && state_ != State::rebinding) {
        enter(State::rebinding, now, now);
      } else if (now >= renew && state_ == State::bound) {
        enter(State::renewing, now, now);
      }
      break;
    }
    default: break;
  }
  if (state_ == State::bound || now < next_transmission_) return std::nullopt;

  // Out of patience with the server that offered (or with the remembered
  // address): start over with DISCOVER (RFC 2131 §4.4.1, §3.2 step 3).
  if ((state_ == State::requesting && sent_ >= config_.request_attempts) ||
      (state_ == State::rebooting && sent_ >= config_.reboot_attempts)) {
    enter(State::selecting, now, now);
  }
  DhcpTransmit transmit = build_transmission(now);
  ++sent_;
  schedule_retransmission(now);
  return transmit;
}

Duration DhcpClient::backoff(std::uint8_t sent) {
  // RFC 2131 §4.1: "the delay before the first retransmission SHOULD be 4
  // seconds randomized by the value of a uniform random number chosen from
  // the range -1 to +1 ... The delay before the next retransmission SHOULD
  // be 8 seconds randomized by the value of a uniform number chosen from the
  // range -1 to +1. The retransmission delay SHOULD be doubled with
  // subsequent retransmissions up to a maximum of 64 seconds."
  Duration base = kFirstRetransmission;
  for (std::uint8_t i = 1; i < sent && base < kMaxRetransmission; ++i) base *= 2;
  base = std::min(base, kMaxRetransmission);
  const auto span = static_cast<std::uint64_t>(2 * kJitter.count() + 1);
  const Duration jitter(static_cast<Duration::rep>(random_->next_u32() % span));
  return base - kJitter + jitter;
}

void DhcpClient::schedule_retransmission(Instant now) {
  switch (state_) {
    case State::renewing:
    case State::rebinding: {
      // RFC 2131 §4.4.5: "the client SHOULD wait one-half of the remaining
      // time until T2 (in RENEWING state) and one-half of the remaining
      // lease time (in REBINDING state), down to a minimum of 60 seconds".
      const Instant until = state_ == State::renewing
                                ? after(lease_->acquired_at, lease_->rebinding_time)
                                : after(lease_->acquired_at, lease_->lease_time);
      const Duration half = (until - now) / 2;
      next_transmission_ = now + std::max(half, kMinRenewRetransmission);
      break;
    }
    default: next_transmission_ = now + backoff(sent_); break;
  }
}

DhcpRepr DhcpClient::base_message(DhcpMessageType type, Instant now) const {
  DhcpRepr message;
  message.message_type = type;
  message.transaction_id = xid_;
  // RFC 2131 §2: 'secs' is the time "elapsed since client began address
  // acquisition or renewal process".
  const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - transaction_started_);
  message.secs = static_cast<std::uint16_t>(std::clamp<std::int64_t>(elapsed.count(), 0, 0xffff));
  message.client_hardware_address = hardware_address_;
  return message;
}

DhcpTransmit DhcpClient::build_transmission(Instant now) {
  // RFC 2131 §4.4.1 Table 5 says which fields each message carries.
  const bool request = state_ != State::selecting;
  DhcpTransmit transmit{
      base_message(request ? DhcpMessageType::request : DhcpMessageType::discover, now),
      io::Ipv4Address(), io::Ipv4Address::broadcast()};
  DhcpRepr& message = transmit.message;
  message.parameter_request_list = bytes_of(std::span(kParameterRequestList));
  message.host_name = config_.host_name;
  switch (state_) {
    case State::selecting:
    case State::requesting:
    case State::rebooting:
      message.broadcast = config_.request_broadcast;
      if (state_ != State::selecting) message.requested_ip = requested_address_;
      if (state_ == State::requesting) message.server_identifier = selected_server_;
      break;
    default:  // RENEWING, REBINDING: 'ciaddr' is the leased address, no options 50/54
      message.client_ip = lease_->address;
      transmit.source = lease_->address;
      if (state_ == State::renewing) transmit.destination = lease_->server;
      break;
  }
  return transmit;
}

std::optional<DhcpEvent> DhcpClient::take_event() {
  std::optional<DhcpEvent> event = event_;
  event_.reset();
  return event;
}

Instant DhcpClient::poll_at() const {
  switch (state_) {
    case State::stopped: return async::kNever;
    case State::bound:
    case State::renewing:
    case State::rebinding: {
      Instant at = std::min(next_transmission_, after(lease_->acquired_at, lease_->lease_time));
      if (state_ != State::rebinding) {
        at = std::min(at, after(lease_->acquired_at, lease_->rebinding_time));
      }
      if (state_ == State::bound)
        at = std::min(at, after(lease_->acquired_at, lease_->renewal_time));
      return at;
    }
    default: return next_transmission_;
  }
}

Result<DhcpTransmit> DhcpClient::decline(Instant now) {
  if (!lease_) return Status::failed_precondition();
  // RFC 2131 Table 5: DHCPDECLINE has 'ciaddr' 0, the requested IP address
  // and the server identifier, and is broadcast.
  DhcpTransmit transmit{base_message(DhcpMessageType::decline, now), io::Ipv4Address(),
                        io::Ipv4Address::broadcast()};
  transmit.message.secs = 0;
  transmit.message.requested_ip = lease_->address;
  transmit.message.server_identifier = lease_->server;
  lose_lease();
  // §3.1.5: "The client SHOULD wait a minimum of ten seconds before
  // restarting the configuration process to avoid excessive network traffic
  // in case of looping."
  enter(State::declined, now, now + kDeclineBackoff);
  return transmit;
}

Result<DhcpTransmit> DhcpClient::release() {
  if (!lease_) return Status::failed_precondition();
  // RFC 2131 §4.4.6 and Table 5: unicast to the server, 'ciaddr' the
  // released address, the server identifier, a new xid, 'secs' 0.
  xid_ = random_->next_u32();
  DhcpTransmit transmit{base_message(DhcpMessageType::release, transaction_started_),
                        lease_->address, lease_->server};
  transmit.message.client_ip = lease_->address;
  transmit.message.server_identifier = lease_->server;
  lose_lease();
  state_ = State::stopped;
  next_transmission_ = async::kNever;
  return transmit;
}

}  // namespace mote::net
