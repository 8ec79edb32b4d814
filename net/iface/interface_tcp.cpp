// The interface's TCP: demultiplexing segments to connections and
// listeners, RSTs for segments nobody takes, initial sequence numbers, and
// the connections' output in turn.

#include <algorithm>

#include "mote/base/sha1.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/iface/probe_table.hpp"
#include "mote/net/random_source.hpp"
#include "mote/net/socket/tcp_socket.hpp"
#include "mote/net/wire/tcp.hpp"

namespace mote::net {

using io::Ipv4Address;
using wire::IpProtocol;
using wire::Ipv4Repr;
using wire::MacAddress;
using wire::TcpRepr;
using wire::TcpSegment;

namespace {

std::size_t tcp_home(std::uint16_t local_port, Ipv4Address remote, std::uint16_t remote_port,
                     std::size_t size) {
  // Fibonacci hashing of the 4-tuple (the local address is the interface's).
  const std::uint32_t key =
      remote.to_u32() ^ ((std::uint32_t{remote_port} << 16) | std::uint32_t{local_port});
  return ((key * 2654435769u) >> 16) & (size - 1);
}

std::size_t tcp_home(const TcpSocket* socket, std::size_t size) {
  const TcpControlBlock& tcb = socket->tcb();
  return tcp_home(tcb.local().port, tcb.remote().address, tcb.remote().port, size);
}

}  // namespace

void Interface::enable_tcp() {
  static constexpr TcpHooks kHooks{
      [](Interface& iface, Instant now, const Ipv4Repr& ip, ConstByteSpan segment,
         MacAddress link_source,
         ByteSpan tx) { return iface.process_tcp(now, ip, segment, link_source, tx); },
      [](Interface& iface, Instant now, ByteSpan tx) { return iface.next_tcp_frame(now, tx); },
      [](const Interface& iface, Instant now) { return iface.tcp_poll_at(now); },
      [](Interface& iface, const wire::Icmpv4Repr& icmp) { iface.process_tcp_unreachable(icmp); }};
  tcp_ = &kHooks;
}

Instant Interface::tcp_poll_at(Instant now) const {
  Instant at = async::kNever;
  for (const TcpSocket* socket : memory_.tcp_table) {
    if (socket != nullptr) at = std::min(at, socket->tcb().poll_at(now));
  }
  return at;
}

void Interface::set_tcp_secret(RandomSource& random) {
  for (std::size_t i = 0; i < tcp_secret_.size(); i += 4) {
    store_be32(&tcp_secret_[i], random.next_u32());
  }
}

std::uint32_t Interface::tcp_initial_sequence(TcpEndpoint local, TcpEndpoint remote,
                                              Instant now) const {
  std::array<std::byte, 12 + 16> input{};
  local.address.write_to(&input[0]);
  store_be16(&input[4], local.port);
  remote.address.write_to(&input[6]);
  store_be16(&input[10], remote.port);
  std::copy(tcp_secret_.begin(), tcp_secret_.end(), input.begin() + 12);
  const Sha1::Digest digest = Sha1::of(input);
  // "M is the 4 microsecond timer".
  const auto ticks = static_cast<std::uint32_t>(now.time_since_epoch().count() / 4);
  return ticks + load_be32(digest.data());
}

std::uint16_t Interface::tcp_mss() const {
  return static_cast<std::uint16_t>(std::min<std::size_t>(device_.mtu - 40, 0xffff));
}

TcpSocket* Interface::find_tcp(std::uint16_t local_port, Ipv4Address remote,
                               std::uint16_t remote_port) const {
  const std::size_t size = memory_.tcp_table.size();
  for (std::size_t i = tcp_home(local_port, remote, remote_port, size);; i = (i + 1) & (size - 1)) {
    TcpSocket* socket = memory_.tcp_table[i];
    if (socket == nullptr) return nullptr;
    const TcpControlBlock& tcb = socket->tcb();
    if (tcb.local().port == local_port && tcb.remote().port == remote_port &&
        tcb.remote().address == remote) {
      return socket;
    }
  }
}

Status Interface::bind_tcp(TcpSocket& socket) {
  const std::size_t size = memory_.tcp_table.size();
  if (2 * (tcp_count_ + 1) > size) return Status::resource_exhausted();
  std::size_t i = tcp_home(&socket, size);
  while (memory_.tcp_table[i] != nullptr) i = (i + 1) & (size - 1);
  memory_.tcp_table[i] = &socket;
  socket.iface_ = this;
  ++tcp_count_;
  tcp_first_ = std::min(tcp_first_, i);
  tcp_last_ = std::max(tcp_last_, i);
  return ok_status();
}

void Interface::unbind_tcp(TcpSocket& socket) {
  if (socket.iface_ != this) return;
  const std::size_t size = memory_.tcp_table.size();
  std::size_t i = tcp_home(&socket, size);
  while (memory_.tcp_table[i] != &socket) {
    if (memory_.tcp_table[i] == nullptr) return;
    i = (i + 1) & (size - 1);
  }
  internal::erase_probed(memory_.tcp_table, i,
                         [&](const TcpSocket* entry) { return tcp_home(entry, size); });
  --tcp_count_;
  socket.iface_ = nullptr;
  // Erasing may have moved others: the occupied span again.
  tcp_first_ = size;
  tcp_last_ = 0;
  for (std::size_t slot = 0; slot < size; ++slot) {
    if (memory_.tcp_table[slot] != nullptr) {
      tcp_first_ = std::min(tcp_first_, slot);
      tcp_last_ = slot;
    }
  }
}

Status Interface::connect_tcp(TcpSocket& socket, io::Endpoint remote, Instant now) {
  if (!remote.address.is_v4() || remote.port == 0) return Status::invalid_argument();
  if (socket.is_bound()) return Status::failed_precondition();
  if (!has_ipv4_address()) return Status::not_found();
  const Ipv4Address destination = remote.address.v4();
  if (destination.is_unspecified() || is_broadcast(destination) || destination.is_multicast()) {
    return Status::invalid_argument();
  }
  MOTE_TRY(check_route(destination));
  enable_tcp();
  // RFC 6335 §6: an ephemeral port in 49152..65535, one not already in use
  // to this remote endpoint.
  for (std::uint32_t attempt = 0; attempt < 16384; ++attempt) {
    const std::uint16_t port = next_tcp_port_;
    next_tcp_port_ =
        next_tcp_port_ == 65535 ? 49152 : static_cast<std::uint16_t>(next_tcp_port_ + 1);
    if (find_tcp(port, destination, remote.port) != nullptr) continue;
    const TcpEndpoint local{address_, port};
    const TcpEndpoint peer{destination, remote.port};
    MOTE_TRY(
        socket.tcb_.connect(local, peer, tcp_initial_sequence(local, peer, now), tcp_mss(), now));
    const Status bound = bind_tcp(socket);
    if (!bound.ok()) {
      socket.tcb_.abort();
      return bound;
    }
    request_poll();
    return ok_status();
  }
  return Status::resource_exhausted();
}

Status Interface::listen_tcp(TcpListener& listener, std::uint16_t port) {
  if (port == 0) return Status::invalid_argument();
  for (TcpListener* l = tcp_listeners_; l != nullptr; l = l->next_) {
    if (l->port_ == port) return Status::already_exists();
  }
  enable_tcp();
  listener.port_ = port;
  listener.next_ = tcp_listeners_;
  tcp_listeners_ = &listener;
  return ok_status();
}

void Interface::unlisten_tcp(TcpListener& listener) {
  for (TcpListener** l = &tcp_listeners_; *l != nullptr; l = &(*l)->next_) {
    if (*l == &listener) {
      *l = listener.next_;
      break;
    }
  }
  listener.next_ = nullptr;
  listener.port_ = 0;
}

std::size_t Interface::build_tcp(const TcpTransmit& segment, ByteSpan tx) {
  const std::size_t ip_len = Ipv4Repr::kHeaderLen + segment.buffer_len();
  if (ip_len > device_.mtu || link_header_len() + ip_len > tx.size()) return 0;
  const ByteSpan ip_bytes = tx.subspan(link_header_len(), ip_len);
  if (!segment.emit(ip_bytes.subspan(Ipv4Repr::kHeaderLen)).ok()) return 0;
  Ipv4Repr header{segment.source, segment.destination, IpProtocol::tcp, segment.buffer_len()};
  header.ttl = config_.ttl;
  header.identification = next_identification_++;
  if (!header.emit(ip_bytes).ok()) return 0;
  return ip_len;
}

std::size_t Interface::process_tcp(Instant now, const Ipv4Repr& ip, ConstByteSpan bytes,
                                   MacAddress link_source, ByteSpan tx) {
  Result<TcpSegment<>> view = TcpSegment<>::checked(bytes);
  if (!view.ok()) {
    ++stats_.rx_dropped;
    return 0;
  }
  TcpSocket* socket = find_tcp(view->destination_port(), ip.source, view->source_port());
  wire::ChecksumMode checksums = config_.rx_checksums;
  ByteSpan placed;
  if (socket != nullptr && checksums == wire::ChecksumMode::verify && !view->payload().empty()) {
    // In-order data is verified while it is copied into the receive ring,
    // where the connection will take it: one pass over the payload.
    placed = socket->tcb_.in_order_slot(view->seq_number(), view->payload().size());
    if (!placed.empty()) {
      if (!view->verify_checksum_copying_payload(ip.source, ip.destination, placed.data())) {
        ++stats_.rx_checksum_errors;
        return 0;
      }
      checksums = wire::ChecksumMode::ignore;
    }
  }
  Result<TcpRepr> parsed = TcpRepr::parse(*view, ip.source, ip.destination, checksums);
  if (!parsed.ok()) {
    ++(parsed.status().code() == StatusCode::data_loss ? stats_.rx_checksum_errors
                                                       : stats_.rx_dropped);
    return 0;
  }
  TcpRepr& segment = *parsed;
  if (!placed.empty()) segment.payload = placed;  // the same bytes, already in the ring
  // RFC 9293 §3.10.7.1 (and RFC 1122 §4.2.3.10: nothing from broadcast or
  // non-unicast sources).
  if (!ip.source.is_unicast()) return 0;

  // A RST the connection or RFC 9293 §3.10.7.1 asks for, sent at once.
  auto send_reset = [&](const TcpTransmit& reset) -> std::size_t {
    const std::size_t ip_len = build_tcp(reset, tx);
    if (ip_len == 0) return 0;
    ++stats_.tcp_resets_sent;
    return finish_frame(tx, link_source, ip_len);
  };
  if (socket != nullptr) {
    ++stats_.tcp_segments_in;
    const std::optional<TcpTransmit> reply =
        socket->tcb_.process(now, ip.source, ip.destination, segment);
    tcp_in_order_data_ =
        !placed.empty() && !segment.flags.fin() && !segment.flags.syn() && !segment.flags.rst();
    socket->notify();
    if (socket->listener_ != nullptr && socket->tcb_.is_synchronized()) socket->listener_->notify();
    return reply ? send_reset(*reply) : 0;
  }
  TcpListener* listener = tcp_listeners_;
  while (listener != nullptr && listener->port_ != segment.destination_port) {
    listener = listener->next_;
  }
  if (listener != nullptr && segment.flags.syn() && !segment.flags.ack() && !segment.flags.rst()) {
    ++stats_.tcp_segments_in;
    TcpSocket* fresh = listener->take_free();
    if (fresh == nullptr) {
      // As Linux: a full backlog drops the SYN; the peer tries again.
      ++stats_.tcp_backlog_full;
      return 0;
    }
    const TcpEndpoint local{ip.destination, segment.destination_port};
    const TcpEndpoint remote{ip.source, segment.source_port};
    if (!fresh->tcb_
             .accept_syn(local, remote, segment, tcp_initial_sequence(local, remote, now),
                         tcp_mss(), now)
             .ok() ||
        !bind_tcp(*fresh).ok()) {
      fresh->tcb_.abort();
      ++stats_.tcp_backlog_full;
      return 0;
    }
    fresh->listener_ = listener;
    return 0;
  }
  // RFC 9293 §3.10.7.1: no connection (or a listener given a non-SYN:
  // §3.10.7.2 answers an ACK with a RST and ignores the rest).
  if (listener == nullptr || segment.flags.ack()) {
    if (std::optional<TcpRepr> reset = tcp_reset_for(segment)) {
      return send_reset(TcpTransmit{ip.destination, ip.source, *reset, {}, {}});
    }
  }
  return 0;
}

void Interface::process_tcp_unreachable(const wire::Icmpv4Repr& icmp) {
  // The quote must be of a segment we sent (our address, a connection's
  // ports) with a sequence number in flight (RFC 5927 §4.1); anything
  // else -- malformed, stale or forged -- is counted and dropped.
  const Result<wire::Icmpv4QuotedTcp> quoted = icmp.quoted_tcp();
  TcpSocket* socket = quoted.ok() && icmp.invoking_header.source == address_
                          ? find_tcp(quoted->source_port, icmp.invoking_header.destination,
                                     quoted->destination_port)
                          : nullptr;
  if (socket == nullptr || !socket->tcb_.process_unreachable(icmp.code, quoted->seq_number)) {
    ++stats_.rx_dropped;
    return;
  }
  ++stats_.tcp_icmp_errors;
  socket->notify();
}

std::size_t Interface::next_tcp_frame(Instant now, ByteSpan tx) {
  // Round robin from the slot after the last socket that sent, over the
  // occupied span of the table only, until every socket had its turn.
  std::size_t unvisited = tcp_count_;
  std::size_t next = tcp_cursor_;
  for (std::size_t steps = 0;
       unvisited != 0 && tcp_count_ != 0 && steps < 2 * memory_.tcp_table.size(); ++steps) {
    const std::size_t index = next < tcp_first_ || next > tcp_last_ ? tcp_first_ : next;
    next = index + 1;
    TcpSocket* socket = memory_.tcp_table[index];
    if (socket == nullptr) continue;
    --unvisited;
    std::optional<TcpTransmit> segment = socket->tcb_.dispatch(now);
    if (!segment) {
      if (!socket->tcb_.is_open()) {
        // Closed with nothing left to send: out of the table; a socket
        // nobody holds goes back to its pool.
        unbind_tcp(*socket);
        if (!socket->in_use_) socket->listener_ = nullptr;
        socket->notify();
      }
      continue;
    }
    tcp_cursor_ = next;
    socket->notify();  // acknowledged data freed room; a timeout may have ended it
    const Ipv4Address destination = segment->destination;
    const std::size_t ip_len = build_tcp(*segment, tx);
    if (ip_len == 0) {
      ++stats_.tx_dropped;
      continue;
    }
    if (const std::size_t frame_len = route_packet(now, tx, destination, ip_len); frame_len != 0) {
      return frame_len;
    }
  }
  return 0;
}

}  // namespace mote::net
