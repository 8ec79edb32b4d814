#pragma once
// TcpControlBlock: one TCP connection (RFC 9293) as a sans-I/O state
// machine. It reads no clock and does no I/O: the caller hands it received
// segments and the time, asks it for the next segment to send, and comes
// back at poll_at(). Its send and receive buffers are the caller's bytes.
// The interface demultiplexes segments to it and the async stream wraps it;
// the unit tests and the fuzzer drive it directly.
//
//   TcpControlBlock tcb(rx_bytes, tx_bytes);
//   tcb.connect({local, 49152}, {server, 80}, iss, now);   // or listen(...)
//   loop:
//     if (auto reply = tcb.process(now, source, destination, segment)) send *reply;
//     while (auto out = tcb.dispatch(now)) send out (TcpTransmit::emit);
//     tcb.send(data) / tcb.receive(buffer) / tcb.close();
//     wait for a segment or until tcb.poll_at(now);
//
// States and transitions (RFC 9293 §3.3.2, Figure 5), all implemented:
//   closed --listen()--> LISTEN --SYN/SYN,ACK--> SYN-RECEIVED --ACK--> ESTABLISHED
//   closed --connect()/SYN--> SYN-SENT --SYN,ACK/ACK--> ESTABLISHED
//   SYN-SENT --SYN/SYN,ACK--> SYN-RECEIVED (simultaneous open)
//   ESTABLISHED --close()/FIN--> FIN-WAIT-1 --ACK of FIN--> FIN-WAIT-2 --FIN/ACK--> TIME-WAIT
//   FIN-WAIT-1 --FIN/ACK--> CLOSING --ACK of FIN--> TIME-WAIT (simultaneous close)
//   ESTABLISHED --FIN/ACK--> CLOSE-WAIT --close()/FIN--> LAST-ACK --ACK of FIN--> closed
//   TIME-WAIT --2 MSL--> closed
//   FIN-WAIT-2 --60 s without a segment--> closed (Linux's tcp_fin_timeout)
//
// What it does, beyond the state machine: the segment acceptability test
// (§3.10.7.4); RST, SYN and ACK validation with rate-limited challenge ACKs
// (RFC 5961); MSS and window scale options (RFC 9293 §3.7.1, RFC 7323);
// timestamps with RTTM and PAWS (RFC 7323);
// retransmission timeout per RFC 6298 (SRTT/RTTVAR, Karn's rule, backoff, a
// retry limit after which the connection fails with deadline_exceeded);
// delayed ACKs (every second full segment, else after 40 ms); Nagle's
// algorithm in Minshall's form (one short segment in flight) with an off
// switch; zero-window probes; sender and receiver
// silly-window avoidance (RFC 9293 §3.8.6.2); keep-alive (RFC 9293 §3.8.4);
// out-of-order data kept (one range, four with a SACK scoreboard) and
// taken in when the hole fills; congestion control (RFC 5681 slow start and
// congestion avoidance, fast retransmit and NewReno fast recovery per RFC
// 6582), always on, with an initial window of RFC 6928 (10 segments, at
// most 14,600 bytes), Limited Transmit (RFC 3042), and the window's growth
// and cut by CUBIC (RFC 9438, the default) or Reno with byte counting
// (RFC 3465); SACK (RFC 2018) and SACK-based loss
// recovery (RFC 6675) when given a TcpSackScoreboard and the peer agrees
// (and D-SACK, RFC 2883, as a receiver),
// with RACK's loss detection (RFC 8985) by order of sending rather than
// send times: a retransmission lost again is sent once more as soon as
// something sent after it is SACKed, and a window too small for three
// duplicate ACKs recovers a quarter of SRTT after the first SACK (the
// reordering window; zero in recovery until reordering is seen); ICMP
// destination unreachable (RFC 1122 §4.2.3.9, checked per RFC 5927 §4.1):
// the end of a connect, a soft error later.
//
// Deviations, on purpose (as Linux): the minimum RTO is 200 ms, not RFC
// 6298's 1 s; data on a SYN is not queued (the peer sends it again); a FIN
// that arrives out of order is kept only by a block with a scoreboard
// (else the peer sends it again); TIME-WAIT is 60 s; FIN-WAIT-2 ends after
// 60 s of silence (Linux's tcp_fin_timeout) once the application let the
// connection go (set_held).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/io/address.hpp"
#include "mote/net/storage/byte_ring.hpp"
#include "mote/net/wire/tcp.hpp"

