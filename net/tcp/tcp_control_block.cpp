#include "mote/net/tcp/tcp_control_block.hpp"

#include <algorithm>
#include <chrono>

namespace mote::net {
namespace {

using wire::TcpFlags;
using wire::TcpRepr;

// RFC 9293 §3.4: sequence numbers compare modulo 2^32.
constexpr bool seq_lt(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) < 0;
}
constexpr bool seq_le(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) <= 0;
}
constexpr bool seq_gt(std::uint32_t a, std::uint32_t b) { return seq_lt(b, a); }
constexpr bool seq_ge(std::uint32_t a, std::uint32_t b) { return seq_le(b, a); }

std::uint32_t to_ms(Instant now) {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}
constexpr std::uint32_t to_ms(Duration duration) {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
}
bool due(std::uint32_t deadline, std::uint32_t now_ms) {
  return static_cast<std::int32_t>(now_ms - deadline) >= 0;
}
// A deadline kept in the low 16 bits of the clock (less than 32 s ahead).
bool due16(std::uint16_t deadline, std::uint32_t now_ms) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(now_ms) - deadline) >= 0;
}
// The Instant of a millisecond deadline, never before it.
Instant instant_of(std::uint32_t deadline, Instant now) {
  const auto ahead = static_cast<std::int32_t>(deadline - to_ms(now));
  return ahead <= 0 ? now : now + std::chrono::milliseconds(ahead);
}
Instant instant_of16(std::uint16_t deadline, Instant now) {
  const auto ahead = static_cast<std::int16_t>(deadline - static_cast<std::uint16_t>(to_ms(now)));
  return ahead <= 0 ? now : now + std::chrono::milliseconds(ahead);
}

// RFC 7323 §5.4: TSval is the clock plus an offset of the connection's own,
// here a mix of its keyed-random ISS.
std::uint32_t timestamp_offset(std::uint32_t iss) { return iss * 2654435761u; }

std::uint32_t segment_len(const TcpRepr& segment) {
  return static_cast<std::uint32_t>(segment.payload.size()) + (segment.flags.syn() ? 1 : 0) +
         (segment.flags.fin() ? 1 : 0);
}

// RFC 7323 §2.3: the smallest shift that lets the window cover the buffer.
std::uint8_t window_scale_for(std::size_t capacity) {
  std::uint8_t shift = 0;
  while (shift < TcpRepr::kMaxWindowScale && (capacity >> shift) > 0xffff) ++shift;
  return shift;
}

// --- The SACK scoreboard (RFC 6675 §3) ----------------------------------------

using SackRange = TcpSackScoreboard::Range;

std::uint32_t range_len(SackRange range) { return range.end - range.begin; }

// Adds [begin, end) to the sorted, disjoint ranges, merging what it
// touches; when they are full, the highest range is forgotten.
void scoreboard_add(TcpSackScoreboard& board, std::uint32_t begin, std::uint32_t end) {
  SackRange merged{begin, end};
  SackRange out[TcpSackScoreboard::kMaxRanges + 1];
  std::size_t n = 0;
  bool placed = false;
  for (std::size_t i = 0; i < board.count; ++i) {
    const SackRange range = board.sacked[i];
    if (seq_lt(range.end, merged.begin)) {
      out[n++] = range;
    } else if (seq_gt(range.begin, merged.end)) {
      if (!placed) out[n++] = merged;
      placed = true;
      out[n++] = range;
    } else {
      if (seq_lt(range.begin, merged.begin)) merged.begin = range.begin;
      if (seq_gt(range.end, merged.end)) merged.end = range.end;
    }
  }
  if (!placed) out[n++] = merged;
  board.count = static_cast<std::uint8_t>(std::min(n, TcpSackScoreboard::kMaxRanges));
  std::copy(out, out + board.count, board.sacked);
}

// Forgets what the cumulative ACK `una` covers.
void scoreboard_trim(TcpSackScoreboard& board, std::uint32_t una) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < board.count; ++i) {
    SackRange range = board.sacked[i];
    if (seq_le(range.end, una)) continue;
    if (seq_lt(range.begin, una)) range.begin = una;
    board.sacked[n++] = range;
  }
  board.count = static_cast<std::uint8_t>(n);
}

std::uint32_t sacked_bytes(const TcpSackScoreboard& board) {
  std::uint32_t bytes = 0;
  for (std::size_t i = 0; i < board.count; ++i) bytes += range_len(board.sacked[i]);
  return bytes;
}

// RFC 6675 IsLost(SeqNum): "DupThresh discontiguous SACKed sequences have
// arrived above 'SeqNum' or more than (DupThresh - 1) * SMSS bytes with
// sequence numbers greater than 'SeqNum' have been SACKed" (DupThresh 3).
// IsLost holds for every unSACKed octet below the edge returned (`una`
// when for none).
std::uint32_t lost_edge(const TcpSackScoreboard& board, std::uint32_t una, std::uint32_t mss) {
  constexpr std::uint32_t kDupThresh = 3;
  std::uint32_t bytes = 0;
  for (std::size_t i = board.count; i-- > 0;) {
    bytes += range_len(board.sacked[i]);
    if (bytes > (kDupThresh - 1) * mss || board.count - i >= kDupThresh) {
      return board.sacked[i].begin;
    }
  }
  return una;
}

// The first unSACKed octet at or after `from`, and where its hole ends
// (the next SACKed range, or `limit`).
SackRange next_hole(const TcpSackScoreboard& board, std::uint32_t from, std::uint32_t limit) {
  std::uint32_t seq = from;
  for (std::size_t i = 0; i < board.count; ++i) {
    const SackRange range = board.sacked[i];
    if (seq_le(range.end, seq)) continue;
    if (seq_le(range.begin, seq)) {
      seq = range.end;
      continue;
    }
    return {seq, seq_lt(range.begin, limit) ? range.begin : limit};
  }
  return {seq, limit};
}

// Bytes in [begin, end) that no range covers.
std::uint32_t unsacked_between(const TcpSackScoreboard& board, std::uint32_t begin,
                               std::uint32_t end) {
  if (!seq_lt(begin, end)) return 0;
  std::uint32_t bytes = end - begin;
  for (std::size_t i = 0; i < board.count; ++i) {
    const SackRange range = board.sacked[i];
    const std::uint32_t lo = seq_gt(range.begin, begin) ? range.begin : begin;
    const std::uint32_t hi = seq_lt(range.end, end) ? range.end : end;
    if (seq_lt(lo, hi)) bytes -= hi - lo;
  }
  return bytes;
}

// --- Retransmissions in flight (RFC 8985's RACK, by order of sending) ----------

using Retransmission = TcpSackScoreboard::Retransmission;

std::uint32_t end_of(const Retransmission& sent) { return sent.begin + sent.len; }

// The first octet in [from, limit) that is neither SACKed nor sent again
// and in flight, and where its hole ends.
SackRange next_unretransmitted_hole(const TcpSackScoreboard& board, std::uint32_t from,
                                    std::uint32_t limit) {
  std::uint32_t seq = from;
  // Each pass steps over one retransmission in flight.
  for (std::size_t pass = 0; pass <= board.retransmitting; ++pass) {
    SackRange hole = next_hole(board, seq, limit);
    if (!seq_lt(hole.begin, hole.end)) return hole;
    bool in_flight = false;
    for (std::size_t i = 0; i < board.retransmitting && !in_flight; ++i) {
      const Retransmission& sent = board.retransmissions[i];
      if (seq_le(sent.begin, hole.begin) && seq_lt(hole.begin, end_of(sent))) {
        seq = end_of(sent);
        in_flight = true;
      } else if (seq_lt(hole.begin, sent.begin) && seq_lt(sent.begin, hole.end)) {
        hole.end = sent.begin;
      }
    }
    if (!in_flight) return hole;
  }
  return {limit, limit};
}

// UnSACKed bytes in [begin, end) sent again and still in flight.
std::uint32_t retransmitted_between(const TcpSackScoreboard& board, std::uint32_t begin,
                                    std::uint32_t end) {
  std::uint32_t bytes = 0;
  for (std::size_t i = 0; i < board.retransmitting; ++i) {
    const Retransmission& sent = board.retransmissions[i];
    const std::uint32_t lo = seq_gt(sent.begin, begin) ? sent.begin : begin;
    const std::uint32_t hi = seq_lt(end_of(sent), end) ? end_of(sent) : end;
    bytes += unsacked_between(board, lo, hi);
  }
  return bytes;
}

void forget_retransmissions(TcpSackScoreboard& board) {
  board.reorder_armed = false;
  board.retransmitting = 0;
  board.sent_order = 0;
  board.arrived_order = 0;
}

// After an ACK: retransmissions that arrived (cumulatively acknowledged or
// SACKed) leave the list, and so do those lost again. RFC 8985 §6.2: a
// segment is lost when one sent after it was delivered (RACK), with a
// reordering window of zero "if RACK.reord is FALSE" and the sender is in
// recovery. Sent after it: data above SND.MAX at the time (SACKed now), or
// a later retransmission that arrived. A lost one is a hole again, so
// NextSeg() sends it once more, in this recovery, without waiting for the
// retransmission timer.
void settle_retransmissions(TcpSackScoreboard& board, std::uint32_t una) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < board.retransmitting; ++i) {
    const Retransmission sent = board.retransmissions[i];
    const std::uint32_t end = end_of(sent);
    if (seq_le(end, una) ||
        unsacked_between(board, seq_gt(sent.begin, una) ? sent.begin : una, end) == 0) {
      if (static_cast<std::int16_t>(sent.order - board.arrived_order) > 0) {
        board.arrived_order = sent.order;
      }
      continue;
    }
    board.retransmissions[kept++] = sent;
  }
  board.retransmitting = static_cast<std::uint8_t>(kept);
  const std::uint32_t highest_sacked = board.count != 0 ? board.sacked[board.count - 1].end : una;
  kept = 0;
  for (std::size_t i = 0; i < board.retransmitting; ++i) {
    const Retransmission sent = board.retransmissions[i];
    const bool overtaken = seq_gt(highest_sacked, sent.high_data) ||
                           static_cast<std::int16_t>(board.arrived_order - sent.order) > 0;
    if (!overtaken) board.retransmissions[kept++] = sent;
  }
  board.retransmitting = static_cast<std::uint8_t>(kept);
}

}  // namespace

const char* to_string(TcpState state) {
  switch (state) {
    case TcpState::closed: return "CLOSED";
    case TcpState::listen: return "LISTEN";
    case TcpState::syn_sent: return "SYN-SENT";
    case TcpState::syn_received: return "SYN-RECEIVED";
    case TcpState::established: return "ESTABLISHED";
    case TcpState::fin_wait_1: return "FIN-WAIT-1";
    case TcpState::fin_wait_2: return "FIN-WAIT-2";
    case TcpState::close_wait: return "CLOSE-WAIT";
    case TcpState::closing: return "CLOSING";
    case TcpState::last_ack: return "LAST-ACK";
    case TcpState::time_wait: return "TIME-WAIT";
  }
  return "?";
}

