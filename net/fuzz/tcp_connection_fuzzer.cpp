// Feeds segments, time steps and application calls into a TCP control
// block; the fuzzer plays the peer. The first byte picks how it starts:
//   0 LISTEN   1 SYN-SENT   2 ESTABLISHED (we connected)   3 ESTABLISHED (we accepted)
// then a list of steps, each starting with an opcode byte:
//   0 advance: 2 bytes, milliseconds
//   1 segment from the peer: flags, seq and ack offsets (2 bytes each, from
//     the peer's and our initial sequence numbers: mostly near what the
//     connection expects), window (2), payload length (1), options (1: bit 0
//     MSS from the next byte, bit 1 window scale from the next byte)
//   2 raw segment: 2 bytes length, then the TCP header and payload
//     (checksums not checked)
//   3 application send: 2 bytes length   4 application receive: 2 bytes length
//   5 close   6 abort
//   7 ICMP destination unreachable: code (1 byte), quoted sequence number
//     offset (2 bytes, from our initial sequence number)
// Properties: nothing reads or writes out of bounds; every segment sent
// emits and parses back with a correct checksum; after dispatch() has sent
// everything, poll_at() is not `now`; receive() never returns more than it
// was asked for, and what is queued never exceeds the buffers; an ICMP
// error ends only a connection in SYN-SENT, and ends it with an error.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mote/net/tcp/tcp_control_block.hpp"
#include "steps.hpp"