namespace mote::net {

using async::Duration;
using async::Instant;

enum class TcpState : std::uint8_t {
  closed,
  listen,
  syn_sent,
  syn_received,
  established,
  fin_wait_1,
  fin_wait_2,
  close_wait,
  closing,
  last_ack,
  time_wait,
};

// The name RFC 9293 gives a state ("SYN-SENT"), for logs and tests.
const char* to_string(TcpState state);

// The congestion window's growth and reduction (the loss recovery around
// it, NewReno or SACK-based, is the same for both).
enum class TcpCongestionControl : std::uint8_t {
  // RFC 9438: after a loss the window is cut to 0.7 of what was in flight
  // and grows back along a cubic function of the time since, never slower
  // than Reno would (its "Reno-friendly region"). The default, as in
  // Linux, Windows and macOS.
  cubic,
  // RFC 5681: halved on a loss, one segment more per round trip.
  new_reno,
};

// A segment dispatch() wants sent: the header fields and up to two pieces
// of payload from the send buffer (it may wrap). emit() writes the segment
// with its checksum; the payload is copied once.
struct TcpTransmit {
  io::Ipv4Address source;
  io::Ipv4Address destination;
  wire::TcpRepr header;  // header.payload is empty
  ConstByteSpan payload_head;
  ConstByteSpan payload_tail;