Result<std::size_t> TcpTransmit::emit(ByteSpan buffer) const {
  const std::size_t header_len = header.header_len();
  const std::size_t len = header_len + payload_len();
  if (buffer.size() < len) return Status::resource_exhausted();
  // One pass over the payload: copied from the send buffer and summed.
  std::byte* out = buffer.data() + header_len;
  wire::InternetChecksum payload_sum;
  payload_sum.add_copy(payload_head, out);
  payload_sum.add_copy(payload_tail, out + payload_head.size());
  return header.emit_header(buffer.first(len), payload_len(), source, destination, payload_sum);
}

std::optional<TcpRepr> tcp_reset_for(const TcpRepr& segment) {
  if (segment.flags.rst()) return std::nullopt;
  TcpRepr reset;
  reset.source_port = segment.destination_port;
  reset.destination_port = segment.source_port;
  if (segment.flags.ack()) {
    reset.seq_number = segment.ack_number;
    reset.flags = TcpFlags(TcpFlags::kRst);
  } else {
    reset.ack_number = segment.seq_number + segment_len(segment);
    reset.flags = TcpFlags(TcpFlags::kRst | TcpFlags::kAck);
  }
  return reset;
}

namespace {

std::optional<TcpTransmit> reset_reply(io::Ipv4Address source, io::Ipv4Address destination,
                                       const TcpRepr& segment) {
  std::optional<TcpRepr> reset = tcp_reset_for(segment);
  if (!reset) return std::nullopt;
  return TcpTransmit{destination, source, *reset, {}, {}};
}

}  // namespace

TcpControlBlock::TcpControlBlock(ByteSpan rx_storage, ByteSpan tx_storage, TcpSackScoreboard* sack)
    : rx_(rx_storage), tx_(tx_storage), sack_(sack) {}

// --- Opening ---------------------------------------------------------------

void TcpControlBlock::reset_connection() {
  rx_.clear();
  tx_.clear();
  for (SeqRange& range : received_ranges()) range = {};
  flags_ &= kNoDelay;
  failure_ = Failure::none;
  retries_ = 0;
  rto_ms_ = static_cast<std::uint16_t>(to_ms(kInitialRto));
  srtt8_ = 0;
  rttvar4_ = 0;
  set_wscales(0, 0);
  timestamps_ = false;
  ts_recent_ = 0;
  if (sack_ != nullptr) *sack_ = {};
  snd_wnd_ = 0;
  max_snd_wnd_ = 0;
  snd_mss_ = kDefaultMss;
  cwnd_ = 0;
  ssthresh_ = 0;
  dup_acks_ = 0;
  cubic_w_max_ = 0;
  cubic_epoch_ = 0;
  remote_address_ = {};
  remote_port_ = 0;
}

Status TcpControlBlock::listen(TcpEndpoint local, std::uint16_t mss) {
  if (state_ != TcpState::closed) return Status::failed_precondition();
  if (local.port == 0) return Status::invalid_argument();
  reset_connection();
  local_address_ = local.address;
  local_port_ = local.port;
  local_mss_ = mss;
  set_flag(kPassive);
  state_ = TcpState::listen;
  return Status();
}

void TcpControlBlock::open_between(TcpEndpoint local, TcpEndpoint remote, std::uint16_t mss) {
  reset_connection();
  local_address_ = local.address;
  local_port_ = local.port;
  remote_address_ = remote.address;
  remote_port_ = remote.port;
  local_mss_ = mss;
}

Status TcpControlBlock::connect(TcpEndpoint local, TcpEndpoint remote, std::uint32_t iss,
                                std::uint16_t mss, Instant now) {
  (void)now;
  if (state_ != TcpState::closed) return Status::failed_precondition();
  if (local.port == 0 || remote.port == 0 || remote.address.is_unspecified() ||
      local.address.is_unspecified()) {
    return Status::invalid_argument();
  }
  open_between(local, remote, mss);
  snd_una_ = snd_nxt_ = snd_max_ = iss;
  ts_offset_ = timestamp_offset(iss);
  // RFC 7323 §2.2: offer window scaling in our SYN.
  set_wscales(0, window_scale_for(rx_.capacity()));
  state_ = TcpState::syn_sent;
  return Status();
}

Status TcpControlBlock::accept_syn(TcpEndpoint local, TcpEndpoint remote, const TcpRepr& syn,
                                   std::uint32_t iss, std::uint16_t mss, Instant now) {
  (void)now;
  if (state_ != TcpState::closed || !syn.flags.syn() || syn.flags.ack() || syn.flags.rst()) {
    return Status::failed_precondition();
  }
  open_between(local, remote, mss);
  take_syn(syn, iss);
  return Status();
}

void TcpControlBlock::take_options(const TcpRepr& syn, std::uint16_t mss) {
  // RFC 9293 §3.7.1: send no segment larger than the peer's MSS (536
  // without the option) nor than our own link takes.
  snd_mss_ = std::min(syn.max_segment_size.value_or(kDefaultMss), mss);
  if (snd_mss_ == 0) snd_mss_ = 1;
  // RFC 7323 §2.2: scaling is on only when both SYNs carried the option.
  if (syn.window_scale) {
    set_wscales(std::min(*syn.window_scale, TcpRepr::kMaxWindowScale),
                window_scale_for(rx_.capacity()));
    set_flag(kWindowScale);
  } else {
    set_wscales(0, 0);
    set_flag(kWindowScale, false);
  }
  // RFC 2018 §2: SACK only when both SYNs carried SACK-permitted (ours
  // does whenever this block has a scoreboard).
  if (sack_ != nullptr) sack_->permitted = syn.sack_permitted;
  // RFC 7323 §3.2: timestamps only when both SYNs carried them (ours do
  // when offered); TS.Recent starts at the peer's SYN. RFC 6691: the MSS
  // counts no options, so a segment's data leaves room for the 12 bytes.
  timestamps_ = offer_timestamps_ && syn.timestamps.has_value();
  if (timestamps_) {
    ts_recent_ = syn.timestamps->value;
    constexpr std::uint16_t kTimestampsLen = 12;
    snd_mss_ = snd_mss_ > 2 * kTimestampsLen ? snd_mss_ - kTimestampsLen : snd_mss_;
  }
}

// LISTEN or a listener's backlog: RFC 9293 §3.10.7.2, third check.
void TcpControlBlock::take_syn(const TcpRepr& syn, std::uint32_t iss) {
  rcv_nxt_ = syn.seq_number + 1;
  rcv_adv_ = rcv_nxt_;
  snd_una_ = snd_nxt_ = snd_max_ = iss;
  ts_offset_ = timestamp_offset(iss);
  take_options(syn, local_mss_);
  // RFC 7323 §2.2: "The window field in a segment where the SYN bit is set
  // ... MUST NOT be scaled."
  snd_wnd_ = syn.window_len;
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = syn.seq_number;
  snd_wl2_ = iss;
  state_ = TcpState::syn_received;
}

// --- The application's side ------------------------------------------------

Status TcpControlBlock::error() const {
  switch (failure_) {
    case Failure::none: return Status();
    case Failure::refused: return Status::unavailable();
    case Failure::reset: return Status::aborted();
    case Failure::timed_out: return Status::deadline_exceeded();
    case Failure::unreachable: return Status::not_found();
    case Failure::soft_refused:
    case Failure::soft_unreachable: return Status();
  }
  return Status();
}

bool TcpControlBlock::is_synchronized() const {
  return state_ >= TcpState::established && state_ <= TcpState::time_wait;
}

bool TcpControlBlock::may_send_data() const {
  return state_ == TcpState::syn_sent || state_ == TcpState::syn_received ||
         state_ == TcpState::established || state_ == TcpState::close_wait;
}

std::size_t TcpControlBlock::send_room() const {
  return may_send_data() && !flag(kFinQueued) ? tx_.free() : 0;
}

Result<std::size_t> TcpControlBlock::send(ConstByteSpan data) {
  if (failed()) return error();
  if (!may_send_data() || flag(kFinQueued)) return Status::failed_precondition();
  return tx_.push(data);
}

Result<std::size_t> TcpControlBlock::receive(ByteSpan buffer) {
  if (rx_.empty()) {
    if (failed()) return error();
    if (state_ == TcpState::listen) return Status::failed_precondition();
    return std::size_t{0};
  }
  const std::size_t n = std::min(buffer.size(), rx_.size());
  rx_.read_at(0, buffer.first(n));
  consume(n);
  return n;
}

bool TcpControlBlock::at_end() const {
  if (!rx_.empty()) return false;
  switch (state_) {
    case TcpState::close_wait:
    case TcpState::closing:
    case TcpState::last_ack:
    case TcpState::time_wait: return true;
    case TcpState::closed: return !failed();
    default: return false;
  }
}

void TcpControlBlock::consume(std::size_t n) {
  rx_.consume(n);
  // RFC 9293 §3.8.6.2.2 (receiver SWS avoidance): tell the peer of a
  // window that opened by at least min(buffer / 2, MSS), at once: a sender
  // that saw a small or zero window waits for it.
  if (state_ == TcpState::established || state_ == TcpState::fin_wait_1 ||
      state_ == TcpState::fin_wait_2) {
    const std::uint32_t offer = window_edge_offer();
    if (offer != rcv_adv_) set_flag(kAckNow);
  }
}

void TcpControlBlock::close() {
  switch (state_) {
    case TcpState::listen:
    case TcpState::syn_sent: reset_to_closed(Failure::none); break;
    // RFC 9293 §3.10.4: in SYN-RECEIVED "queue [the FIN] for processing
    // after entering ESTABLISHED state".
    case TcpState::syn_received: set_flag(kFinQueued); break;
    case TcpState::established:
      set_flag(kFinQueued);
      state_ = TcpState::fin_wait_1;
      break;
    case TcpState::close_wait:
      set_flag(kFinQueued);
      state_ = TcpState::last_ack;
      break;
    default: break;
  }
}

void TcpControlBlock::abort() {
  const bool send_reset = state_ >= TcpState::syn_received && state_ <= TcpState::last_ack;
  reset_to_closed(Failure::none);
  rx_.clear();
  // RFC 9293 §3.10.5: "Send a reset segment: <SEQ=SND.NXT><CTL=RST>".
  if (send_reset) set_flag(kRstPending);
}

void TcpControlBlock::set_keep_alive(Duration idle) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(idle).count();
  keep_alive_s_ = static_cast<std::uint16_t>(std::clamp<std::int64_t>(seconds, 0, 65535));
  if (idle > Duration::zero() && keep_alive_s_ == 0) keep_alive_s_ = 1;
  if (keep_alive_s_ == 0 && state_ != TcpState::time_wait && !fin_wait_2_times_out()) {
    set_flag(kTimerArmed, false);
  }
}

Duration TcpControlBlock::smoothed_rtt() const {
  return std::chrono::microseconds(std::int64_t{srtt8_} * 1000 / 8);
}

void TcpControlBlock::reset_to_closed(Failure failure) {
  state_ = TcpState::closed;
  failure_ = failure;
  flags_ &= kNoDelay;
  tx_.clear();
  // A reset discards what was received (RFC 9293 §3.10.7.4: "any
  // outstanding RECEIVEs and SEND should receive 'reset' responses"); a
  // normal close leaves it to be read.
  if (failure != Failure::none) rx_.clear();
}