namespace {

using mote::ByteSpan;
using mote::ConstByteSpan;
using mote::net::Instant;
using mote::net::TcpControlBlock;
using mote::net::TcpEndpoint;
using mote::net::TcpState;
using mote::net::TcpTransmit;
using mote::net::fuzz::check;
using mote::net::wire::TcpFlags;
using mote::net::wire::TcpRepr;
using mote::net::wire::TcpSegment;

constexpr mote::io::Ipv4Address kLocal(10, 0, 0, 1);
constexpr mote::io::Ipv4Address kPeer(10, 0, 0, 2);
constexpr TcpEndpoint kLocalEndpoint{kLocal, 80};
constexpr TcpEndpoint kPeerEndpoint{kPeer, 40000};
constexpr std::uint32_t kOurIss = 0xfffff000u;  // wraps soon: sequence arithmetic
constexpr std::uint32_t kPeerIss = 0x7ffffff0u;
constexpr std::size_t kRxBytes = 3000;
constexpr std::size_t kTxBytes = 5000;

std::array<std::byte, 256> payload_bytes() {
  std::array<std::byte, 256> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::byte(static_cast<std::uint8_t>(i));
  return out;
}

// Sends everything the block has; each segment must emit and parse back.
void drain(TcpControlBlock& tcb, Instant now) {
  std::vector<std::byte> buffer(TcpRepr::kMaxOptionsLen + 20 + 65535);
  for (int i = 0; i < 20000; ++i) {
    std::optional<TcpTransmit> out = tcb.dispatch(now);
    if (!out) {
      check(tcb.poll_at(now) > now || !tcb.is_open(), "poll_at() is due but dispatch() is idle");
      return;
    }
    mote::Result<std::size_t> len = out->emit(buffer);
    check(len.ok(), "a segment does not emit");
    auto segment = TcpSegment<>::checked(ConstByteSpan(buffer).first(*len));
    check(segment.ok(), "a sent segment does not check");
    auto parsed = TcpRepr::parse(*segment, out->source, out->destination);
    check(parsed.ok(), "a sent segment does not parse (checksum)");
    check(parsed->payload.size() == out->payload_len(), "the payload changed length");
    // RFC 6691: data and options together within the MSS the peer took
    // (send_mss() leaves room for the timestamps once they are on).
    if (out->payload_len() != 0) {
      const std::size_t options = out->header.header_len() - 20;
      const std::size_t room = tcb.send_mss() + (tcb.timestamps_enabled() ? 12u : 0u);
      check(out->payload_len() + options <= room, "a segment overruns the MSS");
    }
  }
  check(false, "dispatch() never runs dry");
}

void feed(TcpControlBlock& tcb, Instant now, const TcpRepr& segment) {
  std::optional<TcpTransmit> reply = tcb.process(now, kPeer, kLocal, segment, kOurIss);
  if (reply) {
    check(reply->header.flags.rst(), "an immediate reply is a RST");
    std::vector<std::byte> buffer(reply->buffer_len());
    check(reply->emit(buffer).ok(), "a RST does not emit");
  }
}

TcpRepr peer_segment(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
                     std::uint16_t window) {
  TcpRepr repr;
  repr.source_port = kPeerEndpoint.port;
  repr.destination_port = kLocalEndpoint.port;
  repr.seq_number = seq;
  repr.ack_number = ack;
  repr.flags = TcpFlags(flags);
  repr.window_len = window;
  return repr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mote::net::fuzz::StepReader steps(std::span<const std::uint8_t>(data, size));
  std::array<std::byte, kRxBytes> rx{};
  std::array<std::byte, kTxBytes> tx{};
  // SACK on (a scoreboard) when bit 2 of the start opcode is set.
  mote::net::TcpSackScoreboard scoreboard;
  const std::optional<std::uint8_t> start = steps.opcode();
  if (!start) return 0;
  TcpControlBlock tcb(rx, tx, (*start & 4) != 0 ? &scoreboard : nullptr);
  // Timestamps (RFC 7323) offered when bit 3 is set; the peer's SYNs carry
  // them then too, its TSvals near kPeerTsval.
  const bool timestamps = (*start & 8) != 0;
  tcb.set_timestamps(timestamps);
  constexpr std::uint32_t kPeerTsval = 0x7fff0000;
  const mote::net::wire::TcpTimestamps peer_timestamps{kPeerTsval, 0};
  static const std::array<std::byte, 256> kPayload = payload_bytes();
  static const std::array<std::byte, kTxBytes> kSendData{};
  Instant now{};

  switch (*start % 4) {
    case 0: check(tcb.listen(kLocalEndpoint, 1460).ok(), "listen"); break;
    case 1:
      check(tcb.connect(kLocalEndpoint, kPeerEndpoint, kOurIss, 1460, now).ok(), "connect");
      drain(tcb, now);
      break;
    case 2: {
      check(tcb.connect(kLocalEndpoint, kPeerEndpoint, kOurIss, 1460, now).ok(), "connect");
      drain(tcb, now);
      TcpRepr synack = peer_segment(TcpFlags::kSyn | TcpFlags::kAck, kPeerIss, kOurIss + 1, 8000);
      synack.max_segment_size = 536;
      synack.window_scale = 2;
      synack.sack_permitted = true;
      if (timestamps) synack.timestamps = peer_timestamps;
      feed(tcb, now, synack);
      check(tcb.state() == TcpState::established, "SYN,ACK establishes");
      break;
    }
    default: {
      check(tcb.listen(kLocalEndpoint, 1460).ok(), "listen");
      TcpRepr syn = peer_segment(TcpFlags::kSyn, kPeerIss, 0, 8000);
      syn.sack_permitted = true;
      if (timestamps) syn.timestamps = peer_timestamps;
      feed(tcb, now, syn);
      drain(tcb, now);
      feed(tcb, now, peer_segment(TcpFlags::kAck, kPeerIss + 1, kOurIss + 1, 8000));
      check(tcb.state() == TcpState::established, "ACK establishes");
      break;
    }
  }
  drain(tcb, now);

  while (std::optional<std::uint8_t> op = steps.opcode()) {
    switch (*op % 8) {
      case 0: {
        const std::optional<std::uint16_t> ms = steps.u16();
        if (!ms) return 0;
        now += std::chrono::milliseconds(*ms);
        break;
      }
      case 1: {
        const std::optional<std::uint8_t> flags = steps.opcode();
        const std::optional<std::uint16_t> seq = steps.u16();
        const std::optional<std::uint16_t> ack = steps.u16();
        const std::optional<std::uint16_t> window = steps.u16();
        const std::optional<std::uint8_t> length = steps.opcode();
        const std::optional<std::uint8_t> options = steps.opcode();
        if (!flags || !seq || !ack || !window || !length || !options) return 0;
        // Offsets are signed: near the start, either side.
        TcpRepr segment = peer_segment(
            *flags, kPeerIss + static_cast<std::uint32_t>(static_cast<std::int16_t>(*seq)),
            kOurIss + static_cast<std::uint32_t>(static_cast<std::int16_t>(*ack)), *window);
        segment.payload = ConstByteSpan(kPayload).first(*length);
        if ((*options & 1) != 0) {
          const std::optional<std::uint8_t> mss = steps.opcode();
          if (!mss) return 0;
          segment.max_segment_size = *mss;
        }
        if ((*options & 2) != 0) {
          const std::optional<std::uint8_t> scale = steps.opcode();
          if (!scale) return 0;
          segment.window_scale = static_cast<std::uint8_t>(*scale % 15);
        }
        if ((*options & 4) != 0) segment.sack_permitted = true;
        if ((*options & 16) != 0) {
          // TSval near the peer's, either side (PAWS), and any echo.
          const std::optional<std::uint16_t> tsval = steps.u16();
          const std::optional<std::uint16_t> echo = steps.u16();
          if (!tsval || !echo) return 0;
          segment.timestamps = mote::net::wire::TcpTimestamps{
              kPeerTsval + static_cast<std::uint32_t>(static_cast<std::int16_t>(*tsval)),
              static_cast<std::uint32_t>(*echo) << 8};
        }
        if ((*options & 8) != 0) {
          // SACK blocks near what we sent, either side.
          const std::optional<std::uint8_t> count = steps.opcode();
          if (!count) return 0;
          for (std::uint8_t i = 0; i < *count % 5; ++i) {
            const std::optional<std::uint16_t> left = steps.u16();
            const std::optional<std::uint16_t> right = steps.u16();
            if (!left || !right) return 0;
            segment.sack_blocks.push_back(
                {kOurIss + static_cast<std::uint32_t>(static_cast<std::int16_t>(*left)),
                 kOurIss + static_cast<std::uint32_t>(static_cast<std::int16_t>(*right))});
          }
        }
        feed(tcb, now, segment);
        break;
      }
      case 2: {
        const std::optional<std::vector<std::byte>> bytes = steps.message();
        if (!bytes) return 0;
        auto segment = TcpSegment<>::checked(*bytes);
        if (!segment.ok()) break;
        auto parsed =
            TcpRepr::parse(*segment, kPeer, kLocal, mote::net::wire::ChecksumMode::ignore);
        if (!parsed.ok()) break;
        feed(tcb, now, *parsed);
        break;
      }
      case 3: {
        const std::optional<std::uint16_t> length = steps.u16();
        if (!length) return 0;
        const std::size_t before = tcb.send_queued();
        mote::Result<std::size_t> n =
            tcb.send(ConstByteSpan(kSendData).first(std::min<std::size_t>(*length, kTxBytes)));
        if (n.ok()) check(tcb.send_queued() == before + *n, "send() queued what it said");
        check(tcb.send_queued() <= kTxBytes, "the send buffer overflowed");
        break;
      }
      case 4: {
        const std::optional<std::uint16_t> length = steps.u16();
        if (!length) return 0;
        std::vector<std::byte> buffer(std::min<std::size_t>(*length, 4096));
        mote::Result<std::size_t> n = tcb.receive(buffer);
        if (n.ok()) check(*n <= buffer.size(), "receive() returned more than asked");
        check(tcb.receive_queued() <= kRxBytes, "the receive buffer overflowed");
        break;
      }
      case 5: tcb.close(); break;
      case 6: tcb.abort(); break;
      default: {
        const std::optional<std::uint8_t> code = steps.opcode();
        const std::optional<std::uint16_t> seq = steps.u16();
        if (!code || !seq) return 0;
        const TcpState before = tcb.state();
        const bool taken = tcb.process_unreachable(
            *code, kOurIss + static_cast<std::uint32_t>(static_cast<std::int16_t>(*seq)));
        check(tcb.state() == before || (taken && before == TcpState::syn_sent),
              "an ICMP error changed the state");
        if (tcb.state() != before) check(!tcb.error().ok(), "a failed connect without an error");
        break;
      }
    }
    drain(tcb, now);
  }
  return 0;
}