  [[nodiscard]] std::size_t payload_len() const {
    return payload_head.size() + payload_tail.size();
  }
  [[nodiscard]] std::size_t buffer_len() const { return header.header_len() + payload_len(); }
  // Writes the whole TCP segment into `buffer`; returns buffer_len(), or
  // resource_exhausted when the buffer is shorter.
  Result<std::size_t> emit(ByteSpan buffer) const;
};

// The RST that RFC 9293 §3.10.7.1 answers a segment with when no connection
// takes it (nothing when the segment is itself a RST):
//   ACK set:   <SEQ=SEG.ACK><CTL=RST>
//   ACK clear: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
std::optional<wire::TcpRepr> tcp_reset_for(const wire::TcpRepr& segment);

// SACK (RFC 2018) state of one connection on the sending side: the
// scoreboard of RFC 6675 §3, as sorted, disjoint sequence ranges the peer
// reported, plus HighRxt. It lives beside the control block (a TcpSocket
// holds one), not in it, so the block stays below lwIP's tcp_pcb; a block
// given none neither offers nor uses SACK and recovers by NewReno alone.
struct TcpSackScoreboard {
  // Four ranges cover four holes in a window; when a fifth arrives the
  // highest range is forgotten (its data is only sent again, never lost).
  static constexpr std::size_t kMaxRanges = 4;
  struct Range {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
  };
  Range sacked[kMaxRanges];
  // The receiving side's out-of-order data in the receive ring, most
  // recently grown first (the control block's own range is unused).
  Range received[kMaxRanges];
  // Retransmissions in flight during SACK recovery, to find the ones lost
  // again (RFC 8985's RACK, with the order of sending in place of send
  // times): [begin, begin + len) went out when SND.MAX was `high_data`, as
  // the `order`-th retransmission of this recovery. A retransmission is
  // lost once something sent after it arrived: data above `high_data`, or
  // a later retransmission. NextSeg() skips what is in flight here.
  static constexpr std::size_t kMaxRetransmissions = 6;
  struct Retransmission {
    std::uint32_t begin = 0;
    std::uint32_t high_data = 0;
    std::uint16_t len = 0;  // a FIN counts one
    std::uint16_t order = 0;
  };
  Retransmission retransmissions[kMaxRetransmissions];
  std::uint32_t high_rxt = 0;  // RFC 6675 HighRxt: the end of the last retransmission
  // RFC 8985 §6.2-6.3 outside recovery: once data above SND.UNA is SACKed,
  // the segment at SND.UNA (sent before it) is lost unless it arrives
  // within the reordering window (SRTT / 4); then recovery starts, however
  // few duplicate ACKs a small window brought.
  std::uint32_t reorder_at = 0;  // ms, when reorder_armed
  bool reorder_armed = false;
  std::uint16_t sent_order = 0;     // retransmissions sent in this recovery
  std::uint16_t arrived_order = 0;  // the latest of them known to have arrived
  std::uint8_t retransmitting = 0;  // entries of `retransmissions` in use
  std::uint8_t count = 0;           // ranges in use
  bool permitted = false;           // both SYNs carried SACK-permitted
  // RFC 6675 §5 step 4.3: the first retransmission of a recovery goes out
  // whatever pipe says.
  bool retransmit_first = false;
  // RFC 8985's RACK.reord: a hole was filled that was never sent again
  // (the path reorders); until then, in recovery every unSACKed octet below
  // the highest SACKed one counts as lost.
  bool reordering = false;
  // A FIN that arrived ahead of a hole, at fin_seq: taken once RCV.NXT
  // gets there.
  bool fin_pending = false;
  // RFC 2883 D-SACK, receiving side: the latest data that arrived a second
  // time (below RCV.NXT or inside a range held), reported once as the first
  // SACK block of the next segment, so that the sender learns its
  // retransmission was spurious. (The sending side ignores D-SACK blocks it gets: they add
  // nothing to the scoreboard.)
  bool duplicate_pending = false;
  std::uint32_t fin_seq = 0;
  Range duplicate;
};

struct TcpEndpoint {
  io::Ipv4Address address;
  std::uint16_t port = 0;
  friend constexpr bool operator==(TcpEndpoint, TcpEndpoint) = default;
};

class TcpControlBlock {
 public:
  // RFC 9293 §3.7.1: without the option the peer's MSS is 536.
  static constexpr std::uint16_t kDefaultMss = 536;
  // RFC 6298 §2.1: "a value of 1 second" before any RTT sample.
  static constexpr Duration kInitialRto = std::chrono::seconds(1);
  static constexpr Duration kMinRto = std::chrono::milliseconds(200);
  // RFC 6298 §2.5: "A maximum value MAY be placed on RTO provided it is at
  // least 60 seconds."
  static constexpr Duration kMaxRto = std::chrono::seconds(60);
  static constexpr Duration kAckDelay = std::chrono::milliseconds(40);
  // 2 MSL, with Linux's 30 s MSL.
  static constexpr Duration kTimeWait = std::chrono::seconds(60);
  // FIN-WAIT-2 ends after this long without a segment from the peer
  // (Linux's tcp_fin_timeout), unless the application holds the connection
  // (set_held): a peer that never sends its FIN does not hold it for ever.
  // Keep-alive does not run in a FIN-WAIT-2 that times out.
  static constexpr Duration kFinWait2Timeout = std::chrono::seconds(60);
  // Retransmissions before the connection fails (Linux: tcp_syn_retries 6;
  // for data about 15 minutes at the maximum RTO).
  static constexpr std::uint8_t kMaxSynRetries = 6;
  static constexpr std::uint8_t kMaxRetries = 15;
  // RFC 1122 §4.2.3.6 / Linux: probes 75 s apart, 9 unanswered end it.
  static constexpr Duration kKeepAliveInterval = std::chrono::seconds(75);
  static constexpr std::uint8_t kKeepAliveProbes = 9;
  // RFC 5961 §7: challenge ACKs are rate limited; at most this many a second.
  static constexpr std::uint8_t kChallengeAcksPerSecond = 10;

  // `sack`, when given, turns SACK on (offered in SYNs; used when the peer
  // offers it too); it must outlive the block.
  TcpControlBlock(ByteSpan rx_storage, ByteSpan tx_storage, TcpSackScoreboard* sack = nullptr);
  TcpControlBlock(const TcpControlBlock&) = delete;
  TcpControlBlock& operator=(const TcpControlBlock&) = delete;