void TcpControlBlock::enter_time_wait(std::uint32_t now_ms) {
  state_ = TcpState::time_wait;
  timer_at_ = now_ms + to_ms(kTimeWait);
  set_flag(kTimerArmed);
  set_flag(kRtoArmed | kAckDelayed | kTimingRtt | kKeepAliveDue | kProbe, false);
}

// --- Receiving ---------------------------------------------------------------

std::optional<TcpTransmit> TcpControlBlock::process(Instant now, io::Ipv4Address source,
                                                    io::Ipv4Address destination,
                                                    const TcpRepr& segment, std::uint32_t iss) {
  const std::uint32_t now_ms = to_ms(now);
  switch (state_) {
    case TcpState::closed: return reset_reply(source, destination, segment);
    case TcpState::listen: return process_listen(source, destination, segment, iss);
    case TcpState::syn_sent: return process_syn_sent(now_ms, segment);
    default: break;
  }

  if (take_predicted(now_ms, segment)) return std::nullopt;

  // The segment as it came (not copied: a copy per segment costs more than
  // its processing), except for a SYN,ACK that repeats the SYN we have.
  std::optional<TcpRepr> repeated_syn;
  const TcpRepr* taken = &segment;
  if (state_ == TcpState::syn_received && segment.flags.syn() &&
      segment.seq_number == rcv_nxt_ - 1) {
    // The peer's SYN again: our SYN,ACK was lost (or is late). Send it
    // again now rather than at our timeout.
    if (!segment.flags.ack()) {
      snd_nxt_ = snd_una_;
      return std::nullopt;
    }
    // A SYN,ACK repeating the SYN we have (simultaneous open, RFC 9293
    // Figure 8): its ACK still counts.
    TcpRepr& ack = repeated_syn.emplace(segment);
    ack.seq_number += 1;
    ack.flags = TcpFlags(ack.flags.bits() & ~TcpFlags::kSyn);
    // The window of a SYN is never scaled (RFC 7323 §2.2): take it as is.
    ack.window_len =
        static_cast<std::uint16_t>(std::min<std::uint32_t>(ack.window_len >> snd_wscale(), 0xffff));
    taken = &ack;
  }
  const TcpRepr& seg = *taken;

  // RFC 7323 §5.3 R1, PAWS: a segment whose TSval is older than TS.Recent
  // is an old duplicate: "send an acknowledgment in reply ... and drop the
  // segment" (not a RST). (The 24-day idle rule is left out: a connection
  // idle that long has been reset by keep-alive or its peer.)
  if (timestamps_ && seg.timestamps && !seg.flags.rst() &&
      seq_lt(seg.timestamps->value, ts_recent_)) {
    note_old_duplicate(seg);
    set_flag(kAckNow);
    return std::nullopt;
  }

  // RFC 9293 §3.10.7.4, first: the sequence number.
  if (!acceptable(seg, segment_len(seg))) {
    // "If an incoming segment is not acceptable, an acknowledgment should be
    // sent in reply (unless the RST bit is set ...)."
    if (!seg.flags.rst()) {
      note_old_duplicate(seg);
      set_flag(kAckNow);
      // RFC 9293 §3.10.7.4, eighth, TIME-WAIT: "Restart the 2 MSL time-out"
      // on a retransmitted FIN.
      if (state_ == TcpState::time_wait && seg.flags.fin()) enter_time_wait(now_ms);
    }
    return std::nullopt;
  }

  // RFC 7323 §4.3 (R3): "If SEG.TSval >= TS.Recent and SEG.SEQ <=
  // Last.ACK.sent then SEG.TSval is copied to TS.Recent" (RCV.NXT stands
  // for Last.ACK.sent: every ACK carries it).
  if (timestamps_ && seg.timestamps && seq_le(seg.seq_number, rcv_nxt_)) {
    ts_recent_ = seg.timestamps->value;
  }

  // Second: RST (RFC 5961 §3.2). Only an exact match resets; one elsewhere
  // in the window earns a challenge ACK.
  if (seg.flags.rst()) {
    if (seg.seq_number != rcv_nxt_) {
      challenge_ack(now_ms);
      return std::nullopt;
    }
    switch (state_) {
      case TcpState::syn_received:
        if (flag(kPassive)) {
          // "If this connection was initiated with a passive OPEN ... then
          // return this connection to the LISTEN state."
          reset_connection();
          set_flag(kPassive);
          state_ = TcpState::listen;
        } else {
          // "... initiated with an active OPEN ... the connection was refused."
          reset_to_closed(Failure::refused);
        }
        break;
      case TcpState::closing:
      case TcpState::last_ack:
      case TcpState::time_wait: reset_to_closed(Failure::none); break;
      default: reset_to_closed(Failure::reset); break;
    }
    return std::nullopt;
  }

  // Fourth: SYN in a synchronized state (RFC 5961 §4): challenge ACK.
  if (seg.flags.syn()) {
    challenge_ack(now_ms);
    return std::nullopt;
  }

  // Fifth: "if the ACK bit is off, drop the segment and return".
  if (!seg.flags.ack()) return std::nullopt;
  switch (process_ack(now_ms, seg)) {
    case AckVerdict::proceed: break;
    case AckVerdict::drop: return std::nullopt;
    case AckVerdict::reset: return reset_reply(source, destination, seg);
  }
  restart_idle_timer(now_ms);
  if (!failed()) failure_ = Failure::none;  // the peer is there: forget an ICMP error

  // Seventh: the text.
  process_text(now_ms, seg);

  // Eighth: FIN, once everything before it is in. One that arrives ahead
  // of a hole is kept (with a scoreboard: its place is there) and taken
  // when the hole fills, so the peer need not send it again.
  const std::uint32_t fin_seq = seg.seq_number + static_cast<std::uint32_t>(seg.payload.size());
  const bool receiving = state_ == TcpState::established || state_ == TcpState::fin_wait_1 ||
                         state_ == TcpState::fin_wait_2;
  if (seg.flags.fin() && sack_ != nullptr && receiving && seq_gt(fin_seq, rcv_nxt_) &&
      fin_seq - rcv_nxt_ <= rx_.free()) {
    sack_->fin_pending = true;
    sack_->fin_seq = fin_seq;
  }
  const bool fin_pending_reached =
      sack_ != nullptr && sack_->fin_pending && receiving && sack_->fin_seq == rcv_nxt_;
  if ((seg.flags.fin() && fin_seq == rcv_nxt_) || fin_pending_reached) {
    if (sack_ != nullptr) sack_->fin_pending = false;
    process_fin();
    if (state_ == TcpState::time_wait) enter_time_wait(now_ms);
  }
  return std::nullopt;
}

// Header prediction (Van Jacobson's, as in BSD's tcp_input): the next
// in-order data of an established connection that acknowledges nothing
// new, with nothing of ours outstanding, the window unchanged, a timestamp
// no older than TS.Recent, no SACK blocks and nothing out of order held.
// The general path would only take the timestamp, move SND.WL1, restart
// the idle timer and append the text; this does just that. Any other
// segment returns false and takes the general path.
bool TcpControlBlock::take_predicted(std::uint32_t now_ms, const TcpRepr& segment) {
  const std::size_t len = segment.payload.size();
  if (state_ != TcpState::established ||
      (segment.flags.bits() & ~TcpFlags::kPsh) != TcpFlags::kAck ||
      segment.seq_number != rcv_nxt_ || segment.ack_number != snd_una_ || snd_una_ != snd_max_ ||
      (std::uint32_t{segment.window_len} << snd_wscale()) != snd_wnd_ || snd_wnd_ == 0 ||
      !segment.sack_blocks.empty() || len == 0 || len > rx_.free() || failure_ != Failure::none) {
    return false;
  }
  if (timestamps_ && (!segment.timestamps || seq_lt(segment.timestamps->value, ts_recent_))) {
    return false;
  }
  if (holds_out_of_order()) return false;
  if (sack_ != nullptr && (sack_->fin_pending || sack_->reorder_armed)) return false;
  if (timestamps_) ts_recent_ = segment.timestamps->value;
  snd_wl1_ = segment.seq_number;
  snd_wl2_ = segment.ack_number;
  restart_idle_timer(now_ms);
  process_text(now_ms, segment);
  return true;
}

std::optional<TcpTransmit> TcpControlBlock::process_listen(io::Ipv4Address source,
                                                           io::Ipv4Address destination,
                                                           const TcpRepr& segment,
                                                           std::uint32_t iss) {
  // RFC 9293 §3.10.7.2: "An incoming RST segment could not be valid ...
  // ignore it"; "Any acknowledgment is bad if it arrives on a connection
  // still in the LISTEN state. An acceptable reset segment should be formed".
  if (segment.flags.rst()) return std::nullopt;
  if (segment.flags.ack()) return reset_reply(source, destination, segment);
  if (!segment.flags.syn()) return std::nullopt;
  if (!local_address_.is_unspecified() && local_address_ != destination) return std::nullopt;
  local_address_ = destination;
  remote_address_ = source;
  remote_port_ = segment.source_port;
  take_syn(segment, iss);
  return std::nullopt;
}

std::optional<TcpTransmit> TcpControlBlock::process_syn_sent(std::uint32_t now_ms,
                                                             const TcpRepr& segment) {
  // RFC 9293 §3.10.7.3.
  const bool ack_ok = segment.flags.ack() && seq_gt(segment.ack_number, snd_una_) &&
                      seq_le(segment.ack_number, snd_max_);
  if (segment.flags.ack() && !ack_ok) {
    // "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST
    // bit is set, if so drop the segment and return)".
    if (segment.flags.rst()) return std::nullopt;
    return reset_reply(remote_address_, local_address_, segment);
  }
  if (segment.flags.rst()) {
    // RFC 5961 §3.2: in SYN-SENT a RST is valid when it acknowledges our SYN.
    if (ack_ok) reset_to_closed(Failure::refused);
    return std::nullopt;
  }
  if (!segment.flags.syn()) return std::nullopt;

  rcv_nxt_ = segment.seq_number + 1;
  rcv_adv_ = rcv_nxt_;
  take_options(segment, local_mss_);
  snd_wnd_ = segment.window_len;  // a SYN's window is not scaled
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = segment.seq_number;
  snd_wl2_ = segment.ack_number;
  if (ack_ok) {
    // "If SND.UNA > ISS (our SYN has been ACKed), change the connection
    // state to ESTABLISHED, form an ACK segment and send it."
    snd_una_ = segment.ack_number;
    if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    if (flag(kTimingRtt) && seq_ge(snd_una_, rtt_seq_)) take_rtt_sample(now_ms, segment);
    init_congestion_control();
    retries_ = 0;
    recompute_rto();
    set_flag(kRtoArmed, false);
    state_ = TcpState::established;
    set_flag(kAckNow);
    restart_idle_timer(now_ms);
  } else {
    // Simultaneous open: "enter SYN-RECEIVED, form a SYN,ACK segment and
    // send it" -- our SYN again, now with an ACK.
    state_ = TcpState::syn_received;
    snd_nxt_ = snd_una_;
    set_flag(kTimingRtt, false);
  }
  return std::nullopt;
}