  // --- Opening -------------------------------------------------------------
  // Passive open: wait for a SYN to `local` (address 0.0.0.0: any). `mss` is
  // the largest segment this host takes (link MTU - 40). failed_precondition
  // unless closed.
  Status listen(TcpEndpoint local, std::uint16_t mss);
  // Active open: SYN from `local` to `remote` with initial sequence number
  // `iss` (RFC 6528: the interface computes it). failed_precondition unless
  // closed; invalid_argument for port 0 or an unspecified address.
  Status connect(TcpEndpoint local, TcpEndpoint remote, std::uint32_t iss, std::uint16_t mss,
                 Instant now);
  // A listener's backlog: this (closed) block takes the SYN `syn` that
  // arrived from `remote` to `local` and answers SYN,ACK, as a block in
  // LISTEN would. failed_precondition unless closed and `syn` is a SYN
  // without ACK or RST.
  Status accept_syn(TcpEndpoint local, TcpEndpoint remote, const wire::TcpRepr& syn,
                    std::uint32_t iss, std::uint16_t mss, Instant now);

  // --- The application's side ----------------------------------------------
  // Copies as much of `data` as the send buffer takes; returns how much
  // (0 when full). failed_precondition once closed or after close(); the
  // connection's error (aborted, unavailable, deadline_exceeded) once it
  // failed.
  Result<std::size_t> send(ConstByteSpan data);
  // Copies received bytes into `buffer`; returns how many: 0 when none are
  // waiting (see at_end()). Errors as for send(), except that data received
  // before a FIN can still be read.
  Result<std::size_t> receive(ByteSpan buffer);
  // The received bytes up to the end of the ring, for reading in place,
  // then consume(n).
  [[nodiscard]] ConstByteSpan peek() const { return rx_.front_span(); }
  void consume(std::size_t n);
  // RFC 9293 CLOSE: send a FIN after everything queued; reading goes on.
  // The connection ends once the peer acknowledged it all (and its FIN came).
  // In LISTEN and SYN-SENT it ends at once.
  void close();
  // RFC 9293 ABORT: a RST to the peer (when synchronized), then closed.
  // Queued data is dropped.
  void abort();

  // --- The interface's side ------------------------------------------------
  // Takes a segment from `source` to `destination` (the IPv4 header's
  // addresses) that the demultiplexer matched to this block. Returns a
  // segment to send at once when the answer is a RST that the block does
  // not remember (RFC 9293's "send a reset"); other answers come from
  // dispatch(). `iss` is the initial sequence number for the connection a
  // SYN opens in LISTEN (RFC 6528; ignored in other states).
  std::optional<TcpTransmit> process(Instant now, io::Ipv4Address source,
                                     io::Ipv4Address destination, const wire::TcpRepr& segment,
                                     std::uint32_t iss = 0);
  // Where the `len` data bytes of a segment starting at `seq` go in the
  // receive ring when they are the next in order and taken whole (state
  // ESTABLISHED, FIN-WAIT-1 or -2, `seq` is RCV.NXT, no out-of-order data
  // held, room for all of them in one piece); empty otherwise. The interface
  // copies a segment's payload there while it verifies the checksum (one
  // pass over the bytes, RFC 1071 §4's copy-and-checksum); process() then
  // finds the data in place. Writing there changes nothing until process()
  // takes the segment.
  [[nodiscard]] ByteSpan in_order_slot(std::uint32_t seq, std::size_t len);
  // An ICMP destination unreachable (RFC 792 code `code`) quoting a
  // segment of this connection with sequence number `seq`. Taken only when
  // SND.UNA <= seq < SND.MAX (RFC 5927 §4.1: the quoted segment must be
  // one in flight); returns whether it was. In SYN-SENT it ends the
  // attempt, as Linux does: unavailable (refused) for protocol or port
  // unreachable, not_found (no route) for the others. In other states it
  // is a soft error (RFC 1122 §4.2.3.9; RFC 5461, Linux: no abort),
  // reported instead of deadline_exceeded if the connection then times
  // out; an acceptable ACK forgets it. Fragmentation needed (code 4) is
  // ignored (there is no path MTU discovery), as are codes above 15.
  bool process_unreachable(std::uint8_t code, std::uint32_t seq);
  // The next segment to send, if any (SYN, data, FIN, ACK, window update,
  // probe, keep-alive, RST), after running the timers due at `now`.
  std::optional<TcpTransmit> dispatch(Instant now);
  // When to call dispatch() next: `now` when something is ready to send,
  // kNever when nothing is timed.
  [[nodiscard]] Instant poll_at(Instant now) const;

  // --- Settings ------------------------------------------------------------
  // Nagle's algorithm (RFC 9293 §3.7.4), on by default.
  void set_nagle(bool enabled) { set_flag(kNoDelay, !enabled); }
  // Timestamps (RFC 7323) offered in SYNs and taken when the peer's SYN
  // has them; off by default in a bare block, on in every TcpSocket.
  // Takes effect at the next open.
  void set_timestamps(bool enabled) { offer_timestamps_ = enabled; }
  // CUBIC by default; takes effect at the next loss.
  void set_congestion_control(TcpCongestionControl algorithm) {
    new_reno_ = algorithm == TcpCongestionControl::new_reno;
  }
  [[nodiscard]] TcpCongestionControl congestion_control() const {
    return new_reno_ ? TcpCongestionControl::new_reno : TcpCongestionControl::cubic;
  }
  // Keep-alive after `idle` without segments (whole seconds, at most 18 h);
  // zero turns it off (the default).
  void set_keep_alive(Duration idle);
  // The application holds the connection (a TcpStream does). As in Linux,
  // only a connection nobody holds times out in FIN-WAIT-2: one the
  // application half-closed and still reads from waits for the peer's FIN
  // as long as it likes (keep-alive, if on, watches the peer). Not held by
  // default: a bare block times out.
  void set_held(bool held);

  // --- State ---------------------------------------------------------------
  [[nodiscard]] TcpState state() const { return state_; }
  [[nodiscard]] bool is_open() const { return state_ != TcpState::closed; }
  // Established or later, until closed: data may flow.
  [[nodiscard]] bool is_synchronized() const;
  [[nodiscard]] TcpEndpoint local() const { return {local_address_, local_port_}; }
  [[nodiscard]] TcpEndpoint remote() const { return {remote_address_, remote_port_}; }
  // Why the connection ended: ok when it closed normally or is open;
  // unavailable (refused: RST to our SYN), aborted (reset by the peer),
  // deadline_exceeded (retransmissions or keep-alives went unanswered, or
  // FIN-WAIT-2 saw nothing from the peer for kFinWait2Timeout), not_found
  // (no route: an ICMP unreachable; see process_unreachable).
  [[nodiscard]] Status error() const;
  // The peer sent a FIN and every byte before it has been read.
  [[nodiscard]] bool at_end() const;
  [[nodiscard]] std::size_t receive_queued() const { return rx_.size(); }
  // Room in the send buffer (0 after close()).
  [[nodiscard]] std::size_t send_room() const;
  // Bytes in the send buffer: not yet sent or not yet acknowledged.
  [[nodiscard]] std::size_t send_queued() const { return tx_.size(); }
  [[nodiscard]] std::uint16_t send_mss() const { return snd_mss_; }
  [[nodiscard]] std::uint32_t send_window() const { return snd_wnd_; }
  [[nodiscard]] Duration retransmission_timeout() const {
    return std::chrono::milliseconds(rto_ms_);
  }
  [[nodiscard]] Duration smoothed_rtt() const;
  // Congestion control state (RFC 5681): on by default.
  [[nodiscard]] std::uint32_t congestion_window() const { return cwnd_; }
  [[nodiscard]] std::uint32_t slow_start_threshold() const { return ssthresh_; }
  [[nodiscard]] bool in_fast_recovery() const { return flag(kRecovery); }
  // Both sides sent SACK-permitted (RFC 2018 §2): SACK blocks go out with
  // ACKs and loss recovery follows RFC 6675.
  [[nodiscard]] bool sack_enabled() const { return sack_ != nullptr && sack_->permitted; }
  // Both SYNs carried the timestamps option (RFC 7323 §3.2): every segment
  // carries one, RTTs are measured from the echoed TSval, and PAWS drops
  // old duplicates. The MSS then leaves room for its 12 bytes.
  [[nodiscard]] bool timestamps_enabled() const { return timestamps_; }