// RFC 9293 §3.10.7.4: "There are four cases for the acceptability test".
bool TcpControlBlock::acceptable(const TcpRepr& segment, std::uint32_t len) const {
  // The window is what we can take: at least what we advertised (we never
  // shrink it), maybe more.
  const auto window = static_cast<std::uint32_t>(rx_.free());
  const std::uint32_t seq = segment.seq_number;
  if (window == 0) {
    // Zero window: only RCV.NXT, and then the data is not taken; "special
    // allowance should be made to accept valid ACKs, URGs, and RSTs".
    return seq == rcv_nxt_;
  }
  const std::uint32_t end = rcv_nxt_ + window;
  const bool start_in = seq_le(rcv_nxt_, seq) && seq_lt(seq, end);
  if (len == 0) return start_in;
  const std::uint32_t last = seq + len - 1;
  return start_in || (seq_le(rcv_nxt_, last) && seq_lt(last, end));
}

// RFC 5961 §7: "the number of challenge ACKs ... should be limited".
void TcpControlBlock::challenge_ack(std::uint32_t now_ms) {
  if (((now_ms >> 10) & 1) != challenge_second_) {
    challenge_second_ = (now_ms >> 10) & 1;
    challenge_acks_ = 0;
  }
  if (challenge_acks_ >= kChallengeAcksPerSecond) return;
  ++challenge_acks_;
  set_flag(kAckNow);
}

TcpControlBlock::AckVerdict TcpControlBlock::process_ack(std::uint32_t now_ms,
                                                         const TcpRepr& segment) {
  const std::uint32_t ack = segment.ack_number;
  if (state_ == TcpState::syn_received) {
    // "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state";
    // "If the segment acknowledgment is not acceptable, form a reset".
    if (!(seq_lt(snd_una_, ack) && seq_le(ack, snd_max_))) return AckVerdict::reset;
    snd_una_ = ack;
    if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    if (flag(kTimingRtt) && seq_ge(snd_una_, rtt_seq_)) take_rtt_sample(now_ms, segment);
    init_congestion_control();
    retries_ = 0;
    recompute_rto();
    set_flag(kRtoArmed, false);
    snd_wnd_ = std::uint32_t{segment.window_len} << snd_wscale();
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = segment.seq_number;
    snd_wl2_ = ack;
    state_ = flag(kFinQueued) ? TcpState::fin_wait_1 : TcpState::established;
    return AckVerdict::proceed;
  }

  // RFC 5961 §5.2: acceptable when (SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT.
  if (seq_gt(ack, snd_max_)) {
    // RFC 9293: "If the ACK acks something not yet sent ... send an ACK,
    // drop the segment".
    set_flag(kAckNow);
    return AckVerdict::drop;
  }
  if (seq_lt(ack, snd_una_ - max_snd_wnd_)) {
    challenge_ack(now_ms);
    return AckVerdict::drop;
  }

  if (sack_enabled()) note_reordering(segment);
  // RFC 5681 §2's duplicate ACK: data outstanding, none carried, no FIN,
  // the same ACK number and the same window; RFC 6675 §2 adds any ACK that
  // carries SACK blocks.
  const bool duplicate = ack == snd_una_ && snd_max_ != snd_una_ &&
                         ((segment.payload.empty() && !segment.flags.fin() &&
                           (std::uint32_t{segment.window_len} << snd_wscale()) == snd_wnd_) ||
                          (sack_enabled() && !segment.sack_blocks.empty()));
  if (seq_gt(ack, snd_una_)) {
    std::uint32_t acked = ack - snd_una_;
    const std::uint32_t newly_acked = acked;
    if (flag(kFinQueued)) {
      const std::uint32_t fin = snd_una_ + static_cast<std::uint32_t>(tx_.size());
      if (ack == fin + 1) {
        set_flag(kFinAcked);
        acked -= 1;
      }
    }
    tx_.consume(std::min<std::size_t>(acked, tx_.size()));
    snd_una_ = ack;
    if (sack_ != nullptr) scoreboard_trim(*sack_, snd_una_);
    if (flag(kRecovery) && sack_enabled()) settle_retransmissions(*sack_, snd_una_);
    if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    // Karn's rule: only a segment sent once is timed (kTimingRtt is
    // cleared on every retransmission).
    if (flag(kTimingRtt) && seq_ge(ack, rtt_seq_)) take_rtt_sample(now_ms, segment);
    retries_ = 0;
    set_flag(kProbe, false);
    on_new_ack(now_ms, newly_acked);
    // RFC 6298 §5.3: "When an ACK is received that acknowledges new data,
    // restart the retransmission timer"; §5.2: stop it when all is acked.
    recompute_rto();
    if (snd_una_ == snd_max_) {
      set_flag(kRtoArmed, false);
    } else {
      arm_rto(now_ms);
    }
  } else if (duplicate) {
    if (flag(kRecovery) && sack_enabled()) settle_retransmissions(*sack_, snd_una_);
    on_duplicate_ack();
  } else if (snd_wnd_ == 0 && retries_ != 0) {
    // An answer to a zero-window probe: the peer is alive; go on probing
    // without counting towards the limit (RFC 1122 §4.2.2.17).
    retries_ = 0;
  }

  if (sack_enabled()) arm_reorder_timer(now_ms);

  // RFC 9293 §3.10.7.4: "If SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and
  // SND.WL2 =< SEG.ACK), set SND.WND <- SEG.WND".
  if (seq_lt(snd_wl1_, segment.seq_number) ||
      (snd_wl1_ == segment.seq_number && seq_le(snd_wl2_, ack))) {
    const bool reopened = snd_wnd_ == 0 && segment.window_len != 0;
    snd_wnd_ = std::uint32_t{segment.window_len} << snd_wscale();
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = segment.seq_number;
    snd_wl2_ = ack;
    if (reopened && snd_nxt_ != snd_una_) {
      // A probe the closed window dropped is outstanding: send from
      // SND.UNA now, without waiting for the backed-off timer.
      snd_nxt_ = snd_una_;
      set_flag(kTimingRtt, false);
      retries_ = 0;
      recompute_rto();
      arm_rto(now_ms);
    }
  }

  switch (state_) {
    case TcpState::fin_wait_1:
      if (flag(kFinAcked)) state_ = TcpState::fin_wait_2;
      break;
    case TcpState::closing:
      if (flag(kFinAcked)) enter_time_wait(now_ms);
      break;
    case TcpState::last_ack:
      if (flag(kFinAcked)) {
        reset_to_closed(Failure::none);
        return AckVerdict::drop;
      }
      break;
    default: break;
  }
  return AckVerdict::proceed;
}

// Takes the ACK's SACK blocks (below), and notes when they or the ACK
// cover a hole below the highest SACKed octet that was never sent again:
// it arrived late, not lost (RFC 8985 §6.2, step 2's RACK.reord). Octets
// above HighRxt were not sent again in this recovery; outside recovery
// none were, unless after a timeout (SND.NXT < SND.MAX).
void TcpControlBlock::note_reordering(const TcpRepr& segment) {
  TcpSackScoreboard& board = *sack_;
  if (board.reordering || board.count == 0) {
    take_sack_blocks(segment);
    return;
  }
  // Holes in [max(una, HighRxt in recovery, else `recover`), highest SACKed):
  // what a timeout sent again lies below `recover`.
  const std::uint32_t highest = board.sacked[board.count - 1].end;
  const auto holes = [&](const TcpSackScoreboard& ranges, std::uint32_t una) {
    const std::uint32_t sent_again = flag(kRecovery) ? ranges.high_rxt : recover_;
    return unsacked_between(ranges, seq_gt(sent_again, una) ? sent_again : una, highest);
  };
  const std::uint32_t before = holes(board, snd_una_);
  take_sack_blocks(segment);
  const std::uint32_t ack = segment.ack_number;
  const std::uint32_t una = seq_gt(ack, snd_una_) && seq_le(ack, snd_max_) ? ack : snd_una_;
  TcpSackScoreboard trimmed = board;
  scoreboard_trim(trimmed, una);
  if (holes(trimmed, una) < before) board.reordering = true;
}

// RFC 2018 §3 / RFC 6675 §3: the blocks of an ACK go into the scoreboard,
// cut to what is outstanding (a block at or below the cumulative ACK says
// nothing new).
void TcpControlBlock::take_sack_blocks(const TcpRepr& segment) {
  const std::uint32_t low = seq_gt(segment.ack_number, snd_una_) ? segment.ack_number : snd_una_;
  for (const wire::SackBlock& block : segment.sack_blocks) {
    std::uint32_t begin = block.left;
    std::uint32_t end = block.right;
    if (seq_lt(begin, low)) begin = low;
    if (seq_gt(end, snd_max_)) end = snd_max_;
    if (seq_lt(begin, end)) scoreboard_add(*sack_, begin, end);
  }
}

void TcpControlBlock::process_text(std::uint32_t now_ms, const TcpRepr& segment) {
  if (segment.payload.empty()) return;
  if (state_ != TcpState::established && state_ != TcpState::fin_wait_1 &&
      state_ != TcpState::fin_wait_2) {
    return;
  }
  ConstByteSpan data = segment.payload;
  std::uint32_t seq = segment.seq_number;
  // Trim what we already have ...
  if (seq_lt(seq, rcv_nxt_)) {
    const std::uint32_t old = rcv_nxt_ - seq;
    if (old >= data.size()) {
      // A duplicate: the peer missed our ACK, or sent again too early.
      note_duplicate(seq, seq + static_cast<std::uint32_t>(data.size()));
      set_flag(kAckNow);
      return;
    }
    note_duplicate(seq, rcv_nxt_);
    data = data.subspan(old);
    seq = rcv_nxt_;
  }
  // ... and what does not fit.
  const std::uint32_t offset = seq - rcv_nxt_;
  const std::size_t room = rx_.free();
  if (offset >= room) {
    set_flag(kAckNow);
    return;
  }
  data = data.first(std::min<std::size_t>(data.size(), room - offset));

  if (offset != 0) {
    // RFC 5681 §4.2: "A TCP receiver SHOULD send an immediate duplicate
    // ACK when an out-of-order segment arrives."
    store_out_of_order(seq, data);
    set_flag(kAckNow);
    return;
  }
  rx_.write_at(rx_.size(), data);
  rx_.commit(data.size());
  rcv_nxt_ += static_cast<std::uint32_t>(data.size());
  // Take in the out-of-order data this reaches. The ranges are not sorted:
  // after a pass that took one, another may now be reached.
  bool filled_gap = false;
  const std::span<SeqRange> ranges = received_ranges();
  for (bool took = true; took;) {
    took = false;
    for (SeqRange& range : ranges) {
      if (range.begin == range.end || seq_gt(range.begin, rcv_nxt_)) continue;
      if (seq_gt(range.end, rcv_nxt_)) {
        rx_.commit(range.end - rcv_nxt_);
        rcv_nxt_ = range.end;
      }
      range = {};
      took = filled_gap = true;
    }
  }
  // RFC 5681 §4.2: an immediate ACK for a segment that fills a gap; else
  // RFC 9293 §3.8.6.3: "an ACK SHOULD be generated for at least every
  // second full-sized segment", and none later than 0.5 s (we wait 40 ms).
  if (filled_gap || flag(kSegmentUnacked)) {
    set_flag(kAckNow);
  } else {
    set_flag(kSegmentUnacked);
    if (!flag(kAckDelayed)) {
      ack_at_ = static_cast<std::uint16_t>(now_ms + to_ms(kAckDelay));
      set_flag(kAckDelayed);
    }
  }
}

ByteSpan TcpControlBlock::in_order_slot(std::uint32_t seq, std::size_t len) {
  if ((state_ != TcpState::established && state_ != TcpState::fin_wait_1 &&
       state_ != TcpState::fin_wait_2) ||
      seq != rcv_nxt_ || len > rx_.free()) {
    return {};
  }
  // Out-of-order data lives past the queued bytes: a damaged segment copied
  // there would overwrite it.
  if (holds_out_of_order()) return {};
  return rx_.writable_at(rx_.size(), len);
}

std::span<TcpControlBlock::SeqRange> TcpControlBlock::received_ranges() {
  if (sack_ != nullptr) return sack_->received;
  return out_of_order_;
}

bool TcpControlBlock::holds_out_of_order() {
  for (const SeqRange& range : received_ranges()) {
    if (range.begin != range.end) return true;
  }
  return false;
}

void TcpControlBlock::store_out_of_order(std::uint32_t seq, ConstByteSpan data) {
  const std::span<SeqRange> ranges = received_ranges();
  const std::uint32_t seq_end = seq + static_cast<std::uint32_t>(data.size());
  std::uint32_t begin = seq;
  std::uint32_t end = seq_end;
  // The ranges the new data touches merge into one ...
  SeqRange others[TcpSackScoreboard::kMaxRanges];
  std::size_t count = 0;
  for (const SeqRange& range : ranges) {
    if (range.begin == range.end) continue;
    // Data held already arrived again (RFC 2883 §4: the D-SACK block is
    // the part of the segment that duplicates).
    if (seq_lt(seq, range.end) && seq_lt(range.begin, seq_end)) {
      note_duplicate(seq_gt(range.begin, seq) ? range.begin : seq,
                     seq_lt(range.end, seq_end) ? range.end : seq_end);
    }
    if (seq_le(begin, range.end) && seq_le(range.begin, end)) {
      if (seq_lt(range.begin, begin)) begin = range.begin;
      if (seq_gt(range.end, end)) end = range.end;
    } else {
      others[count++] = range;
    }
  }
  // ... and when every slot holds another range, the new data is dropped:
  // the ranges were reported in SACK blocks, and a sender with SACK does
  // not send them again unless it times out (RFC 2018 §8: reneging is
  // allowed but costly).
  if (count == ranges.size()) return;
  rx_.write_at(rx_.size() + (seq - rcv_nxt_), data);
  // RFC 2018 §4: "The first SACK block ... MUST specify the contiguous block
  // of data containing the segment which triggered this ACK"; the others
  // follow, most recent first.
  ranges[0] = {begin, end};
  for (std::size_t i = 1; i < ranges.size(); ++i)
    ranges[i] = i <= count ? others[i - 1] : SeqRange{};
}

void TcpControlBlock::note_old_duplicate(const TcpRepr& segment) {
  const std::uint32_t begin = segment.seq_number;
  const std::uint32_t end = begin + static_cast<std::uint32_t>(segment.payload.size());
  if (segment.payload.empty() || !seq_lt(begin, rcv_nxt_)) return;
  note_duplicate(begin, seq_lt(end, rcv_nxt_) ? end : rcv_nxt_);
}

void TcpControlBlock::note_duplicate(std::uint32_t begin, std::uint32_t end) {
  // RFC 2883 §4 (1): the duplicate "received by the receiver in the most
  // recent packet".
  if (!sack_enabled()) return;
  sack_->duplicate = {begin, end};
  sack_->duplicate_pending = true;
}

void TcpControlBlock::process_fin() {
  // RFC 9293 §3.10.7.4, eighth: "advance RCV.NXT over the FIN, and send an
  // acknowledgment for the FIN."
  rcv_nxt_ += 1;
  set_flag(kAckNow);
  switch (state_) {
    case TcpState::established: state_ = TcpState::close_wait; break;
    case TcpState::fin_wait_1: state_ = TcpState::closing; break;  // FIN not yet acked
    case TcpState::fin_wait_2: state_ = TcpState::time_wait; break;
    default: break;
  }
}

// RFC 6298 §2.2-2.3, in fixed point: SRTT in 1/8 ms, RTTVAR in 1/4 ms.
void TcpControlBlock::take_rtt_sample(std::uint32_t now_ms, const TcpRepr& segment) {
  set_flag(kTimingRtt, false);
  // RFC 7323 §4 (RTTM): with timestamps the sample runs from the TSval the
  // ACK echoes -- of the segment that drew it -- to now.
  if (timestamps_ && segment.timestamps && segment.timestamps->echo_reply != 0) {
    const std::uint32_t sent_at = segment.timestamps->echo_reply - ts_offset_;
    if (due(sent_at, now_ms) && now_ms - sent_at < 60000) {
      rtt_sent_at_ = static_cast<std::uint16_t>(sent_at);
    }
  }
  const auto elapsed =
      static_cast<std::uint16_t>(static_cast<std::uint16_t>(now_ms) - rtt_sent_at_);
  const std::uint32_t rtt = std::min<std::uint32_t>(elapsed, 8191);
  if (!flag(kHasRtt)) {
    // "SRTT <- R, RTTVAR <- R/2"
    srtt8_ = static_cast<std::uint16_t>(rtt * 8);
    rttvar4_ = static_cast<std::uint16_t>(rtt * 2);
    set_flag(kHasRtt);
  } else {
    // "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|", beta = 1/4;
    // "SRTT <- (1 - alpha) * SRTT + alpha * R'", alpha = 1/8.
    const std::int32_t error8 = static_cast<std::int32_t>(rtt * 8) - srtt8_;
    const std::int32_t deviation4 = (error8 < 0 ? -error8 : error8) / 2;
    rttvar4_ = static_cast<std::uint16_t>(std::clamp<std::int32_t>(
        rttvar4_ + (deviation4 - static_cast<std::int32_t>(rttvar4_)) / 4, 0, 0xffff));
    srtt8_ = static_cast<std::uint16_t>(std::clamp<std::int32_t>(srtt8_ + error8 / 8, 0, 0xffff));
  }
}

void TcpControlBlock::recompute_rto() {
  if (!flag(kHasRtt)) return;
  // "RTO <- SRTT + max (G, K*RTTVAR)", K = 4 (rttvar4_ is 4 * RTTVAR in
  // ms), G = 1 ms.
  const std::uint32_t rto = srtt8_ / 8 + std::max<std::uint32_t>(1, rttvar4_);
  rto_ms_ = static_cast<std::uint16_t>(std::clamp(rto, to_ms(kMinRto), to_ms(kMaxRto)));
}

void TcpControlBlock::restart_idle_timer(std::uint32_t now_ms) {
  if (state_ == TcpState::time_wait) return;
  if (fin_wait_2_times_out()) {
    // Our side is closed and acknowledged; only the peer's FIN is missing.
    // As Linux's tcp_fin_timeout, a peer silent this long is gone (in
    // FIN-WAIT-2 the timer is this one, not keep-alive's).
    timer_at_ = now_ms + to_ms(kFinWait2Timeout);
    set_flag(kTimerArmed);
    return;
  }
  if (keep_alive_s_ == 0) return;
  if (snd_una_ == snd_max_) retries_ = 0;  // a keep-alive was answered
  timer_at_ = now_ms + std::uint32_t{keep_alive_s_} * 1000;
  set_flag(kTimerArmed);
}

// --- Congestion control (RFC 5681, RFC 6582, RFC 9438) -----------------------