 private:
  // flags_ bits.
  static constexpr std::uint16_t kFinQueued = 1u << 0;   // close() called: FIN after the data
  static constexpr std::uint16_t kNoDelay = 1u << 1;     // Nagle off
  static constexpr std::uint16_t kAckNow = 1u << 2;      // an ACK is owed at once
  static constexpr std::uint16_t kAckDelayed = 1u << 3;  // ack_at_ armed
  static constexpr std::uint16_t kRtoArmed = 1u << 4;    // rto_at_ armed
  static constexpr std::uint16_t kTimerArmed =
      1u << 5;  // timer_at_ armed (keep-alive, FIN-WAIT-2, TIME-WAIT)
  static constexpr std::uint16_t kHasRtt = 1u << 6;     // SRTT/RTTVAR hold a sample
  static constexpr std::uint16_t kTimingRtt = 1u << 7;  // rtt_seq_ is being timed
  static constexpr std::uint16_t kPassive =
      1u << 8;  // listen(): a reset in SYN-RECEIVED goes back to LISTEN
  static constexpr std::uint16_t kWindowScale = 1u << 9;  // both sides sent the window scale option
  static constexpr std::uint16_t kProbe = 1u << 10;  // the persist timer fired: send a window probe
  static constexpr std::uint16_t kSegmentUnacked =
      1u << 11;  // one full segment received and not acknowledged
  static constexpr std::uint16_t kRstPending = 1u << 12;    // abort(): send a RST
  static constexpr std::uint16_t kKeepAliveDue = 1u << 13;  // send a keep-alive probe
  static constexpr std::uint16_t kFinAcked = 1u << 14;      // the peer acknowledged our FIN
  static constexpr std::uint16_t kRecovery = 1u << 15;      // in fast recovery (RFC 6582)
  // Why the connection ended; the soft_ ones are ICMP errors noted on an
  // open connection, not failures (yet).
  enum class Failure : std::uint8_t {
    none,
    refused,
    reset,
    timed_out,
    unreachable,
    soft_refused,
    soft_unreachable,
  };
  [[nodiscard]] bool failed() const {
    return failure_ != Failure::none && failure_ < Failure::soft_refused;
  }
  [[nodiscard]] Failure timed_out_failure() const;
  [[nodiscard]] bool fin_wait_2_times_out() const {
    return state_ == TcpState::fin_wait_2 && !held_;
  }

  [[nodiscard]] bool flag(std::uint16_t f) const { return (flags_ & f) != 0; }
  void set_flag(std::uint16_t f, bool on = true) {
    flags_ = static_cast<std::uint16_t>(on ? (flags_ | f) : (flags_ & ~f));
  }

  void reset_connection();
  // A fresh connection between these endpoints (connect, accept_syn).
  void open_between(TcpEndpoint local, TcpEndpoint remote, std::uint16_t mss);
  void reset_to_closed(Failure failure);
  void take_syn(const wire::TcpRepr& syn, std::uint32_t iss);
  void enter_time_wait(std::uint32_t now_ms);
  void take_options(const wire::TcpRepr& syn, std::uint16_t mss);
  std::optional<TcpTransmit> process_listen(io::Ipv4Address source, io::Ipv4Address destination,
                                            const wire::TcpRepr& segment, std::uint32_t iss);
  std::optional<TcpTransmit> process_syn_sent(std::uint32_t now_ms, const wire::TcpRepr& segment);
  // The common case of a receiver, in short (header prediction); false
  // when the segment needs the general path.
  bool take_predicted(std::uint32_t now_ms, const wire::TcpRepr& segment);
  bool acceptable(const wire::TcpRepr& segment, std::uint32_t segment_len) const;
  void challenge_ack(std::uint32_t now_ms);
  enum class AckVerdict : std::uint8_t { proceed, drop, reset };
  AckVerdict process_ack(std::uint32_t now_ms, const wire::TcpRepr& segment);
  void process_text(std::uint32_t now_ms, const wire::TcpRepr& segment);
  void process_fin();
  void take_rtt_sample(std::uint32_t now_ms, const wire::TcpRepr& segment);
  void run_timers(std::uint32_t now_ms);
  void on_retransmission_timeout(std::uint32_t now_ms);
  void restart_idle_timer(std::uint32_t now_ms);
  void recompute_rto();
  [[nodiscard]] bool may_send_data() const;
  [[nodiscard]] std::uint32_t window_edge_offer() const;
  std::uint16_t advertise_window();
  // How many data bytes to send now from snd_nxt_, and whether a FIN goes
  // with them; false when nothing is to be sent.
  bool plan_data(std::uint32_t& seq, std::size_t& len, bool& fin) const;
  bool plan_sack_recovery(std::uint32_t& seq, std::size_t& len, bool& fin) const;
  void take_sack_blocks(const wire::TcpRepr& segment);
  void note_reordering(const wire::TcpRepr& segment);
  [[nodiscard]] bool reorder_window_applies() const;
  [[nodiscard]] bool may_start_recovery() const;
  void arm_reorder_timer(std::uint32_t now_ms);
  void enter_sack_recovery();
  [[nodiscard]] std::uint8_t snd_wscale() const { return wscales_ & 0x0f; }
  [[nodiscard]] std::uint8_t rcv_wscale() const { return static_cast<std::uint8_t>(wscales_ >> 4); }
  void set_wscales(std::uint8_t snd, std::uint8_t rcv) {
    wscales_ = static_cast<std::uint8_t>((snd & 0x0f) | (rcv << 4));
  }
  [[nodiscard]] bool wants_to_send() const;
  // Always engaged: built where the caller's result lives (a TcpTransmit
  // copied out of a local is a 144-byte copy per segment, whose wide loads
  // of narrower stores stall on x86-64).
  std::optional<TcpTransmit> make_segment(std::uint32_t now_ms, std::uint32_t seq,
                                          std::uint8_t flags);
  [[nodiscard]] std::uint32_t ts_value(std::uint32_t now_ms) const { return now_ms + ts_offset_; }
  std::optional<TcpTransmit> send_data(std::uint32_t now_ms, std::uint32_t seq, std::size_t len,
                                       bool fin);
  void arm_rto(std::uint32_t now_ms);
  void init_congestion_control();
  void on_new_ack(std::uint32_t now_ms, std::uint32_t acked);
  // A loss: the new ssthresh (and CUBIC's W_max).
  void reduce_on_loss();
  void grow_cubic(std::uint32_t now_ms, std::uint32_t acked);
  void on_duplicate_ack();
  void enter_loss_window();
  [[nodiscard]] std::uint32_t flight_size() const { return snd_max_ - snd_una_; }
  void store_out_of_order(std::uint32_t seq, ConstByteSpan data);
  // RFC 2883: [begin, end) arrived again; reported in the next SACK option.
  void note_duplicate(std::uint32_t begin, std::uint32_t end);
  // A segment dropped as old (unacceptable, or by PAWS): its data below
  // RCV.NXT is a duplicate.
  void note_old_duplicate(const wire::TcpRepr& segment);

  ByteRing rx_;
  ByteRing tx_;
  TcpSackScoreboard* sack_ = nullptr;
  io::Ipv4Address local_address_;
  io::Ipv4Address remote_address_;
  std::uint16_t local_port_ = 0;
  std::uint16_t remote_port_ = 0;