namespace {

// Integer cube root: the largest r with r^3 <= n (bisection; 2^21 cubed
// passes 2^63).
std::uint64_t cube_root(std::uint64_t n) {
  std::uint64_t low = 0;
  std::uint64_t high = 1u << 21;
  while (low < high) {
    const std::uint64_t mid = (low + high + 1) / 2;
    if (mid * mid * mid <= n) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

// CUBIC's cubic term in bytes: C * d^3 segments for d ms (C = 0.4 per s^3),
// d capped at 2,000 s.
std::uint64_t cubic_growth(std::uint64_t d_ms, std::uint32_t mss) {
  d_ms = std::min<std::uint64_t>(d_ms, 2'000'000);
  // 0.4 / 10^9 per ms^3 = 1 / 2.5e9: in 1/1024 segments, d^3 / 2,441,406.
  return d_ms * d_ms * d_ms / 2'441'406 * mss / 1024;
}

}  // namespace

// RFC 9438 §4.2-4.5, once per ACK in congestion avoidance. The epoch began
// at the first such ACK after a loss, from cwnd_epoch = ssthresh (slow
// start after the loss ends there); t is the time since, K the time the
// cubic takes back to W_max:
//   W_cubic(t) = C * (t - K)^3 + W_max,  K = cubic_root((W_max - cwnd_epoch) / C)
// The window grows towards target = W_cubic(t + RTT) (between cwnd and
// 1.5 cwnd) by (target - cwnd) / cwnd per segment acknowledged, but never
// slower than Reno would: W_est = cwnd_epoch + alpha * t / RTT with alpha =
// 3 (1 - beta) / (1 + beta) (RFC 8312 §4.2's closed form of RFC 9438 §4.3).
void TcpControlBlock::grow_cubic(std::uint32_t now_ms, std::uint32_t acked) {
  const std::uint32_t mss = snd_mss_;
  // Clock ticks of 8 ms in 16 bits: the epoch's age is held at 240 s at
  // most so that it never wraps (by then the cubic term dwarfs any window).
  constexpr std::uint32_t kTickMs = 8;
  constexpr std::uint16_t kMaxAge = 30000;
  const auto tick = static_cast<std::uint16_t>(now_ms / kTickMs);
  if (cubic_epoch_ == 0) {
    cubic_epoch_ = tick == 0 ? 1 : tick;
    cubic_w_max_ = static_cast<std::uint16_t>(
        std::min<std::uint32_t>(std::max<std::uint32_t>(cubic_w_max_, cwnd_ / mss), 0xffff));
  }
  auto age = static_cast<std::uint16_t>(tick - cubic_epoch_);
  if (age > kMaxAge) {
    age = kMaxAge;
    cubic_epoch_ = static_cast<std::uint16_t>(tick - kMaxAge);
    if (cubic_epoch_ == 0) cubic_epoch_ = 1;
  }
  const std::uint64_t t_ms = std::uint64_t{age} * kTickMs;
  const std::uint64_t rtt_ms = std::max<std::uint32_t>(1, srtt8_ / 8);
  const std::uint64_t w_max = std::uint64_t{cubic_w_max_} * mss;
  const std::uint64_t epoch_cwnd = std::min(ssthresh_, cwnd_);
  // K in ms: cubic_root((W_max - cwnd_epoch) / mss / 0.4 s^3) = cubic_root(... * 2.5e9 ms^3).
  const std::uint64_t k_ms =
      w_max > epoch_cwnd ? cube_root((w_max - epoch_cwnd) * 2'500'000'000 / mss) : 0;
  const auto w_cubic = [&](std::uint64_t t) {
    if (t >= k_ms) return w_max + cubic_growth(t - k_ms, mss);
    const std::uint64_t drop = cubic_growth(k_ms - t, mss);
    return drop < w_max ? w_max - drop : 0;
  };
  const std::uint64_t w_est = epoch_cwnd + std::uint64_t{mss} * t_ms * 9 / (17 * rtt_ms);
  std::uint64_t cwnd = cwnd_;
  if (w_cubic(t_ms) < w_est) {
    // The Reno-friendly region: "cwnd SHOULD be set to W_est".
    cwnd = std::max(cwnd, w_est);
  } else {
    const std::uint64_t target = std::clamp(w_cubic(t_ms + rtt_ms), cwnd, cwnd * 3 / 2);
    cwnd += std::max<std::uint64_t>(1, (target - cwnd) * std::min(acked, 2 * mss) / cwnd);
  }
  cwnd_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(cwnd, 1u << 30));
}

void TcpControlBlock::init_congestion_control() {
  const std::uint32_t mss = snd_mss_;
  // RFC 6928: IW = min(10 * MSS, max(2 * MSS, 14600)); RFC 5681 §3.1: one
  // segment when the SYN or SYN,ACK had to be sent again.
  cwnd_ = retries_ != 0
              ? mss
              : std::min<std::uint32_t>(10 * mss, std::max<std::uint32_t>(2 * mss, 14600));
  // "The initial value of ssthresh SHOULD be set arbitrarily high".
  ssthresh_ = 0xffffffffu;
  recover_ = snd_una_ - 1;
  dup_acks_ = 0;
  cubic_w_max_ = 0;
  cubic_epoch_ = 0;
  set_flag(kRecovery, false);
}

void TcpControlBlock::on_new_ack(std::uint32_t now_ms, std::uint32_t acked) {
  const std::uint32_t mss = snd_mss_;
  dup_acks_ = 0;
  if (flag(kRecovery)) {
    if (seq_ge(snd_una_, recover_)) {
      // RFC 6582 §3.2 step 3, full acknowledgment: "Set cwnd to either (1)
      // min (ssthresh, max(FlightSize, SMSS) + SMSS) or (2) ssthresh".
      cwnd_ = std::min(ssthresh_, std::max(flight_size(), mss) + mss);
      set_flag(kRecovery, false);
      if (sack_ != nullptr) forget_retransmissions(*sack_);
    } else {
      // Partial acknowledgment: "retransmit the first unacknowledged
      // segment", "deflate the congestion window by the amount of new data
      // acknowledged ... If the partial ACK acknowledges at least one SMSS
      // of new data, then add back SMSS bytes".
      // With SACK (RFC 6675) the scoreboard and pipe decide what goes next.
      // But when every retransmission is acknowledged, nothing was sent
      // after them, and the peer reports nothing above SND.UNA, it holds
      // nothing there (a receiver with no room for more ranges dropped
      // it): send from SND.UNA at once, as NewReno does, rather than wait
      // for the timer.
      if (sack_enabled()) {
        if (sack_->count == 0 && snd_max_ == recover_ && seq_ge(snd_una_, sack_->high_rxt)) {
          sack_->high_rxt = snd_una_;
          sack_->retransmit_first = true;
        }
        return;
      }
      snd_nxt_ = snd_una_;
      cwnd_ = cwnd_ > acked ? cwnd_ - acked : 0;
      if (acked >= mss) cwnd_ += mss;
      cwnd_ = std::max(cwnd_, mss);
    }
    return;
  }
  constexpr std::uint32_t kMaxCwnd = 1u << 30;
  if (cwnd_ < ssthresh_) {
    // Slow start, with RFC 3465's byte counting (L = 2 * SMSS).
    cwnd_ += std::min(acked, 2 * mss);
  } else if (!new_reno_) {
    grow_cubic(now_ms, acked);
  } else {
    // Congestion avoidance: one SMSS per cwnd of data acknowledged (RFC
    // 3465 §2.1's byte counting, at most 2 * SMSS per ACK, so ACKs that
    // cover two segments -- a delayed-ACK receiver's, or with every other
    // ACK lost -- do not halve the growth of RFC 5681 eq. 3).
    cwnd_ += std::max<std::uint32_t>(
        1, static_cast<std::uint32_t>(std::uint64_t{mss} * std::min(acked, 2 * mss) /
                                      std::max<std::uint32_t>(cwnd_, 1)));
  }
  cwnd_ = std::min(cwnd_, kMaxCwnd);
}

void TcpControlBlock::on_duplicate_ack() {
  const std::uint32_t mss = snd_mss_;
  if (flag(kRecovery)) {
    // RFC 5681 §3.2 step 4: each further duplicate inflates cwnd by SMSS
    // (with SACK, pipe counts what left the network instead).
    if (!sack_enabled()) cwnd_ += mss;
    return;
  }
  if (dup_acks_ < 255) ++dup_acks_;
  // RFC 6675 §5 steps 2-3: recovery starts at the third duplicate or once
  // the scoreboard says the first unacknowledged segment is lost.
  const bool lost = sack_enabled() && seq_gt(lost_edge(*sack_, snd_una_, mss), snd_una_);
  if (dup_acks_ != 3 && !lost) return;
  if (!may_start_recovery()) return;
  if (sack_enabled()) {
    enter_sack_recovery();
    return;
  }
  // RFC 5681 §3.2 steps 2-3: "ssthresh = max (FlightSize / 2, 2*SMSS)"
  // (CUBIC: 0.7), retransmit the lost segment, "cwnd = ssthresh + 3*SMSS".
  reduce_on_loss();
  cwnd_ = ssthresh_ + 3 * mss;
  recover_ = snd_max_;
  set_flag(kRecovery);
  snd_nxt_ = snd_una_;
  set_flag(kTimingRtt, false);
}

// RFC 5681 §3.1 eq. 4: "ssthresh = max (FlightSize / 2, 2*SMSS)". RFC
// 9438 §4.6-4.7: "ssthresh = flight_size * beta_cubic" (0.7), and W_max =
// cwnd before the reduction -- with fast convergence, "W_max = cwnd * (1 +
// beta_cubic) / 2" when the window did not get back to the last W_max (a
// new flow took a share).
void TcpControlBlock::reduce_on_loss() {
  const std::uint32_t mss = snd_mss_;
  if (new_reno_) {
    ssthresh_ = std::max(flight_size() / 2, 2 * mss);
  } else {
    ssthresh_ =
        std::max(static_cast<std::uint32_t>(std::uint64_t{flight_size()} * 7 / 10), 2 * mss);
    const std::uint32_t segments = cwnd_ / mss;
    const std::uint32_t w_max =
        segments < cubic_w_max_ ? segments * 17 / 20 : segments;  // (1 + 0.7) / 2
    cubic_w_max_ = static_cast<std::uint16_t>(std::min<std::uint32_t>(w_max, 0xffff));
  }
  cubic_epoch_ = 0;
}

// RFC 6675 §5 step 4: "RecoveryPoint = HighData", "cwnd = ssthresh =
// FlightSize / 2" (CUBIC: 0.7; at least 2 SMSS, RFC 5681), and the first
// hole goes out at once (step 4.3); then NextSeg while pipe leaves room.
void TcpControlBlock::enter_sack_recovery() {
  reduce_on_loss();
  cwnd_ = ssthresh_;
  recover_ = snd_max_;
  set_flag(kRecovery);
  sack_->high_rxt = snd_una_;
  sack_->retransmit_first = true;
  forget_retransmissions(*sack_);
  set_flag(kTimingRtt, false);
}

// RFC 5681 §3.1: after a retransmission timeout "cwnd MUST be set to no
// more than the loss window, LW, which equals 1 full-sized segment", and
// ssthresh to max(FlightSize / 2, 2 * SMSS) -- once per loss, not again
// for the same segment's later timeouts.
void TcpControlBlock::enter_loss_window() {
  const std::uint32_t mss = snd_mss_;
  if (retries_ == 0) {
    reduce_on_loss();
    // RFC 9438 §4.8: after a timeout, "K is set to 0, and W_max is set to
    // the congestion window size at the beginning of the current congestion
    // avoidance stage" (grow_cubic takes it then).
    cubic_w_max_ = 0;
  }
  cwnd_ = mss;
  // RFC 6582 §4: "recover" is set on a timeout too.
  recover_ = snd_max_;
  set_flag(kRecovery, false);
  dup_acks_ = 0;
  // RFC 6675 §5.1: the scoreboard stays, so that sending again skips what
  // the peer holds. But a receiver may discard what it SACKed (RFC 2018
  // §8): a second timeout in a row forgets it all.
  if (sack_ != nullptr) {
    if (retries_ != 0) sack_->count = 0;
    sack_->retransmit_first = false;
    forget_retransmissions(*sack_);
  }
}

// --- Sending -----------------------------------------------------------------

void TcpControlBlock::arm_rto(std::uint32_t now_ms) {
  rto_at_ = now_ms + rto_ms_;
  set_flag(kRtoArmed);
}

// RFC 8985 §6.2: outside recovery "RACK.reo_wnd = RACK.min_RTT / 4" (SRTT
// here) unless DupThresh segments were SACKed, which starts recovery at
// once (on_duplicate_ack). Only for data never sent again: not after a
// timeout, and not below `recover` (RFC 6582).
bool TcpControlBlock::reorder_window_applies() const {
  return !flag(kRecovery) && retries_ == 0 && sack_->count != 0 && snd_una_ != snd_max_ &&
         seq_ge(snd_nxt_, snd_max_) && may_start_recovery();
}

// RFC 6582 §3.2 step 2: only when the ACK covers more than `recover` (no
// second fast retransmit for the same loss). With SACK the scoreboard
// tells new losses from old ones: RFC 6675 §5.1 holds a new recovery back
// only "until HighACK is greater than or equal to" RecoveryPoint.
bool TcpControlBlock::may_start_recovery() const {
  return sack_enabled() ? seq_ge(snd_una_, recover_) : seq_gt(snd_una_, recover_);
}

void TcpControlBlock::arm_reorder_timer(std::uint32_t now_ms) {
  TcpSackScoreboard& board = *sack_;
  if (!reorder_window_applies()) {
    board.reorder_armed = false;
  } else if (!board.reorder_armed) {
    board.reorder_at = now_ms + std::max<std::uint32_t>(1, srtt8_ / 32);
    board.reorder_armed = true;
  }
}

void TcpControlBlock::run_timers(std::uint32_t now_ms) {
  if (sack_enabled() && sack_->reorder_armed && due(sack_->reorder_at, now_ms)) {
    sack_->reorder_armed = false;
    if (reorder_window_applies()) {
      enter_sack_recovery();
    }
  }
  if (flag(kRtoArmed) && due(rto_at_, now_ms)) on_retransmission_timeout(now_ms);
  if (flag(kAckDelayed) && due16(ack_at_, now_ms)) {
    set_flag(kAckDelayed, false);
    set_flag(kAckNow);
  }
  if (flag(kTimerArmed) && due(timer_at_, now_ms)) {
    set_flag(kTimerArmed, false);
    if (state_ == TcpState::time_wait) {
      reset_to_closed(Failure::none);
    } else if (fin_wait_2_times_out()) {
      // Closed without a RST, as Linux. Data received and not read stays
      // readable; after it, deadline_exceeded (the peer's FIN never came,
      // so this is no end of stream).
      reset_to_closed(Failure::none);
      failure_ = Failure::timed_out;
    } else if (keep_alive_s_ != 0 && is_synchronized()) {
      if (snd_una_ != snd_max_) {
        // Data in flight: the retransmission timer watches the peer.
        restart_idle_timer(now_ms);
      } else if (retries_ >= kKeepAliveProbes) {
        reset_to_closed(timed_out_failure());
      } else {
        ++retries_;
        set_flag(kKeepAliveDue);
        timer_at_ = now_ms + to_ms(std::min<Duration>(kKeepAliveInterval,
                                                      std::chrono::seconds(keep_alive_s_)));
        set_flag(kTimerArmed);
      }
    }
  }
}

void TcpControlBlock::set_held(bool held) {
  held_ = held;
  // Let go in FIN-WAIT-2: the timeout runs from the next dispatch() (the
  // timer may have been keep-alive's).
  if (fin_wait_2_times_out()) set_flag(kTimerArmed, false);
}

bool TcpControlBlock::process_unreachable(std::uint8_t code, std::uint32_t seq) {
  // RFC 5927 §4.1: "SND.UNA <= SEG.SEQ < SND.NXT" (SND.MAX: after a
  // timeout SND.NXT went back); anything else is stale or forged.
  if (state_ <= TcpState::listen || seq_lt(seq, snd_una_) || !seq_lt(seq, snd_max_)) return false;
  constexpr std::uint8_t kFragmentationNeeded = 4;
  constexpr std::uint8_t kLastCode = 15;  // RFC 1812 §5.2.7.1: precedence cutoff
  if (code == kFragmentationNeeded || code > kLastCode) return false;
  // RFC 1122 §4.2.3.9: protocol (2) and port (3) unreachable are hard
  // errors -- the host has no TCP or nothing on the port; the others say
  // no route, for now or by policy.
  const bool refused = code == 2 || code == 3;
  if (state_ == TcpState::syn_sent) {
    reset_to_closed(refused ? Failure::refused : Failure::unreachable);
  } else {
    failure_ = refused ? Failure::soft_refused : Failure::soft_unreachable;
  }
  return true;
}

// RFC 1122 §4.2.3.9: a soft error "SHOULD make the information available
// to the application"; as Linux, it is the reason a connection that timed
// out reports.
TcpControlBlock::Failure TcpControlBlock::timed_out_failure() const {
  if (failure_ == Failure::soft_refused) return Failure::refused;
  if (failure_ == Failure::soft_unreachable) return Failure::unreachable;
  return Failure::timed_out;
}

void TcpControlBlock::on_retransmission_timeout(std::uint32_t now_ms) {
  (void)now_ms;
  set_flag(kRtoArmed, false);
  const bool opening = state_ == TcpState::syn_sent || state_ == TcpState::syn_received;
  if (retries_ >= (opening ? kMaxSynRetries : kMaxRetries)) {
    reset_to_closed(timed_out_failure());
    return;
  }
  if (is_synchronized()) enter_loss_window();
  ++retries_;
  // RFC 6298 §5.5: "back off the timer"; §5.4: retransmit the earliest
  // segment not acknowledged (here: go back to SND.UNA).
  rto_ms_ = static_cast<std::uint16_t>(std::min(std::uint32_t{rto_ms_} * 2, to_ms(kMaxRto)));
  snd_nxt_ = snd_una_;
  set_flag(kTimingRtt, false);
  // With a zero window this is the persist timer: probe it.
  if (snd_wnd_ == 0 && is_synchronized()) set_flag(kProbe);
}

std::uint32_t TcpControlBlock::window_edge_offer() const {
  // What we could offer: all free space, in units of the scale. RFC 9293
  // §3.8.6.2.2: move the right edge only by min(buffer / 2, MSS) or more.
  const auto free = static_cast<std::uint32_t>(rx_.free());
  const std::uint32_t units = std::min<std::uint32_t>(free >> rcv_wscale(), 0xffff);
  const std::uint32_t edge = rcv_nxt_ + (units << rcv_wscale());
  // The edge stays where it is until it can move by the threshold (a
  // sender that overran the window moves it to RCV.NXT).
  const std::uint32_t current = seq_gt(rcv_adv_, rcv_nxt_) ? rcv_adv_ : rcv_nxt_;
  // The peer's full segment: our MSS, less the timestamps it carries.
  const std::uint32_t peer_segment = timestamps_ && local_mss_ > 24 ? local_mss_ - 12u : local_mss_;
  const std::uint32_t threshold = std::max<std::uint32_t>(
      1, std::min<std::uint32_t>(static_cast<std::uint32_t>(rx_.capacity() / 2), peer_segment));
  if (seq_gt(edge, current) && edge - current >= threshold) return edge;
  return current;
}

std::uint16_t TcpControlBlock::advertise_window() {
  const std::uint32_t edge = window_edge_offer();
  if (seq_gt(edge, rcv_adv_)) rcv_adv_ = edge;
  return static_cast<std::uint16_t>(
      std::min<std::uint32_t>((rcv_adv_ - rcv_nxt_) >> rcv_wscale(), 0xffff));
}

std::optional<TcpTransmit> TcpControlBlock::make_segment(std::uint32_t now_ms, std::uint32_t seq,
                                                         std::uint8_t flags) {
  std::optional<TcpTransmit> segment(std::in_place);
  TcpTransmit& out = *segment;
  out.source = local_address_;
  out.destination = remote_address_;
  out.header.source_port = local_port_;
  out.header.destination_port = remote_port_;
  out.header.seq_number = seq;
  out.header.flags = TcpFlags(flags);
  if ((flags & TcpFlags::kAck) != 0) {
    out.header.ack_number = rcv_nxt_;
    out.header.window_len = advertise_window();
    set_flag(kAckNow | kAckDelayed | kSegmentUnacked, false);
    // RFC 2018 §4: the out-of-order data we hold, as SACK blocks; §3:
    // three fit beside the timestamps.
    if (sack_enabled()) {
      const std::size_t room = timestamps_ ? 3 : TcpRepr::kMaxSackBlocks;
      // RFC 2883 §4: a D-SACK block goes first, in one ACK only.
      if (sack_->duplicate_pending) {
        out.header.sack_blocks.push_back({sack_->duplicate.begin, sack_->duplicate.end});
        sack_->duplicate_pending = false;
      }
      for (const SeqRange& range : received_ranges()) {
        if (range.begin != range.end && out.header.sack_blocks.size() < room) {
          out.header.sack_blocks.push_back({range.begin, range.end});
        }
      }
    }
  }
  // RFC 7323 §3.2: once negotiated, "a TSopt MUST be sent in every non-<RST>
  // segment", echoing TS.Recent.
  if (timestamps_ && (flags & TcpFlags::kRst) == 0) {
    out.header.timestamps = wire::TcpTimestamps{ts_value(now_ms), ts_recent_};
  }
  return segment;
}

bool TcpControlBlock::plan_data(std::uint32_t& seq, std::size_t& len, bool& fin) const {
  seq = snd_nxt_;
  len = 0;
  fin = false;
  switch (state_) {
    case TcpState::established:
    case TcpState::close_wait:
    case TcpState::fin_wait_1:
    case TcpState::closing:
    case TcpState::last_ack: break;
    default: return false;
  }
  if (flag(kFinAcked)) return false;
  if (flag(kRecovery) && sack_enabled()) return plan_sack_recovery(seq, len, fin);
  // Sending again after a timeout (RFC 6675 §5.1): what the peer SACKed
  // is skipped, and not counted as in flight.
  std::uint32_t skipped = 0;
  std::size_t hole_len = snd_mss_;
  if (sack_enabled() && sack_->count != 0 && seq_lt(snd_nxt_, snd_max_)) {
    const SackRange hole = next_hole(*sack_, snd_nxt_, snd_max_);
    seq = hole.begin;
    if (seq_lt(seq, snd_max_)) hole_len = std::min<std::size_t>(hole_len, range_len(hole));
    skipped = (seq - snd_una_) - unsacked_between(*sack_, snd_una_, seq);
  }
  const std::uint32_t offset = seq - snd_una_;
  if (offset > tx_.size()) return false;  // the FIN is out
  const std::size_t unsent = tx_.size() - offset;
  // RFC 5681 §3.1: no more than min(cwnd, rwnd) in flight. RFC 3042
  // (Limited Transmit): on each of the first two duplicate ACKs, one new
  // segment beyond cwnd -- "the sender can only send two segments beyond
  // the congestion window" -- so that a small window still draws the three
  // duplicates of fast retransmit instead of waiting for a timeout.
  std::uint32_t allowed = cwnd_;
  if (dup_acks_ != 0 && dup_acks_ < 3 && !flag(kRecovery) && seq_ge(snd_nxt_, snd_max_)) {
    allowed += std::uint32_t{dup_acks_} * snd_mss_;
  }
  const std::uint32_t window_end = snd_una_ + std::min(snd_wnd_, allowed + skipped);
  const std::uint32_t usable = seq_gt(window_end, seq) ? window_end - seq : 0;
  len = std::min<std::size_t>({unsent, usable, hole_len});
  if (len == 0 && unsent != 0 && flag(kProbe)) {
    // RFC 9293 §3.8.6.1: a zero-window probe carries one octet.
    len = 1;
    return true;
  }
  fin = flag(kFinQueued) && offset + len == tx_.size();
  if (len == 0) return fin;
  const bool nothing_in_flight = snd_nxt_ == snd_una_;
  // Retransmissions, full segments and the FIN go at once.
  if (len >= snd_mss_ || seq_lt(seq, snd_max_) || fin) return true;
  // RFC 9293 §3.7.4 (Nagle), in Minshall's form (as Linux): a short
  // segment only when no other short one is unacknowledged -- the flight is
  // whole segments -- and then (sender SWS avoidance, §3.8.6.2.1) only when
  // it is all the data there is, or at least half the largest window the
  // peer offered. Plain Nagle (nothing unacknowledged) would hold the tail
  // of a send buffer that a window of a few segments drains: at 4 KiB and
  // MSS 1,460 the 1,176 bytes after two full segments wait a round trip
  // every other round trip. With Nagle off the flight does not matter.
  if (nothing_in_flight) return true;
  const bool short_in_flight = flight_size() % snd_mss_ != 0;
  if (len == unsent && (flag(kNoDelay) || !short_in_flight)) return true;
  return max_snd_wnd_ != 0 && len >= max_snd_wnd_ / 2;
}

// RFC 6675 §5 step (C): while "(cwnd - pipe) >= 1 SMSS", the segment
// NextSeg() names: (1) the first lost octet not sent again (or whose
// retransmission was lost: settle_retransmissions), else (2) new data the
// peer's window allows, else (3) the first unSACKed octet above HighRxt
// below the highest SACKed one. Rule 4's rescue retransmission is left
// out: in the netsim grid it cost throughput (a tail it would repair is as
// often repaired by the ACKs that follow).
bool TcpControlBlock::plan_sack_recovery(std::uint32_t& seq, std::size_t& len, bool& fin) const {
  const std::uint32_t mss = snd_mss_;
  const TcpSackScoreboard& board = *sack_;
  fin = false;
  // RFC 8985 §6.2: in recovery, with no reordering seen, the reordering
  // window is zero -- everything sent before a segment that arrived is
  // lost, and the originals went out in sequence order. Else IsLost()'s
  // DupThresh rule.
  const std::uint32_t edge = !board.reordering && board.count != 0
                                 ? board.sacked[board.count - 1].end
                                 : lost_edge(board, snd_una_, mss);
  // SetPipe: each unSACKed octet outstanding counts once unless it is lost,
  // and once more when it was sent again and that is still in flight.
  const std::uint32_t pipe = flight_size() - sacked_bytes(board) -
                             unsacked_between(board, snd_una_, edge) +
                             retransmitted_between(board, snd_una_, snd_max_);
  if (!board.retransmit_first && pipe + mss > cwnd_) return false;
  // Retransmissions wait while the list of those in flight is full.
  const bool may_retransmit = board.retransmitting < TcpSackScoreboard::kMaxRetransmissions;
  // A hole may end in (or be) the FIN, one past the data.
  const std::uint32_t data_end = snd_una_ + static_cast<std::uint32_t>(tx_.size());
  const auto send_hole = [&](SackRange hole) {
    seq = hole.begin;
    if (!seq_lt(seq, data_end)) {
      len = 0;
      fin = flag(kFinQueued);
      return fin;
    }
    len = std::min({mss, range_len(hole), data_end - seq});
    return true;
  };
  if (may_retransmit) {
    const SackRange hole =
        next_unretransmitted_hole(board, snd_una_, board.retransmit_first ? snd_max_ : edge);
    if (seq_lt(hole.begin, hole.end)) return send_hole(hole);
  }
  seq = snd_max_;
  const std::uint32_t offset = seq - snd_una_;
  if (offset > tx_.size()) return false;  // the FIN is out
  const std::size_t unsent = tx_.size() - offset;
  const std::uint32_t window_end = snd_una_ + snd_wnd_;
  const std::uint32_t usable = seq_gt(window_end, seq) ? window_end - seq : 0;
  len = std::min<std::size_t>({unsent, usable, mss});
  fin = flag(kFinQueued) && offset + len == tx_.size();
  if (len != 0 || fin) return true;
  if (board.count == 0 || !may_retransmit) return false;
  const std::uint32_t from = seq_gt(board.high_rxt, snd_una_) ? board.high_rxt : snd_una_;
  const std::uint32_t highest_sacked = board.sacked[board.count - 1].end;
  const SackRange unsacked = next_unretransmitted_hole(board, from, highest_sacked);
  if (seq_lt(unsacked.begin, unsacked.end)) return send_hole(unsacked);
  return false;
}

std::optional<TcpTransmit> TcpControlBlock::send_data(std::uint32_t now_ms, std::uint32_t seq,
                                                      std::size_t len, bool fin) {
  const std::uint32_t offset = seq - snd_una_;
  std::uint8_t flags = TcpFlags::kAck;
  if (fin) flags |= TcpFlags::kFin;
  if (len != 0 && offset + len == tx_.size()) flags |= TcpFlags::kPsh;
  std::optional<TcpTransmit> segment = make_segment(now_ms, seq, flags);
  TcpTransmit& out = *segment;
  // SACK blocks only where they fit: the peer's MSS counts no options
  // (RFC 6691).
  if (!out.header.sack_blocks.empty() &&
      len + 4 + 8 * out.header.sack_blocks.size() > std::size_t{snd_mss_}) {
    // A D-SACK block left out goes with the next segment instead.
    const wire::SackBlock first = out.header.sack_blocks[0];
    if (first.left == sack_->duplicate.begin && first.right == sack_->duplicate.end) {
      sack_->duplicate_pending = true;
    }
    out.header.sack_blocks.clear();
  }
  // Each span rebuilt from its pointer and length: copying the spans
  // themselves compiles to 16-byte loads of what was just stored 8 bytes
  // at a time, which stall (no store forwarding) on x86-64.
  const ByteRing::Pieces pieces = tx_.pieces_at(offset, len);
  out.payload_head = ConstByteSpan(pieces.head.data(), pieces.head.size());
  out.payload_tail = ConstByteSpan(pieces.tail.data(), pieces.tail.size());
  const std::uint32_t end = seq + static_cast<std::uint32_t>(len) + (fin ? 1 : 0);
  // Karn's rule: time only new data.
  if (!flag(kTimingRtt) && seq_ge(seq, snd_max_)) {
    rtt_seq_ = end;
    rtt_sent_at_ = static_cast<std::uint16_t>(now_ms);
    set_flag(kTimingRtt);
  }
  if (flag(kRecovery) && sack_enabled() && seq_lt(seq, snd_max_)) {
    // A hole sent again (RFC 6675): SND.NXT stays at HighData.
    if (seq_gt(end, sack_->high_rxt)) sack_->high_rxt = end;
    TcpSackScoreboard& board = *sack_;
    if (board.retransmitting < TcpSackScoreboard::kMaxRetransmissions) {
      board.retransmissions[board.retransmitting++] = {
          seq, snd_max_, static_cast<std::uint16_t>(end - seq), ++board.sent_order};
    }
    sack_->retransmit_first = false;
    snd_nxt_ = snd_max_;
  } else {
    // In fast recovery a retransmission is one segment from SND.UNA: then
    // on with new data (RFC 6582).
    snd_nxt_ = flag(kRecovery) && seq_lt(end, snd_max_) ? snd_max_ : end;
  }
  if (seq_gt(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
  // RFC 6298 §5.1: start the timer when sending data, unless running. And
  // when fast recovery sends the segment at SND.UNA again, the timer
  // watches that from now (as Linux does), not from the original's ACK
  // clock: else it fires as the retransmission's ACK comes back.
  if (!flag(kRtoArmed) || (flag(kRecovery) && seq == snd_una_ && seq_lt(seq, snd_max_))) {
    arm_rto(now_ms);
  }
  return segment;
}

std::optional<TcpTransmit> TcpControlBlock::dispatch(Instant now) {
  const std::uint32_t now_ms = to_ms(now);
  run_timers(now_ms);
  // A connection let go in FIN-WAIT-2 (set_held) starts its timeout now.
  if (fin_wait_2_times_out() && !flag(kTimerArmed)) restart_idle_timer(now_ms);
  switch (state_) {
    case TcpState::closed: {
      if (!flag(kRstPending)) return std::nullopt;
      set_flag(kRstPending, false);
      return make_segment(now_ms, snd_nxt_, TcpFlags::kRst);
    }
    case TcpState::listen: return std::nullopt;
    case TcpState::syn_sent:
    case TcpState::syn_received: {
      if (snd_nxt_ != snd_una_) {
        if (state_ == TcpState::syn_received && flag(kAckNow)) {
          return make_segment(now_ms, snd_nxt_, TcpFlags::kAck);
        }
        return std::nullopt;
      }
      const bool passive = state_ == TcpState::syn_received;
      std::optional<TcpTransmit> segment = make_segment(
          now_ms, snd_una_, passive ? (TcpFlags::kSyn | TcpFlags::kAck) : TcpFlags::kSyn);
      TcpTransmit& out = *segment;
      // RFC 7323 §2.2: a SYN's window is not scaled.
      out.header.window_len = static_cast<std::uint16_t>(std::min<std::size_t>(rx_.free(), 0xffff));
      rcv_adv_ = rcv_nxt_ + out.header.window_len;
      out.header.max_segment_size = local_mss_;
      if (!passive || flag(kWindowScale)) out.header.window_scale = rcv_wscale();
      out.header.sack_permitted = passive ? sack_enabled() : sack_ != nullptr;
      // RFC 7323 §3.2: offered in every SYN (TSecr 0); in a SYN,ACK only
      // when the SYN had it (make_segment adds it then).
      if (!passive && offer_timestamps_) {
        out.header.timestamps = wire::TcpTimestamps{ts_value(now_ms), 0};
      }
      if (retries_ == 0) {
        rtt_seq_ = snd_una_ + 1;
        rtt_sent_at_ = static_cast<std::uint16_t>(now_ms);
        set_flag(kTimingRtt);
      }
      snd_nxt_ = snd_una_ + 1;
      if (seq_gt(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
      if (!flag(kRtoArmed)) arm_rto(now_ms);
      return segment;
    }
    default: break;
  }

  std::uint32_t seq = 0;
  std::size_t len = 0;
  bool fin = false;
  if (plan_data(seq, len, fin)) {
    set_flag(kProbe, false);
    return send_data(now_ms, seq, len, fin);
  }
  // Unsent data facing a zero window: the persist timer (RFC 9293
  // §3.8.6.1) is the retransmission timer, with its backoff.
  if (snd_wnd_ == 0 && !flag(kRtoArmed) && tx_.size() > snd_nxt_ - snd_una_ &&
      (state_ == TcpState::established || state_ == TcpState::close_wait)) {
    arm_rto(now_ms);
  }
  if (flag(kKeepAliveDue)) {
    set_flag(kKeepAliveDue, false);
    // RFC 9293 §3.8.4: "SEG.SEQ = SND.NXT-1", no data.
    return make_segment(now_ms, snd_nxt_ - 1, TcpFlags::kAck);
  }
  if (flag(kAckNow)) return make_segment(now_ms, snd_nxt_, TcpFlags::kAck);
  return std::nullopt;
}

bool TcpControlBlock::wants_to_send() const {
  switch (state_) {
    case TcpState::closed: return flag(kRstPending);
    case TcpState::listen: return false;
    case TcpState::syn_sent: return snd_nxt_ == snd_una_;
    case TcpState::syn_received: return snd_nxt_ == snd_una_ || flag(kAckNow);
    default: break;
  }
  std::uint32_t seq = 0;
  std::size_t len = 0;
  bool fin = false;
  return flag(kAckNow) || flag(kKeepAliveDue) || plan_data(seq, len, fin);
}

Instant TcpControlBlock::poll_at(Instant now) const {
  // A connection just let go in FIN-WAIT-2: dispatch() starts its timeout.
  if (wants_to_send() || (fin_wait_2_times_out() && !flag(kTimerArmed))) return now;
  Instant at = async::kNever;
  if (flag(kRtoArmed)) at = std::min(at, instant_of(rto_at_, now));
  if (flag(kAckDelayed)) at = std::min(at, instant_of16(ack_at_, now));
  if (flag(kTimerArmed)) at = std::min(at, instant_of(timer_at_, now));
  if (sack_enabled() && sack_->reorder_armed) at = std::min(at, instant_of(sack_->reorder_at, now));
  return at;
}

}  // namespace mote::net