  // RFC 9293 §3.3.1's send sequence variables. snd_max_ is the highest
  // SND.NXT so far: after a timeout snd_nxt_ goes back to snd_una_.
  std::uint32_t snd_una_ = 0;
  std::uint32_t snd_nxt_ = 0;
  std::uint32_t snd_max_ = 0;
  std::uint32_t snd_wnd_ = 0;  // scaled
  std::uint32_t snd_wl1_ = 0;
  std::uint32_t snd_wl2_ = 0;
  std::uint32_t max_snd_wnd_ = 0;  // RFC 5961 §5.2's MAX.SND.WND
  // Receive: RCV.NXT and the right edge of the window last advertised.
  std::uint32_t rcv_nxt_ = 0;
  std::uint32_t rcv_adv_ = 0;
  // Out-of-order data in the receive ring: [begin, end) sequence ranges,
  // empty when begin == end; the most recently grown first (the order of
  // RFC 2018 §4's SACK blocks).
  // With a scoreboard, its `received` ranges are used instead (more of
  // them, outside the block).
  using SeqRange = TcpSackScoreboard::Range;
  SeqRange out_of_order_[1];
  // RFC 7323 timestamps: TS.Recent (the peer's TSval to echo) and this
  // connection's offset of TSval from the clock (§5.4: not the clock
  // itself; derived from the ISS, itself keyed-random per RFC 6528).
  std::uint32_t ts_recent_ = 0;
  std::uint32_t ts_offset_ = 0;
  [[nodiscard]] std::span<SeqRange> received_ranges();
  // Out-of-order data is held in the receive ring (any range in use).
  [[nodiscard]] bool holds_out_of_order();

  // Times are milliseconds of the caller's clock, wrapping (49 days).
  std::uint32_t rto_at_ = 0;
  std::uint32_t timer_at_ = 0;  // keep-alive, FIN-WAIT-2 or TIME-WAIT
  std::uint32_t rtt_seq_ = 0;
  // Congestion control (RFC 5681, NewReno per RFC 6582, CUBIC per RFC 9438): the congestion
  // window, the slow-start threshold, and `recover` (the highest sequence
  // sent when fast recovery began).
  std::uint32_t cwnd_ = 0;
  std::uint32_t ssthresh_ = 0;
  std::uint32_t recover_ = 0;
  std::uint16_t srtt8_ = 0;        // SRTT in 1/8 ms (at most 8 s)
  std::uint16_t rttvar4_ = 0;      // RTTVAR in 1/4 ms (at most 16 s)
  std::uint16_t rtt_sent_at_ = 0;  // low 16 bits of the ms clock (RTTs < 65 s)
  std::uint16_t ack_at_ = 0;       // low 16 bits of the ms clock (40 ms ahead)
  // CUBIC (RFC 9438): W_max in segments, and when the current congestion
  // avoidance epoch began, in units of kCubicTick of the clock's low bits
  // (0: not begun).
  std::uint16_t cubic_w_max_ = 0;
  std::uint16_t cubic_epoch_ = 0;
  std::uint16_t rto_ms_ = 1000;
  std::uint16_t keep_alive_s_ = 0;
  std::uint16_t snd_mss_ = kDefaultMss;
  std::uint16_t local_mss_ = kDefaultMss;
  std::uint16_t flags_ = 0;
  TcpState state_ = TcpState::closed;
  Failure failure_ = Failure::none;
  // Window scale shifts (RFC 7323), at most 14 each: the peer's in the low
  // nibble, ours in the high one (one byte, to keep the block small).
  std::uint8_t wscales_ = 0;
  std::uint8_t retries_ : 7 = 0;
  bool held_ : 1 = false;  // set_held(): the application holds the connection
  std::uint8_t dup_acks_ = 0;
  // RFC 5961 §7's count, in the second (now_ms / 1024, its low bit)
  // it began.
  std::uint8_t challenge_acks_ : 4 = 0;
  std::uint8_t challenge_second_ : 1 = 0;
  bool new_reno_ : 1 = false;
  bool offer_timestamps_ : 1 = false;
  bool timestamps_ : 1 = false;  // both SYNs carried the timestamps option
};

// RFC/issue target: smaller than lwIP's tcp_pcb (156 bytes on a 32-bit
// target), buffers excluded.
static_assert(sizeof(void*) != 4 || sizeof(TcpControlBlock) < 156,
              "the TCP control block must stay smaller than lwIP's tcp_pcb");

}  // namespace mote::net
