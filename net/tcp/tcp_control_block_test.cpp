// The TCP control block, grouped by connection state, with explicit time:
// two blocks exchanging real segments (emitted and parsed by the wire
// code, checksums on) over a test link that can drop, reorder and
// duplicate, plus hand-made segments for the edge cases.

#include "mote/net/tcp/tcp_control_block.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

#include "../testdata/byte_pattern.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using io::Ipv4Address;
using wire::TcpFlags;
using wire::TcpRepr;

constexpr Ipv4Address kClientAddress(10, 0, 0, 1);
constexpr Ipv4Address kServerAddress(10, 0, 0, 2);
constexpr TcpEndpoint kClient{kClientAddress, 49152};
constexpr TcpEndpoint kServer{kServerAddress, 80};
constexpr std::uint32_t kClientIss = 1000;
constexpr std::uint32_t kServerIss = 5000;
constexpr std::uint16_t kMss = 1460;

Instant at(Duration d) { return Instant(d); }

std::vector<std::byte> pattern(std::size_t n, std::uint32_t seed = 7) {
  return test_support::byte_pattern(n, seed);
}

// A segment on the wire: the bytes emit() wrote, and who sent it.
struct Packet {
  std::vector<std::byte> bytes;
  Ipv4Address source;
  Ipv4Address destination;

  [[nodiscard]] TcpRepr repr() const {
    auto segment = wire::TcpSegment<>::checked(bytes);
    EXPECT_TRUE(segment.ok());
    auto parsed = TcpRepr::parse(*segment, source, destination);
    EXPECT_TRUE(parsed.ok());
    return *parsed;
  }
};

Packet to_packet(const TcpTransmit& out) {
  Packet packet{std::vector<std::byte>(out.buffer_len()), out.source, out.destination};
  auto len = out.emit(packet.bytes);
  EXPECT_TRUE(len.ok());
  return packet;
}

// A hand-made segment from `from` to `to`.
Packet segment(TcpEndpoint from, TcpEndpoint to, std::uint32_t seq, std::uint32_t ack,
               std::uint8_t flags, std::uint16_t window = 65535, std::string_view data = {}) {
  TcpTransmit out;
  out.source = from.address;
  out.destination = to.address;
  out.header.source_port = from.port;
  out.header.destination_port = to.port;
  out.header.seq_number = seq;
  out.header.ack_number = ack;
  out.header.flags = TcpFlags(flags);
  out.header.window_len = window;
  out.payload_head = bytes_of(data);
  return to_packet(out);
}

// A block with its buffers; with kSack, a SACK scoreboard too.
template <std::size_t kRx = 4096, std::size_t kTx = 4096, bool kSack = false>
struct Host {
  std::array<std::byte, kRx> rx{};
  std::array<std::byte, kTx> tx{};
  TcpSackScoreboard scoreboard;
  TcpControlBlock tcb{rx, tx, kSack ? &scoreboard : nullptr};
  std::vector<std::byte> received;

  // Everything dispatch() has now.
  std::vector<Packet> drain(Instant now) {
    std::vector<Packet> out;
    while (auto transmit = tcb.dispatch(now)) {
      out.push_back(to_packet(*transmit));
      if (out.size() > 10000) break;
    }
    return out;
  }
  void deliver(const Packet& packet, Instant now, std::vector<Packet>* replies = nullptr) {
    const TcpRepr repr = packet.repr();
    if (auto reply = tcb.process(now, packet.source, packet.destination, repr, kServerIss)) {
      if (replies != nullptr) replies->push_back(to_packet(*reply));
    }
  }
  void read_all() {
    std::array<std::byte, 700> buffer{};
    for (;;) {
      auto n = tcb.receive(buffer);
      if (!n.ok() || *n == 0) return;
      received.insert(received.end(), buffer.begin(), buffer.begin() + *n);
    }
  }
};

// Two hosts and the link between them. The link delivers after `delay`
// and passes each packet through `filter`, which may drop it (false).
template <typename A, typename B>
struct Network {
  Network(A& a_host, B& b_host) : a(a_host), b(b_host) {}

  A& a;
  B& b;
  Duration delay = 1ms;
  Instant now{};
  std::function<bool(const Packet&, bool from_a)> filter;
  struct InFlight {
    Instant arrives;
    Packet packet;
    bool from_a;
  };
  std::deque<InFlight> wire;
  std::vector<Packet> log;  // every packet sent, both ways, in order
  bool read_a = true;
  bool read_b = true;

  void send_all() {
    for (auto& p : a.drain(now)) put(std::move(p), true);
    for (auto& p : b.drain(now)) put(std::move(p), false);
    if (a.tcb.poll_at(now) == now || b.tcb.poll_at(now) == now) {
      ADD_FAILURE() << "poll_at says now but nothing was sent: " << to_string(a.tcb.state()) << " "
                    << to_string(b.tcb.state());
    }
  }
  void put(Packet p, bool from_a) {
    log.push_back(p);
    if (filter && !filter(p, from_a)) return;
    wire.push_back({now + delay, std::move(p), from_a});
  }
  // Runs until `until`, or until `done` holds, stepping to the next event.
  void run(Instant until, const std::function<bool()>& done = {}) {
    for (int steps = 0; steps < 200000; ++steps) {
      send_all();
      if (done && done()) return;
      Instant next = until;
      for (auto& f : wire) next = std::min(next, f.arrives);
      next = std::min({next, a.tcb.poll_at(now), b.tcb.poll_at(now)});
      if (next <= now) next = now;
      if (next >= until) {
        now = until;
        send_all();
        return;
      }
      now = next;
      for (;;) {
        auto due = std::find_if(wire.begin(), wire.end(),
                                [&](const InFlight& f) { return f.arrives <= now; });
        if (due == wire.end()) break;
        InFlight f = std::move(*due);
        wire.erase(due);
        std::vector<Packet> replies;
        if (f.from_a) {
          b.deliver(f.packet, now, &replies);
          if (read_b) b.read_all();
        } else {
          a.deliver(f.packet, now, &replies);
          if (read_a) a.read_all();
        }
        for (auto& r : replies) put(std::move(r), !f.from_a);
        // As an interface does: what a segment calls for goes out before
        // the next segment is taken (an ACK for each, say).
        send_all();
      }
    }
    ADD_FAILURE() << "the network did not settle";
  }
};

template <typename A, typename B>
void open(Network<A, B>& net) {
  ASSERT_TRUE(net.b.tcb.listen({kServerAddress, kServer.port}, kMss).ok());
  ASSERT_TRUE(net.a.tcb.connect(kClient, kServer, kClientIss, kMss, net.now).ok());
  net.run(net.now + 1s, [&] {
    return net.a.tcb.state() == TcpState::established &&
           net.b.tcb.state() == TcpState::established && net.wire.empty();
  });
  ASSERT_EQ(net.a.tcb.state(), TcpState::established);
  ASSERT_EQ(net.b.tcb.state(), TcpState::established);
}

// The fixture of the suites whose tests all start from an established
// connection between two hosts of the same kinds: start() opens it over a
// link with the given one-way delay.
template <typename Client, typename Server>
class ConnectedHosts : public ::testing::Test {
 protected:
  void start(Duration one_way_delay = 1ms) {
    net.delay = one_way_delay;
    open(net);
  }

  Client client;
  Server server;
  Network<Client, Server> net{client, server};
};

// Sends `data` from a to b through the network until all of it arrived.
template <typename A, typename B>
void transfer(Network<A, B>& net, const std::vector<std::byte>& data, Duration limit = 600s) {
  std::size_t queued = 0;
  const Instant until = net.now + limit;
  while (net.now < until) {
    if (queued < data.size()) {
      auto n = net.a.tcb.send(ConstByteSpan(data).subspan(queued));
      ASSERT_TRUE(n.ok());
      queued += *n;
    }
    const std::size_t before = net.b.received.size();
    net.run(std::min(until, net.now + 50ms),
            [&] { return net.b.received.size() != before && queued < data.size(); });
    if (net.b.received.size() == data.size()) break;
  }
  ASSERT_EQ(net.b.received.size(), data.size());
  EXPECT_TRUE(net.b.received == data);
}

bool has(const Packet& p, std::uint8_t flags) { return p.repr().flags.has(flags); }

// The size bound (smaller than lwIP's 156-byte tcp_pcb on a 32-bit
// target, buffers excluded) is a static_assert in the header, checked by
// the Cortex-M builds; the host's 64-bit pointers make it larger here.

// --- CLOSED / LISTEN ---------------------------------------------------------

TEST(TcpClosedTest, AnswersSegmentsWithReset) {
  const Packet syn = segment(kClient, kServer, 100, 0, TcpFlags::kSyn);
  auto reset = tcp_reset_for(syn.repr());
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->flags.bits(), TcpFlags::kRst | TcpFlags::kAck);
  EXPECT_EQ(reset->seq_number, 0u);
  EXPECT_EQ(reset->ack_number, 101u);
  const Packet ack = segment(kClient, kServer, 100, 777, TcpFlags::kAck, 100, "abc");
  reset = tcp_reset_for(ack.repr());
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->flags.bits(), TcpFlags::kRst);
  EXPECT_EQ(reset->seq_number, 777u);
  EXPECT_FALSE(tcp_reset_for(segment(kClient, kServer, 1, 2, TcpFlags::kRst).repr()));
}

TEST(TcpListenTest, IgnoresResetAndResetsAnAck) {
  Host<> server;
  ASSERT_TRUE(server.tcb.listen({{}, 80}, kMss).ok());
  EXPECT_EQ(server.tcb.listen({{}, 80}, kMss), Status::failed_precondition());
  std::vector<Packet> replies;
  server.deliver(segment(kClient, kServer, 1, 2, TcpFlags::kRst), at(0ms), &replies);
  EXPECT_TRUE(replies.empty());
  server.deliver(segment(kClient, kServer, 1, 42, TcpFlags::kAck), at(0ms), &replies);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].repr().flags.bits(), TcpFlags::kRst);
  EXPECT_EQ(replies[0].repr().seq_number, 42u);
  EXPECT_EQ(server.tcb.state(), TcpState::listen);
  EXPECT_TRUE(server.drain(at(0ms)).empty());
  EXPECT_EQ(server.tcb.poll_at(at(0ms)), async::kNever);
}

TEST(TcpListenTest, SynGetsSynAckWithOptions) {
  Host<> server;
  ASSERT_TRUE(server.tcb.listen({{}, 80}, kMss).ok());
  Packet syn = segment(kClient, kServer, 100, 0, TcpFlags::kSyn, 30000);
  {
    TcpRepr r = syn.repr();
    r.max_segment_size = 1000;
    r.window_scale = 2;
    TcpTransmit t{kClientAddress, kServerAddress, r, {}, {}};
    syn = to_packet(t);
  }
  server.deliver(syn, at(0ms));
  EXPECT_EQ(server.tcb.state(), TcpState::syn_received);
  EXPECT_EQ(server.tcb.send_mss(), 1000);
  EXPECT_EQ(server.tcb.remote(), kClient);
  EXPECT_EQ(server.tcb.local(), kServer);
  auto out = server.drain(at(0ms));
  ASSERT_EQ(out.size(), 1u);
  const TcpRepr synack = out[0].repr();
  EXPECT_EQ(synack.flags.bits(), TcpFlags::kSyn | TcpFlags::kAck);
  EXPECT_EQ(synack.seq_number, kServerIss);
  EXPECT_EQ(synack.ack_number, 101u);
  EXPECT_EQ(synack.max_segment_size, kMss);
  EXPECT_EQ(synack.window_scale, 0);  // a 4 KiB buffer needs no scaling
  EXPECT_EQ(synack.window_len, 4096);
}

TEST(TcpListenTest, NoWindowScaleUnlessTheSynOfferedIt) {
  Host<200000> server;
  ASSERT_TRUE(server.tcb.listen({{}, 80}, kMss).ok());
  server.deliver(segment(kClient, kServer, 100, 0, TcpFlags::kSyn), at(0ms));
  auto out = server.drain(at(0ms));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].repr().window_scale);
  EXPECT_EQ(out[0].repr().window_len, 65535);
  EXPECT_EQ(server.tcb.send_mss(), TcpControlBlock::kDefaultMss);
}

// --- SYN-SENT ------------------------------------------------------------------

TEST(TcpSynSentTest, HandshakeNegotiatesMssAndWindowScale) {
  Host<200000, 4096> client;
  Host<100000, 4096> server;
  Network net{client, server};
  open(net);
  EXPECT_EQ(client.tcb.send_mss(), kMss);
  // The server's window came only on its SYN,ACK, which is not scaled; the
  // client's 200,000 bytes came scaled (shift 2) on its ACK.
  EXPECT_EQ(client.tcb.send_window(), 65535u);
  EXPECT_EQ(server.tcb.send_window(), 200000u);
  const TcpRepr syn = net.log[0].repr();
  EXPECT_EQ(syn.flags.bits(), TcpFlags::kSyn);
  EXPECT_EQ(syn.window_scale, 2);  // 200,000 >> 2 fits 16 bits
  EXPECT_EQ(syn.window_len, 65535);
  EXPECT_EQ(net.log.size(), 3u);  // SYN, SYN-ACK, ACK
}

TEST(TcpSynSentTest, ResetToSynIsRefused) {
  Host<> client;
  ASSERT_TRUE(client.tcb.connect(kClient, kServer, kClientIss, kMss, at(0ms)).ok());
  auto syn = client.drain(at(0ms));
  ASSERT_EQ(syn.size(), 1u);
  auto reset = tcp_reset_for(syn[0].repr());
  ASSERT_TRUE(reset);
  // A RST that does not acknowledge our SYN is not valid (RFC 5961 §3.2).
  client.deliver(segment(kServer, kClient, 0, kClientIss + 5, TcpFlags::kRst | TcpFlags::kAck),
                 at(1ms));
  EXPECT_EQ(client.tcb.state(), TcpState::syn_sent);
  client.deliver(to_packet({kServerAddress, kClientAddress, *reset, {}, {}}), at(1ms));
  EXPECT_EQ(client.tcb.state(), TcpState::closed);
  EXPECT_EQ(client.tcb.error(), Status::unavailable());
  EXPECT_EQ(client.tcb.send(bytes_of("x")).status(), Status::unavailable());
}

// ICMP destination unreachable codes (RFC 792, RFC 1122 §3.2.2.1).
constexpr std::uint8_t kNetUnreachable = 0;
constexpr std::uint8_t kHostUnreachable = 1;
constexpr std::uint8_t kPortUnreachable = 3;
constexpr std::uint8_t kFragmentationNeeded = 4;
constexpr std::uint8_t kHostProhibited = 10;

TEST(TcpSynSentTest, IcmpUnreachableEndsTheAttempt) {
  struct Case {
    std::uint8_t code;
    Status error;
  };
  for (const Case c :
       {Case{kPortUnreachable, Status::unavailable()},
        Case{2, Status::unavailable()},  // protocol unreachable
        Case{kNetUnreachable, Status::not_found()}, Case{kHostUnreachable, Status::not_found()},
        Case{kHostProhibited, Status::not_found()}}) {
    SCOPED_TRACE(c.code);
    Host<> client;
    ASSERT_TRUE(client.tcb.connect(kClient, kServer, kClientIss, kMss, at(0ms)).ok());
    // Before the SYN left, nothing is in flight to match.
    EXPECT_FALSE(client.tcb.process_unreachable(c.code, kClientIss));
    ASSERT_EQ(client.drain(at(0ms)).size(), 1u);
    // RFC 5927 §4.1: only SND.UNA <= SEG.SEQ < SND.MAX (here ISS alone).
    EXPECT_FALSE(client.tcb.process_unreachable(c.code, kClientIss + 1));
    EXPECT_FALSE(client.tcb.process_unreachable(c.code, kClientIss - 1));
    EXPECT_EQ(client.tcb.state(), TcpState::syn_sent);
    EXPECT_TRUE(client.tcb.process_unreachable(c.code, kClientIss));
    EXPECT_EQ(client.tcb.state(), TcpState::closed);
    EXPECT_EQ(client.tcb.error(), c.error);
    EXPECT_EQ(client.tcb.send(bytes_of("x")).status(), c.error);
  }
}

TEST(TcpSynSentTest, FragmentationNeededAndUnknownCodesAreIgnored) {
  Host<> client;
  ASSERT_TRUE(client.tcb.connect(kClient, kServer, kClientIss, kMss, at(0ms)).ok());
  client.drain(at(0ms));
  EXPECT_FALSE(client.tcb.process_unreachable(kFragmentationNeeded, kClientIss));
  EXPECT_FALSE(client.tcb.process_unreachable(16, kClientIss));
  EXPECT_EQ(client.tcb.state(), TcpState::syn_sent);
  EXPECT_EQ(client.tcb.error(), ok_status());
}

TEST(TcpSynSentTest, BadAckGetsReset) {
  Host<> client;
  ASSERT_TRUE(client.tcb.connect(kClient, kServer, kClientIss, kMss, at(0ms)).ok());
  client.drain(at(0ms));
  std::vector<Packet> replies;
  client.deliver(segment(kServer, kClient, 9, 77, TcpFlags::kSyn | TcpFlags::kAck), at(1ms),
                 &replies);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].repr().flags.bits(), TcpFlags::kRst);
  EXPECT_EQ(replies[0].repr().seq_number, 77u);
  EXPECT_EQ(client.tcb.state(), TcpState::syn_sent);
}

TEST(TcpSynSentTest, LostSynIsSentAgainAfterOneSecond) {
  Host<> client;
  Host<> server;
  Network net{client, server};
  int syns = 0;
  net.filter = [&](const Packet& p, bool) {
    if (has(p, TcpFlags::kSyn) && !has(p, TcpFlags::kAck)) return ++syns > 1;
    return true;
  };
  ASSERT_TRUE(server.tcb.listen({{}, 80}, kMss).ok());
  ASSERT_TRUE(client.tcb.connect(kClient, kServer, kClientIss, kMss, net.now).ok());
  net.run(at(999ms));
  EXPECT_EQ(client.tcb.state(), TcpState::syn_sent);
  net.run(at(1100ms));
  EXPECT_EQ(syns, 2);
  EXPECT_EQ(client.tcb.state(), TcpState::established);
  EXPECT_EQ(server.tcb.state(), TcpState::established);
}

TEST(TcpSynSentTest, UnansweredSynsTimeOutWithBackoff) {
  Host<> client;
  ASSERT_TRUE(client.tcb.connect(kClient, kServer, kClientIss, kMss, at(0ms)).ok());
  std::vector<Duration> sent;
  Instant now = at(0ms);
  for (int i = 0; i < 20 && client.tcb.is_open(); ++i) {
    for (auto& p : client.drain(now)) {
      EXPECT_TRUE(has(p, TcpFlags::kSyn));
      sent.push_back(now.time_since_epoch());
    }
    now = client.tcb.poll_at(now);
    client.drain(now);  // runs the timer; a retransmission comes out
    if (!client.tcb.is_open()) break;
    sent.push_back(now.time_since_epoch());
  }
  // 1 + 6 retransmissions at 1, 2, 4, 8, 16, 32 s intervals, then failure
  // 60 s later (the RTO's ceiling).
  const std::vector<Duration> expected{0s, 1s, 3s, 7s, 15s, 31s, 63s};
  EXPECT_EQ(sent, expected);
  EXPECT_EQ(client.tcb.state(), TcpState::closed);
  EXPECT_EQ(client.tcb.error(), Status::deadline_exceeded());
  EXPECT_EQ(now, at(123s));
}

TEST(TcpSynSentTest, SimultaneousOpen) {
  Host<> a;
  Host<> b;
  Network net{a, b};
  ASSERT_TRUE(a.tcb.connect(kClient, kServer, kClientIss, kMss, net.now).ok());
  ASSERT_TRUE(b.tcb.connect(kServer, kClient, kServerIss, kMss, net.now).ok());
  net.run(at(100ms));
  EXPECT_EQ(a.tcb.state(), TcpState::established);
  EXPECT_EQ(b.tcb.state(), TcpState::established);
  // SYN, SYN, SYN-ACK, SYN-ACK: no timeout was needed.
  ASSERT_GE(net.log.size(), 4u);
  EXPECT_EQ(net.log[2].repr().flags.bits(), TcpFlags::kSyn | TcpFlags::kAck);
  const auto data = pattern(3000);
  transfer(net, data);
}

// RFC 7323 timestamps: offered in the SYN (TSecr 0), answered in the
// SYN,ACK only when both sides enable them; then every segment carries
// TSval and echoes the peer's latest, and data leaves room for the option.
TEST(TcpSynSentTest, HandshakeNegotiatesTimestamps) {
  for (const bool server_offers : {true, false}) {
    Host<> client;
    Host<> server;
    client.tcb.set_timestamps(true);
    server.tcb.set_timestamps(server_offers);
    Network net{client, server};
    net.delay = 10ms;
    open(net);
    const TcpRepr syn = net.log[0].repr();
    ASSERT_TRUE(syn.timestamps.has_value());
    EXPECT_EQ(syn.timestamps->echo_reply, 0u);
    const TcpRepr syn_ack = net.log[1].repr();
    EXPECT_EQ(syn_ack.timestamps.has_value(), server_offers);
    EXPECT_EQ(client.tcb.timestamps_enabled(), server_offers);
    EXPECT_EQ(server.tcb.timestamps_enabled(), server_offers);
    EXPECT_EQ(client.tcb.send_mss(), server_offers ? kMss - 12u : kMss);
    if (server_offers) {
      EXPECT_EQ(syn_ack.timestamps->echo_reply, syn.timestamps->value);
    }
    transfer(net, pattern(3 * kMss));
    for (std::size_t i = 2; i < net.log.size(); ++i) {
      const TcpRepr repr = net.log[i].repr();
      EXPECT_EQ(repr.timestamps.has_value(), server_offers) << i;
      // No segment exceeds the MSS with its options (RFC 6691).
      EXPECT_LE(repr.payload.size() + (repr.timestamps ? 12u : 0u), kMss);
    }
  }
}

// An established connection between two default hosts; the suite's other
// tests are under ESTABLISHED.
class TcpEstablishedTest : public ConnectedHosts<Host<>, Host<>> {};

// RFC 7323 §4 (RTTM) and §5 (PAWS), with explicit time.
TEST_F(TcpEstablishedTest, TimestampsEchoMeasureAndDropOldDuplicates) {
  client.tcb.set_timestamps(true);
  server.tcb.set_timestamps(true);
  start(30ms);
  // Each ACK echoes the TSval of the data segment that drew it; TSvals
  // move with the clock (1 ms ticks).
  ASSERT_EQ(*client.tcb.send(pattern(100)), 100u);
  const std::size_t first = net.log.size();
  net.run(net.now + 100ms);
  const TcpRepr data = net.log[first].repr();
  TcpRepr ack;
  for (std::size_t i = first; i < net.log.size(); ++i) {
    if (net.log[i].source == kServerAddress) ack = net.log[i].repr();
  }
  ASSERT_TRUE(data.timestamps && ack.timestamps);
  EXPECT_EQ(ack.timestamps->echo_reply, data.timestamps->value);
  EXPECT_GE(ack.timestamps->value - data.timestamps->echo_reply, 30u);  // one way
  // The RTT measured from the echo: 60 ms.
  EXPECT_GE(client.tcb.smoothed_rtt(), 55ms);
  EXPECT_LE(client.tcb.smoothed_rtt(), 65ms);
  // PAWS: a segment in the window but with an old TSval is an old
  // duplicate: not taken, answered with an ACK.
  const std::uint32_t rcv = kClientIss + 1 + 100;
  const auto data_with_tsval = [&](std::uint32_t tsval, std::string_view text) {
    TcpTransmit out;
    out.source = kClientAddress;
    out.destination = kServerAddress;
    out.header = segment(kClient, kServer, rcv, kServerIss + 1, TcpFlags::kAck).repr();
    out.header.timestamps = wire::TcpTimestamps{tsval, 0};
    out.payload_head = bytes_of(text);
    return to_packet(out);
  };
  const std::size_t received = server.received.size();
  server.deliver(data_with_tsval(data.timestamps->value - 1000, "stale"), net.now);
  server.read_all();
  EXPECT_EQ(server.received.size(), received);
  const std::vector<Packet> answer = server.drain(net.now);
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(answer[0].repr().ack_number, rcv);
  EXPECT_TRUE(answer[0].repr().payload.empty());
  // The same bytes with a current TSval are taken.
  server.deliver(data_with_tsval(data.timestamps->value + 200, "fresh"), net.now);
  server.read_all();
  EXPECT_EQ(server.received.size(), received + 5);
}

// --- SYN-RECEIVED ------------------------------------------------------------

TEST(TcpSynReceivedTest, LostSynAckIsSentAgainWhenTheSynRepeats) {
  Host<> client;
  Host<> server;
  Network net{client, server};
  int synacks = 0;
  net.filter = [&](const Packet& p, bool) {
    if (has(p, TcpFlags::kSyn | TcpFlags::kAck)) return ++synacks > 1;
    return true;
  };
  ASSERT_TRUE(server.tcb.listen({{}, 80}, kMss).ok());
  ASSERT_TRUE(client.tcb.connect(kClient, kServer, kClientIss, kMss, net.now).ok());
  net.run(at(1100ms));
  EXPECT_EQ(synacks, 2);
  EXPECT_EQ(client.tcb.state(), TcpState::established);
  EXPECT_EQ(server.tcb.state(), TcpState::established);
}

TEST(TcpSynReceivedTest, ResetReturnsAPassiveOpenToListen) {
  Host<> server;
  ASSERT_TRUE(server.tcb.listen({{}, 80}, kMss).ok());
  server.deliver(segment(kClient, kServer, 100, 0, TcpFlags::kSyn), at(0ms));
  server.drain(at(0ms));
  server.deliver(segment(kClient, kServer, 101, 0, TcpFlags::kRst), at(1ms));
  EXPECT_EQ(server.tcb.state(), TcpState::listen);
}

TEST(TcpSynReceivedTest, BadAckGetsReset) {
  Host<> server;
  ASSERT_TRUE(server.tcb.listen({{}, 80}, kMss).ok());
  server.deliver(segment(kClient, kServer, 100, 0, TcpFlags::kSyn), at(0ms));
  server.drain(at(0ms));
  std::vector<Packet> replies;
  server.deliver(segment(kClient, kServer, 101, kServerIss + 9, TcpFlags::kAck), at(1ms), &replies);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].repr().seq_number, kServerIss + 9);
  EXPECT_EQ(server.tcb.state(), TcpState::syn_received);
}

TEST(TcpSynReceivedTest, BacklogBlockAcceptsASyn) {
  Host<> child;
  const Packet syn = segment(kClient, kServer, 100, 0, TcpFlags::kSyn);
  ASSERT_TRUE(child.tcb.accept_syn(kServer, kClient, syn.repr(), 42, kMss, at(0ms)).ok());
  EXPECT_EQ(child.tcb.state(), TcpState::syn_received);
  auto out = child.drain(at(0ms));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].repr().seq_number, 42u);
  EXPECT_EQ(child.tcb.accept_syn(kServer, kClient, syn.repr(), 42, kMss, at(0ms)),
            Status::failed_precondition());
}

// --- ESTABLISHED -------------------------------------------------------------

// TcpEstablishedBufferSizesTest: each test picks its hosts' buffer sizes.

TEST(TcpEstablishedBufferSizesTest, BulkTransferThroughSmallBuffersBothWays) {
  Host<1000, 1500> client;
  Host<1500, 1000> server;
  Network net{client, server};
  open(net);
  const auto data = pattern(100000);
  transfer(net, data);
  // And back.
  Network back{server, client};
  back.now = net.now;
  const auto reply = pattern(50000, 99);
  transfer(back, reply);
}

TEST_F(TcpEstablishedTest, MeasuresRttAndSetsRto) {
  start(30ms);
  transfer(net, pattern(20000));
  EXPECT_GE(client.tcb.smoothed_rtt(), 55ms);
  EXPECT_LE(client.tcb.smoothed_rtt(), 110ms);  // one delayed ACK at most on top
  EXPECT_GE(client.tcb.retransmission_timeout(), TcpControlBlock::kMinRto);
  EXPECT_LE(client.tcb.retransmission_timeout(), 1s);
}

TEST_F(TcpEstablishedTest, LostSegmentAndLostRetransmission) {
  start();
  int data_segments = 0;
  std::vector<Instant> dropped;
  net.filter = [&](const Packet& p, bool from_client) {
    if (!from_client || p.repr().payload.empty()) return true;
    ++data_segments;
    // The second data segment, and its first retransmission.
    if (data_segments == 2 ||
        (dropped.size() == 1 && p.repr().seq_number == kClientIss + 1 + kMss)) {
      dropped.push_back(net.now);
      return false;
    }
    return true;
  };
  transfer(net, pattern(4000));
  ASSERT_EQ(dropped.size(), 2u);
  // The retransmission went out one RTO after, the next one two RTOs after.
  EXPECT_GE(dropped[1] - dropped[0], TcpControlBlock::kMinRto);
  EXPECT_EQ(client.tcb.error(), ok_status());
}

TEST(TcpEstablishedBufferSizesTest, ReorderingKeepsOutOfOrderData) {
  Host<8192, 8192> client;
  Host<8192, 8192> server;
  Network net{client, server};
  open(net);
  client.tcb.set_nagle(false);
  // Hold the first data segment back so that the others overtake it.
  std::optional<Packet> held;
  net.filter = [&](const Packet& p, bool from_client) {
    if (from_client && !p.repr().payload.empty() && !held &&
        p.repr().seq_number == kClientIss + 1) {
      held = p;
      return false;
    }
    return true;
  };
  // Three segments: two duplicate ACKs, too few for a fast retransmit.
  const auto data = pattern(3 * kMss);
  ASSERT_EQ(*client.tcb.send(data), data.size());
  net.run(net.now + 20ms);
  ASSERT_TRUE(held);
  EXPECT_TRUE(server.received.empty());
  // The later segments were kept: the held one completes everything.
  net.filter = nullptr;
  server.deliver(*held, net.now);
  server.read_all();
  EXPECT_TRUE(server.received == data);
}

TEST(TcpEstablishedBufferSizesTest, InOrderDataCanBePlacedInTheRingBeforeProcessing) {
  Host<8192, 8192> client;
  Host<8192, 8192> server;
  Network net{client, server};
  open(net);
  const std::uint32_t next = kClientIss + 1;
  // Only the next bytes in order, and only what fits.
  EXPECT_TRUE(server.tcb.in_order_slot(next + 1, 100).empty());
  EXPECT_TRUE(server.tcb.in_order_slot(next, 8193).empty());
  const auto data = pattern(1000);
  const ByteSpan slot = server.tcb.in_order_slot(next, data.size());
  ASSERT_EQ(slot.size(), data.size());
  // A damaged copy written there and dropped changes nothing.
  std::fill(slot.begin(), slot.end(), std::byte{0xee});
  EXPECT_EQ(server.tcb.receive_queued(), 0u);
  // The interface's path: the payload copied into the slot, then the
  // segment processed with its payload pointing there.
  std::copy(data.begin(), data.end(), slot.begin());
  const Packet packet =
      segment(kClient, kServer, next, kServerIss + 1, TcpFlags::kAck, 65535,
              std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  TcpRepr repr = packet.repr();
  repr.payload = slot;
  static_cast<void>(server.tcb.process(net.now, kClientAddress, kServerAddress, repr));
  server.read_all();
  EXPECT_TRUE(server.received == data);
  // Out-of-order data held past the queue: no slot, a damaged segment
  // written there would overwrite it.
  const auto later = pattern(100, 9);
  server.deliver(
      segment(kClient, kServer, next + 1000 + 50, kServerIss + 1, TcpFlags::kAck, 65535,
              std::string_view(reinterpret_cast<const char*>(later.data()), later.size())),
      net.now);
  EXPECT_TRUE(server.tcb.in_order_slot(next + 1000, 50).empty());
}

TEST_F(TcpEstablishedTest, DuplicatesAreHarmless) {
  start();
  net.filter = [&](const Packet& p, bool from_a) {
    net.wire.push_back({net.now + 3ms, p, from_a});  // every packet twice
    return true;
  };
  const auto data = pattern(30000);
  transfer(net, data);
  net.run(net.now + 1s);
  EXPECT_EQ(server.received.size(), data.size());
}

TEST(TcpEstablishedBufferSizesTest, RandomLossStillDeliversEverything) {
  Host<3000, 3000> client;
  Host<3000, 3000> server;
  Network net{client, server};
  open(net);
  std::uint32_t x = 12345;
  net.filter = [&](const Packet&, bool) {
    x = x * 1664525u + 1013904223u;
    return (x >> 24) >= 26;  // about 10% loss both ways
  };
  transfer(net, pattern(60000));
}

TEST(TcpEstablishedBufferSizesTest, ZeroWindowProbeAndReopening) {
  Host<2000, 8192> client;
  Host<1000, 2000> server;
  Network net{client, server};
  open(net);
  net.read_b = false;  // the server's application does not read
  const auto data = pattern(5000);
  ASSERT_EQ(*client.tcb.send(data), 5000u);
  net.run(net.now + 500ms);
  EXPECT_EQ(server.tcb.receive_queued(), 1000u);
  EXPECT_EQ(client.tcb.send_window(), 0u);
  // Probes, one octet each, with backoff; the connection stays up.
  const std::size_t before = net.log.size();
  net.run(net.now + 30s);
  int probes = 0;
  for (std::size_t i = before; i < net.log.size(); ++i) {
    if (net.log[i].source == kClientAddress && net.log[i].repr().payload.size() == 1) ++probes;
  }
  EXPECT_GE(probes, 3);
  EXPECT_LE(probes, 10);
  EXPECT_EQ(client.tcb.state(), TcpState::established);
  // The application reads: a window update reopens the flow.
  net.read_b = true;
  server.read_all();
  net.run(net.now + 5s, [&] { return server.received.size() == data.size(); });
  EXPECT_EQ(server.received.size(), data.size());
  EXPECT_TRUE(server.received == data);
}

TEST(TcpEstablishedBufferSizesTest, ReceiverDoesNotAdvertiseSillyWindows) {
  Host<> client;
  Host<4000, 4000> server;
  Network net{client, server};
  open(net);
  net.read_b = false;
  ASSERT_EQ(*client.tcb.send(pattern(4000)), 4000u);
  net.run(net.now + 1s);
  ASSERT_EQ(client.tcb.send_window(), 0u);
  // Reading 100 bytes opens less than min(buffer / 2, MSS): no update.
  std::array<std::byte, 100> small{};
  ASSERT_EQ(*server.tcb.receive(small), 100u);
  EXPECT_TRUE(server.drain(net.now).empty());
  std::array<std::byte, 2000> more{};
  ASSERT_EQ(*server.tcb.receive(more), 2000u);
  auto update = server.drain(net.now);
  ASSERT_EQ(update.size(), 1u);
  EXPECT_EQ(update[0].repr().window_len, 2100);
}

TEST_F(TcpEstablishedTest, NagleHoldsSmallSegmentsWhileDataIsInFlight) {
  start();
  ASSERT_EQ(*client.tcb.send(bytes_of("a")), 1u);
  EXPECT_EQ(client.drain(net.now).size(), 1u);
  ASSERT_EQ(*client.tcb.send(bytes_of("b")), 1u);
  EXPECT_TRUE(client.drain(net.now).empty());  // "a" is unacknowledged
  client.tcb.set_nagle(false);
  EXPECT_EQ(client.drain(net.now).size(), 1u);
}

// Minshall's Nagle: full segments in flight do not hold back a short tail
// (a window of a few segments stays full), but a second short segment
// waits for the first one's ACK.
TEST_F(TcpEstablishedTest, NagleSendsAShortTailBehindFullSegments) {
  start();
  ASSERT_EQ(*client.tcb.send(pattern(2 * kMss + 1000)), 2u * kMss + 1000);
  std::vector<Packet> out = client.drain(net.now);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].repr().payload.size(), 1000u);
  ASSERT_EQ(*client.tcb.send(pattern(10)), 10u);
  EXPECT_TRUE(client.drain(net.now).empty());  // the 1,000 bytes are unacknowledged
  // The ACK of the two full segments only: the short one is still out.
  client.deliver(
      segment(kServer, kClient, kServerIss + 1, kClientIss + 1 + 2 * kMss, TcpFlags::kAck),
      net.now + 1ms);
  EXPECT_TRUE(client.drain(net.now + 1ms).empty());
  client.deliver(
      segment(kServer, kClient, kServerIss + 1, kClientIss + 1 + 2 * kMss + 1000, TcpFlags::kAck),
      net.now + 2ms);
  out = client.drain(net.now + 2ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].repr().payload.size(), 10u);
}

TEST_F(TcpEstablishedTest, DelayedAckEverySecondSegmentOr40Ms) {
  start();
  const Instant t = net.now;
  server.deliver(
      segment(kClient, kServer, kClientIss + 1, kServerIss + 1, TcpFlags::kAck, 4096, "one"), t);
  EXPECT_TRUE(server.drain(t).empty());
  EXPECT_EQ(server.tcb.poll_at(t), t + 40ms);
  auto late = server.drain(t + 40ms);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].repr().ack_number, kClientIss + 4);
  server.deliver(
      segment(kClient, kServer, kClientIss + 4, kServerIss + 1, TcpFlags::kAck, 4096, "two"),
      t + 50ms);
  EXPECT_TRUE(server.drain(t + 50ms).empty());
  server.deliver(
      segment(kClient, kServer, kClientIss + 7, kServerIss + 1, TcpFlags::kAck, 4096, "three"),
      t + 51ms);
  auto now = server.drain(t + 51ms);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].repr().ack_number, kClientIss + 12);
}

TEST_F(TcpEstablishedTest, UnacceptableSegmentGetsAnAck) {
  start();
  server.deliver(
      segment(kClient, kServer, kClientIss + 100000, kServerIss + 1, TcpFlags::kAck, 4096, "far"),
      net.now);
  auto out = server.drain(net.now);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].repr().ack_number, kClientIss + 1);
  EXPECT_TRUE(server.received.empty());
}

TEST_F(TcpEstablishedTest, ResetValidationAndRateLimitedChallengeAcks) {
  start();
  // In the window but not RCV.NXT: a challenge ACK, the connection stays.
  int acks = 0;
  for (int i = 0; i < 20; ++i) {
    server.deliver(segment(kClient, kServer, kClientIss + 10, 0, TcpFlags::kRst), net.now);
    acks += static_cast<int>(server.drain(net.now).size());
  }
  EXPECT_EQ(acks, TcpControlBlock::kChallengeAcksPerSecond);
  EXPECT_EQ(server.tcb.state(), TcpState::established);
  // Outside the window: dropped silently.
  server.deliver(segment(kClient, kServer, kClientIss - 100, 0, TcpFlags::kRst), net.now + 2s);
  EXPECT_TRUE(server.drain(net.now + 2s).empty());
  // Exactly RCV.NXT: reset.
  server.deliver(segment(kClient, kServer, kClientIss + 1, 0, TcpFlags::kRst), net.now + 2s);
  EXPECT_EQ(server.tcb.state(), TcpState::closed);
  EXPECT_EQ(server.tcb.error(), Status::aborted());
  std::array<std::byte, 4> buffer{};
  EXPECT_EQ(server.tcb.receive(buffer).status(), Status::aborted());
}

TEST_F(TcpEstablishedTest, SynGetsChallengeAck) {
  start();
  server.deliver(segment(kClient, kServer, kClientIss + 50, 0, TcpFlags::kSyn), net.now);
  auto out = server.drain(net.now);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].repr().flags.bits(), TcpFlags::kAck);
  EXPECT_EQ(out[0].repr().ack_number, kClientIss + 1);
  EXPECT_EQ(server.tcb.state(), TcpState::established);
}

TEST_F(TcpEstablishedTest, AckOfUnsentDataIsAnsweredAndDropped) {
  start();
  server.deliver(
      segment(kClient, kServer, kClientIss + 1, kServerIss + 500, TcpFlags::kAck, 4096, "data"),
      net.now);
  auto out = server.drain(net.now);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].repr().ack_number, kClientIss + 1);  // the data was not taken
}

TEST_F(TcpEstablishedTest, RetransmissionsGiveUp) {
  start();
  net.filter = [](const Packet&, bool from_client) { return !from_client; };
  ASSERT_EQ(*client.tcb.send(bytes_of("hello")), 5u);
  net.run(net.now + 2h, [&] { return !client.tcb.is_open(); });
  EXPECT_EQ(client.tcb.error(), Status::deadline_exceeded());
}

// Keep-alive probes `source` sent: segments with SEQ = SND.NXT - 1 = `iss`
// (RFC 9293 §3.8.4) while it has sent no data, SYNs aside.
int keep_alive_probes(const std::vector<Packet>& log, Ipv4Address source, std::uint32_t iss) {
  return static_cast<int>(std::count_if(log.begin(), log.end(), [&](const Packet& p) {
    return p.source == source && p.repr().seq_number == iss && !has(p, TcpFlags::kSyn);
  }));
}

TEST_F(TcpEstablishedTest, KeepAliveProbesAndTimesOut) {
  start();
  client.tcb.set_keep_alive(10s);
  client.deliver(segment(kServer, kClient, kServerIss + 1, kClientIss + 1, TcpFlags::kAck, 4096),
                 net.now);  // any segment starts the idle timer
  const Instant idle_since = net.now;
  net.run(idle_since + 35s);
  // At 10, 20, 30 s, each answered.
  EXPECT_EQ(keep_alive_probes(net.log, kClientAddress, kClientIss), 3);
  EXPECT_EQ(client.tcb.state(), TcpState::established);
  net.filter = [](const Packet&, bool from_client) { return from_client; };
  net.run(net.now + 200s, [&] { return !client.tcb.is_open(); });
  EXPECT_EQ(client.tcb.error(), Status::deadline_exceeded());
}

// In-order data takes the short path (header prediction); it must do
// what the general path does with such a segment: restart the idle timer,
// take the text and the timestamp.
TEST_F(TcpEstablishedTest, InOrderDataOnTheShortPathRestartsTheIdleTimer) {
  start();
  server.tcb.set_keep_alive(10s);
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(*client.tcb.send(pattern(100)), 100u);
    net.run(net.now + 7s);
    server.read_all();
  }
  // 42 s with data every 7 s: the server never idled 10 s, so no probe.
  EXPECT_EQ(keep_alive_probes(net.log, kServerAddress, kServerIss), 0);
  EXPECT_EQ(server.received.size(), 600u);
  // Then silence: probes start 10 s after the last segment.
  net.run(net.now + 11s);
  EXPECT_EQ(keep_alive_probes(net.log, kServerAddress, kServerIss), 1);
}

TEST_F(TcpEstablishedTest, IcmpUnreachableIsASoftErrorReportedIfTheConnectionTimesOut) {
  start();
  net.filter = [](const Packet&, bool from_client) { return !from_client; };
  ASSERT_EQ(*client.tcb.send(bytes_of("hello")), 5u);
  net.run(net.now + 10ms);
  // RFC 5461 / Linux: an established connection is not aborted.
  EXPECT_FALSE(client.tcb.process_unreachable(kHostUnreachable, kClientIss + 6));  // not sent
  EXPECT_TRUE(client.tcb.process_unreachable(kHostUnreachable, kClientIss + 1));
  EXPECT_EQ(client.tcb.state(), TcpState::established);
  EXPECT_EQ(client.tcb.error(), ok_status());
  ASSERT_EQ(*client.tcb.send(bytes_of("!")), 1u);
  net.run(net.now + 2h, [&] { return !client.tcb.is_open(); });
  EXPECT_EQ(client.tcb.state(), TcpState::closed);
  EXPECT_EQ(client.tcb.error(), Status::not_found());  // not deadline_exceeded
}

TEST_F(TcpEstablishedTest, AnAcceptableAckForgetsAnIcmpError) {
  start();
  bool block = true;
  net.filter = [&](const Packet&, bool from_client) { return !from_client || !block; };
  ASSERT_EQ(*client.tcb.send(bytes_of("hello")), 5u);
  net.run(net.now + 10ms);
  EXPECT_TRUE(client.tcb.process_unreachable(kPortUnreachable, kClientIss + 1));
  block = false;  // the path heals: the retransmission is acknowledged
  net.run(net.now + 5s, [&] { return client.tcb.send_queued() == 0; });
  ASSERT_EQ(client.tcb.send_queued(), 0u);
  block = true;
  ASSERT_EQ(*client.tcb.send(bytes_of("!")), 1u);
  net.run(net.now + 2h, [&] { return !client.tcb.is_open(); });
  EXPECT_EQ(client.tcb.error(), Status::deadline_exceeded());
}

// --- Congestion control --------------------------------------------------------

TEST(TcpCongestionTest, SlowStartFromTheInitialWindow) {
  Host<65536, 65536> client;
  Host<65536, 65536> server;
  Network net{client, server};
  net.delay = 10ms;
  open(net);
  // RFC 6928: min(10 * MSS, max(2 * MSS, 14600)).
  EXPECT_EQ(client.tcb.congestion_window(), 14600u);
  ASSERT_EQ(*client.tcb.send(pattern(60000)), 60000u);
  // Before any ACK: exactly the initial window is out.
  std::size_t sent = 0;
  for (auto& p : client.drain(net.now)) {
    sent += p.repr().payload.size();
    net.put(std::move(p), true);
  }
  EXPECT_EQ(sent, 14600u);
  net.run(net.now + 25ms);  // one round trip: the window grew
  EXPECT_GT(client.tcb.congestion_window(), 14600u);
  EXPECT_FALSE(client.tcb.in_fast_recovery());
}

TEST(TcpCongestionTest, FastRetransmitAndRecoveryBeforeTheTimeout) {
  Host<65536, 65536> client;
  Host<65536, 65536> server;
  Network net{client, server};
  net.delay = 10ms;
  open(net);
  std::optional<Instant> dropped_at;
  std::optional<Instant> resent_at;
  bool saw_recovery = false;
  const std::uint32_t lost_seq = kClientIss + 1 + 3 * kMss;
  net.filter = [&](const Packet& p, bool from_client) {
    if (!from_client || p.repr().seq_number != lost_seq || p.repr().payload.empty()) return true;
    if (!dropped_at) {
      dropped_at = net.now;
      return false;
    }
    if (!resent_at) resent_at = net.now;
    return true;
  };
  const auto data = pattern(40000);
  std::size_t queued = *client.tcb.send(data);
  net.run(net.now + 2s, [&] {
    saw_recovery |= client.tcb.in_fast_recovery();
    if (queued < data.size()) queued += *client.tcb.send(ConstByteSpan(data).subspan(queued));
    return server.received.size() == data.size();
  });
  ASSERT_TRUE(dropped_at && resent_at);
  // Three duplicate ACKs, one round trip after the loss: well before the
  // retransmission timer (at least 200 ms).
  EXPECT_LT(*resent_at - *dropped_at, 100ms);
  EXPECT_TRUE(saw_recovery);
  EXPECT_LT(client.tcb.slow_start_threshold(), 0xffffffffu);
  EXPECT_FALSE(client.tcb.in_fast_recovery());
  EXPECT_TRUE(server.received == data);
}

TEST(TcpCongestionTest, TimeoutShrinksTheWindowToOneSegment) {
  for (const auto algorithm : {TcpCongestionControl::new_reno, TcpCongestionControl::cubic}) {
    Host<65536, 65536> client;
    Host<65536, 65536> server;
    client.tcb.set_congestion_control(algorithm);
    Network net{client, server};
    open(net);
    net.filter = [](const Packet&, bool from_client) { return !from_client; };
    ASSERT_EQ(*client.tcb.send(pattern(5 * kMss)), 5u * kMss);
    net.run(net.now + 1500ms);  // one timeout (RTO 1 s before any sample)
    EXPECT_EQ(client.tcb.congestion_window(), kMss);
    // NewReno: max(flight / 2, 2 * MSS); CUBIC: max(0.7 * flight, 2 * MSS).
    EXPECT_EQ(client.tcb.slow_start_threshold(),
              algorithm == TcpCongestionControl::new_reno ? 5u * kMss / 2 : 7u * kMss / 2);
    net.filter = nullptr;
    net.run(net.now + 5s, [&] { return server.received.size() == 5 * kMss; });
    EXPECT_EQ(server.received.size(), 5u * kMss);
  }
}

TEST(TcpCongestionTest, LimitedTransmitSendsANewSegmentOnEachOfTheFirstTwoDuplicates) {
  Host<65536, 65536> client;
  Host<65536, 65536> server;
  Network net{client, server};
  open(net);
  transfer(net, pattern(kMss));  // the windows as data segments carry them
  const std::uint32_t first = kClientIss + 1 + kMss;
  ASSERT_EQ(*client.tcb.send(pattern(30 * kMss)), 30u * kMss);
  const Instant t = net.now;
  std::vector<Packet> flight = client.drain(t);
  const std::uint32_t window = client.tcb.congestion_window() / kMss;
  ASSERT_EQ(flight.size(), window);
  // The first segment is lost; each of the next three draws a duplicate ACK.
  std::vector<Packet> duplicates;
  for (std::size_t i = 1; i <= 3; ++i) {
    server.deliver(flight[i], t + 5ms);
    for (auto& ack : server.drain(t + 5ms)) duplicates.push_back(std::move(ack));
  }
  ASSERT_EQ(duplicates.size(), 3u);
  // RFC 3042: one previously unsent segment per duplicate, beyond cwnd.
  for (std::uint32_t n = 0; n < 2; ++n) {
    client.deliver(duplicates[n], t + 10ms);
    const std::vector<Packet> out = client.drain(t + 10ms);
    ASSERT_EQ(out.size(), 1u) << n;
    EXPECT_EQ(out[0].repr().seq_number, first + (window + n) * kMss);
    EXPECT_FALSE(client.tcb.in_fast_recovery());
  }
  // The third is fast retransmit: the lost segment first.
  client.deliver(duplicates[2], t + 11ms);
  const std::vector<Packet> out = client.drain(t + 11ms);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].repr().seq_number, first);
  EXPECT_TRUE(client.tcb.in_fast_recovery());
}

TEST(TcpCongestionTest, AvoidanceGrowsOneSegmentPerRoundTripWhenAcksCoverTwoSegments) {
  Host<65536, 65536> client;
  Host<65536, 65536> server;
  client.tcb.set_congestion_control(TcpCongestionControl::new_reno);
  Network net{client, server};
  net.delay = 50ms;
  open(net);
  const auto data = pattern(1 << 20);
  std::size_t queued = 0;
  const auto top_up = [&] {
    queued += *client.tcb.send(ConstByteSpan(data).subspan(queued));
    return false;
  };
  // A timeout ends slow start: ssthresh is half the flight.
  net.filter = [](const Packet&, bool from_client) { return !from_client; };
  net.run(net.now + 400ms, top_up);
  ASSERT_LT(client.tcb.slow_start_threshold(), 0xffffffffu);
  net.filter = nullptr;
  net.run(net.now + 5s, [&] {
    top_up();
    return client.tcb.congestion_window() >= client.tcb.slow_start_threshold() + kMss;
  });
  const std::uint32_t before = client.tcb.congestion_window();
  ASSERT_GE(before, client.tcb.slow_start_threshold());
  // 20 round trips in which every second ACK is lost, so that each ACK
  // that arrives covers two segments (as a delayed-ACK receiver's do): RFC
  // 3465 byte counting still adds one MSS per round trip; counting ACKs as
  // RFC 5681 eq. 3 does would add half that.
  bool drop_ack = false;
  net.filter = [&](const Packet& p, bool from_client) {
    if (from_client || !p.repr().payload.empty()) return true;
    drop_ack = !drop_ack;
    return !drop_ack;
  };
  net.run(net.now + 2s, top_up);
  ASSERT_LT(queued, data.size());
  const std::uint32_t grown = client.tcb.congestion_window() - before;
  EXPECT_GE(grown, 17u * kMss);
  EXPECT_LE(grown, 21u * kMss);
}

// CUBIC (RFC 9438), the default: after a loss the window is 0.7 of the
// flight, climbs back fast while far below W_max, flattens near it (the
// cubic's plateau), then probes beyond.
TEST(TcpCongestionTest, CubicCutsToSevenTenthsAndClimbsBackAlongTheCubic) {
  using BigHost = Host<1 << 20, 1 << 20>;
  const auto client_storage = std::make_unique<BigHost>();
  const auto server_storage = std::make_unique<BigHost>();
  BigHost& client = *client_storage;
  BigHost& server = *server_storage;
  Network net{client, server};
  net.delay = 50ms;  // RTT 100 ms
  open(net);
  EXPECT_EQ(client.tcb.congestion_control(), TcpCongestionControl::cubic);
  const auto data = pattern(1 << 20);
  const auto top_up = [&] {
    while (client.tcb.send_room() != 0) ASSERT_TRUE(client.tcb.send(data).ok());
  };
  server.read_all();
  net.read_b = true;
  // A timeout ends slow start (ssthresh 0.7 of the initial window), then
  // congestion avoidance up to 200 segments (after a timeout K is 0: the
  // convex half of the cubic, 0.4 t^3 segments, about 8 s).
  net.filter = [](const Packet&, bool from_client) { return !from_client; };
  top_up();
  net.run(net.now + 1500ms);
  net.filter = nullptr;
  net.run(net.now + 20s, [&] {
    top_up();
    server.received.clear();
    return client.tcb.congestion_window() >= 200u * kMss;
  });
  ASSERT_GE(client.tcb.congestion_window(), 200u * kMss);
  // One segment lost: fast recovery, the window cut to 0.7 of the flight,
  // not half of it.
  bool dropped = false;
  net.filter = [&](const Packet& p, bool from_client) {
    if (!from_client || p.repr().payload.empty() || dropped) return true;
    dropped = true;
    return false;
  };
  std::uint32_t before_loss = 0;  // the window when the loss is found
  bool recovered = false;
  net.run(net.now + 5s, [&] {
    top_up();
    server.received.clear();
    recovered |= client.tcb.in_fast_recovery();
    if (!recovered) before_loss = client.tcb.congestion_window();
    return recovered && !client.tcb.in_fast_recovery();
  });
  ASSERT_TRUE(recovered);
  EXPECT_GE(client.tcb.slow_start_threshold(), before_loss * 65 / 100);
  EXPECT_LE(client.tcb.slow_start_threshold(), before_loss * 75 / 100);
  net.filter = nullptr;
  // Then the window once a round trip for 10 s. K = cubic_root(W_max *
  // (1 - 0.7) / 0.4) s, the time back to W_max: about 5.5 s.
  std::vector<std::uint32_t> windows;
  for (int i = 0; i < 100; ++i) {
    net.run(net.now + 100ms, [&] {
      top_up();
      server.received.clear();
      return false;
    });
    windows.push_back(client.tcb.congestion_window());
  }
  const double w_max = static_cast<double>(before_loss) / kMss;
  const auto k = static_cast<int>(std::cbrt(w_max * 0.3 / 0.4) * 10);  // in round trips
  ASSERT_GE(k, 50);
  ASSERT_LE(k, 60);
  const auto growth = [&](int from, int to) { return windows[to] - windows[from]; };
  // Concave before K: faster in the first second than in the one up to K;
  // flat around K; convex after it: faster again in the last second.
  EXPECT_GT(growth(0, 10), 4 * growth(k - 10, k));
  EXPECT_GT(growth(89, 99), 4 * growth(k - 5, k + 5));
  // Back at W_max by K (within two segments), and beyond it at the end.
  EXPECT_GE(windows[k], before_loss - 2 * kMss);
  EXPECT_LE(windows[k], before_loss + 2 * kMss);
  EXPECT_GT(windows[99], before_loss + 20 * kMss);
}

// At small windows and short RTTs CUBIC's curve is slower than Reno's line;
// its window then follows W_est, Reno's growth for its smaller cut (RFC
// 9438 §4.3): alpha = 3 (1 - 0.7) / (1 + 0.7), about half a segment per
// round trip.
TEST(TcpCongestionTest, CubicNeverGrowsSlowerThanRenoFriendly) {
  Host<65536, 65536> client;
  Host<65536, 65536> server;
  Network net{client, server};
  net.delay = 5ms;  // RTT 10 ms
  open(net);
  const auto data = pattern(8 << 20);
  std::size_t queued = 0;
  const auto top_up = [&] {
    queued += *client.tcb.send(ConstByteSpan(data).subspan(queued));
    return false;
  };
  // A timeout ends slow start; then slow start back up to ssthresh.
  net.filter = [](const Packet&, bool from_client) { return !from_client; };
  ASSERT_EQ(*client.tcb.send(ConstByteSpan(data).first(10 * kMss)), 10u * kMss);
  queued = 10 * kMss;
  net.run(net.now + 1500ms);
  net.filter = nullptr;
  net.run(net.now + 5s, [&] {
    top_up();
    return client.tcb.congestion_window() >= client.tcb.slow_start_threshold();
  });
  const std::uint32_t start = client.tcb.congestion_window();
  // 100 round trips: about 53 segments, against 1 for the cubic alone
  // (K = 0 after a timeout: C * 1^3 = 0.4 segments in the first second).
  net.run(net.now + 1s, top_up);
  const std::uint32_t grown = client.tcb.congestion_window() - start;
  EXPECT_GE(grown, 45u * kMss);
  EXPECT_LE(grown, 60u * kMss);
}

// --- Closing -------------------------------------------------------------------

class TcpClosingTest : public ConnectedHosts<Host<>, Host<>> {};

TEST_F(TcpClosingTest, ActiveCloseThroughTimeWait) {
  start();
  const auto data = pattern(3000);
  ASSERT_EQ(*client.tcb.send(data), data.size());
  client.tcb.close();
  EXPECT_EQ(client.tcb.state(), TcpState::fin_wait_1);
  EXPECT_EQ(client.tcb.send(bytes_of("x")).status(), Status::failed_precondition());
  net.run(net.now + 100ms);
  EXPECT_EQ(client.tcb.state(), TcpState::fin_wait_2);
  EXPECT_EQ(server.tcb.state(), TcpState::close_wait);
  EXPECT_TRUE(server.received == data);
  EXPECT_TRUE(server.tcb.at_end());
  server.tcb.close();
  EXPECT_EQ(server.tcb.state(), TcpState::last_ack);
  net.run(net.now + 100ms);
  EXPECT_EQ(server.tcb.state(), TcpState::closed);
  EXPECT_EQ(server.tcb.error(), ok_status());
  EXPECT_EQ(client.tcb.state(), TcpState::time_wait);
  EXPECT_EQ(client.tcb.poll_at(net.now), net.now - 100ms + 60s + 1ms);
  net.run(net.now + 61s);
  EXPECT_EQ(client.tcb.state(), TcpState::closed);
  EXPECT_EQ(client.tcb.error(), ok_status());
}

TEST_F(TcpClosingTest, CloseCompletesOnlyOnceAllDataIsAcknowledged) {
  start();
  net.read_b = false;
  net.filter = [](const Packet&, bool from_client) { return from_client; };  // no ACKs back
  ASSERT_EQ(*client.tcb.send(pattern(2000)), 2000u);
  client.tcb.close();
  net.run(net.now + 3s);
  EXPECT_EQ(client.tcb.state(), TcpState::fin_wait_1);
  EXPECT_EQ(client.tcb.send_queued(), 2000u);
  net.filter = nullptr;
  net.run(net.now + 10s, [&] { return client.tcb.state() == TcpState::fin_wait_2; });
  EXPECT_EQ(client.tcb.state(), TcpState::fin_wait_2);
  EXPECT_EQ(client.tcb.send_queued(), 0u);
}

TEST_F(TcpClosingTest, LostFinIsSentAgain) {
  start();
  int fins = 0;
  net.filter = [&](const Packet& p, bool from_client) {
    if (from_client && has(p, TcpFlags::kFin)) return ++fins > 1;
    return true;
  };
  client.tcb.close();
  net.run(net.now + 5s);
  EXPECT_EQ(fins, 2);
  EXPECT_EQ(server.tcb.state(), TcpState::close_wait);
  EXPECT_EQ(client.tcb.state(), TcpState::fin_wait_2);
}

TEST_F(TcpClosingTest, SimultaneousCloseGoesThroughClosing) {
  start();
  client.tcb.close();
  server.tcb.close();
  EXPECT_EQ(client.tcb.state(), TcpState::fin_wait_1);
  EXPECT_EQ(server.tcb.state(), TcpState::fin_wait_1);
  bool saw_closing = false;
  net.run(net.now + 1s, [&] {
    saw_closing |= client.tcb.state() == TcpState::closing;
    return false;
  });
  EXPECT_TRUE(saw_closing);
  EXPECT_EQ(client.tcb.state(), TcpState::time_wait);
  EXPECT_EQ(server.tcb.state(), TcpState::time_wait);
}

TEST_F(TcpClosingTest, TimeWaitAcksARetransmittedFinAndRestarts) {
  start();
  client.tcb.close();
  net.run(net.now + 100ms);
  server.tcb.close();
  net.run(net.now + 100ms);
  ASSERT_EQ(client.tcb.state(), TcpState::time_wait);
  // The server's FIN again (its ACK was lost, say).
  const Instant later = net.now + 30s;
  client.deliver(
      segment(kServer, kClient, kServerIss + 1, kClientIss + 2, TcpFlags::kFin | TcpFlags::kAck),
      later);
  auto out = client.drain(later);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].repr().ack_number, kServerIss + 2);
  EXPECT_EQ(client.tcb.poll_at(later), later + 60s);
}

// Closes the client's side and runs until the server's ACK of the FIN put
// the client in FIN-WAIT-2 (the server stays in CLOSE-WAIT); returns when.
template <typename A, typename B>
Instant enter_fin_wait_2(Network<A, B>& net) {
  net.a.tcb.close();
  net.run(net.now + 1s, [&] { return net.a.tcb.state() == TcpState::fin_wait_2; });
  EXPECT_EQ(net.a.tcb.state(), TcpState::fin_wait_2);
  EXPECT_EQ(net.b.tcb.state(), TcpState::close_wait);
  return net.now;
}

// The client's FIN-WAIT-2 times out at `timeout`: still there a
// millisecond before, closed with deadline_exceeded at it.
template <typename A, typename B>
void expect_fin_wait_2_timeout_at(Network<A, B>& net, Instant timeout) {
  net.run(timeout - 1ms);
  EXPECT_EQ(net.a.tcb.state(), TcpState::fin_wait_2);
  net.run(timeout);
  EXPECT_EQ(net.a.tcb.state(), TcpState::closed);
  EXPECT_EQ(net.a.tcb.error(), Status::deadline_exceeded());
}

std::size_t segments_from(const std::vector<Packet>& log, std::size_t first, Ipv4Address source) {
  return static_cast<std::size_t>(
      std::count_if(log.begin() + static_cast<std::ptrdiff_t>(first), log.end(),
                    [&](const Packet& p) { return p.source == source; }));
}

TEST_F(TcpClosingTest, FinWait2EndsAfter60SecondsOfSilence) {
  start();
  const Instant entered = enter_fin_wait_2(net);
  const std::size_t logged = net.log.size();
  EXPECT_EQ(client.tcb.poll_at(net.now), entered + 60s);
  expect_fin_wait_2_timeout_at(net, entered + 60s);
  // Not an end of stream: the peer's FIN never came.
  EXPECT_FALSE(client.tcb.at_end());
  EXPECT_EQ(segments_from(net.log, logged, kClientAddress), 0u);  // no RST, as Linux
  EXPECT_EQ(client.tcb.poll_at(net.now), async::kNever);
  EXPECT_EQ(server.tcb.state(), TcpState::close_wait);
}

TEST_F(TcpClosingTest, DataFromThePeerRestartsTheFinWait2Timeout) {
  start();
  const Instant entered = enter_fin_wait_2(net);
  net.read_a = false;
  net.run(entered + 50s);
  ASSERT_EQ(*server.tcb.send(bytes_of("late")), 4u);
  net.run(entered + 51s, [&] { return client.tcb.receive_queued() == 4; });
  const Instant arrived = net.now;
  net.run(arrived + 1s);  // the delayed ACK went out
  EXPECT_EQ(client.tcb.poll_at(net.now), arrived + 60s);
  net.run(entered + 100s);
  EXPECT_EQ(client.tcb.state(), TcpState::fin_wait_2);
  expect_fin_wait_2_timeout_at(net, arrived + 60s);
  // What arrived is still there to read; then the error.
  std::array<std::byte, 16> buffer{};
  auto n = client.tcb.receive(buffer);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 4u);
  EXPECT_EQ(client.tcb.receive(buffer).status(), Status::deadline_exceeded());
}

TEST_F(TcpClosingTest, AFinBeforeTheFinWait2TimeoutGoesToTimeWait) {
  start();
  const Instant entered = enter_fin_wait_2(net);
  net.run(entered + 59s);
  server.tcb.close();
  net.run(entered + 59s + 10ms);
  EXPECT_EQ(server.tcb.state(), TcpState::closed);
  ASSERT_EQ(client.tcb.state(), TcpState::time_wait);
  const Instant fin_at = entered + 59s + 1ms;
  EXPECT_EQ(client.tcb.poll_at(net.now), fin_at + 60s);  // 2 MSL from the FIN
  net.run(fin_at + 60s);
  EXPECT_EQ(client.tcb.state(), TcpState::closed);
  EXPECT_EQ(client.tcb.error(), ok_status());
}

TEST_F(TcpClosingTest, InFinWait2TheTimeoutReplacesKeepAlive) {
  start();
  client.tcb.set_keep_alive(10s);
  const Instant entered = enter_fin_wait_2(net);
  const std::size_t logged = net.log.size();
  net.run(entered + 59s);
  EXPECT_EQ(segments_from(net.log, logged, kClientAddress), 0u);  // no keep-alive probes
  client.tcb.set_keep_alive(0s);                                  // does not disarm it either
  EXPECT_EQ(client.tcb.poll_at(net.now), entered + 60s);
  expect_fin_wait_2_timeout_at(net, entered + 60s);
}

// As Linux: only a connection nobody holds times out in FIN-WAIT-2. One
// the application half-closed and still holds waits for the peer's FIN
// (here an answer 5 minutes late); let go, it times out 60 s later.
TEST_F(TcpClosingTest, AHeldHalfClosedConnectionWaitsForThePeer) {
  start();
  client.tcb.set_held(true);
  const Instant entered = enter_fin_wait_2(net);
  EXPECT_EQ(client.tcb.poll_at(net.now), async::kNever);
  net.run(entered + 300s);
  ASSERT_EQ(client.tcb.state(), TcpState::fin_wait_2);
  ASSERT_EQ(*server.tcb.send(bytes_of("slow answer")), 11u);
  server.tcb.close();
  net.run(net.now + 1s);
  EXPECT_EQ(client.tcb.state(), TcpState::time_wait);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(client.received.data()),
                             client.received.size()),
            "slow answer");
}

TEST_F(TcpClosingTest, LetGoInFinWait2TheConnectionTimesOut) {
  start();
  client.tcb.set_held(true);
  const Instant entered = enter_fin_wait_2(net);
  net.run(entered + 100s);
  ASSERT_EQ(client.tcb.state(), TcpState::fin_wait_2);
  client.tcb.set_held(false);
  EXPECT_EQ(client.tcb.poll_at(net.now), net.now);  // the timeout starts at the next dispatch
  const Instant released = net.now;
  net.run(released + 1ms);
  EXPECT_EQ(client.tcb.poll_at(net.now), released + 60s);
  expect_fin_wait_2_timeout_at(net, released + 60s);
}

TEST_F(TcpClosingTest, AbortSendsReset) {
  start();
  client.tcb.abort();
  EXPECT_EQ(client.tcb.state(), TcpState::closed);
  net.run(net.now + 10ms);
  EXPECT_EQ(server.tcb.state(), TcpState::closed);
  EXPECT_EQ(server.tcb.error(), Status::aborted());
}

}  // namespace
}  // namespace mote::net

namespace mote::net {
namespace {

// --- SACK (RFC 2018) and SACK-based recovery (RFC 6675) ----------------------

using SackHost = Host<65536, 65536, true>;
using NoSackHost = Host<65536, 65536>;  // no scoreboard: no SACK

class TcpSackTest : public ConnectedHosts<SackHost, SackHost> {};
// A client with SACK and a server without it, and the other way round.
class TcpSackToPeerWithoutSackTest : public ConnectedHosts<SackHost, NoSackHost> {};
class TcpSackFromPeerWithoutSackTest : public ConnectedHosts<NoSackHost, SackHost> {};

std::vector<wire::SackBlock> blocks_of(const Packet& p) {
  const TcpRepr repr = p.repr();
  return {repr.sack_blocks.begin(), repr.sack_blocks.end()};
}

// The sequence number of the client's n-th full segment after the SYN.
constexpr std::uint32_t client_seq(std::uint32_t n) { return kClientIss + 1 + n * kMss; }

TEST_F(TcpSackTest, SackPermittedInBothSyns) {
  start();
  EXPECT_TRUE(net.log[0].repr().sack_permitted);  // SYN
  EXPECT_TRUE(net.log[1].repr().sack_permitted);  // SYN,ACK
  EXPECT_TRUE(client.tcb.sack_enabled());
  EXPECT_TRUE(server.tcb.sack_enabled());
}

TEST_F(TcpSackToPeerWithoutSackTest, SackPermittedOnlyWhenBothSynsCarryIt) {
  start();
  EXPECT_TRUE(net.log[0].repr().sack_permitted);
  EXPECT_FALSE(net.log[1].repr().sack_permitted);
  EXPECT_FALSE(client.tcb.sack_enabled());
  EXPECT_FALSE(server.tcb.sack_enabled());
}

TEST_F(TcpSackFromPeerWithoutSackTest, SackPermittedOnlyWhenBothSynsCarryIt) {
  start();
  EXPECT_FALSE(net.log[0].repr().sack_permitted);
  // RFC 2018 §2: SACK-permitted in a SYN,ACK only when the SYN had it.
  EXPECT_FALSE(net.log[1].repr().sack_permitted);
  EXPECT_FALSE(server.tcb.sack_enabled());
}

// Delivers client segments `indexes` of `flight` to the server; returns the
// ACK each one drew.
std::vector<Packet> deliver_segments(SackHost& server, const std::vector<Packet>& flight,
                                     std::initializer_list<std::size_t> indexes, Instant now) {
  std::vector<Packet> acks;
  for (const std::size_t i : indexes) {
    server.deliver(flight[i], now);
    for (auto& ack : server.drain(now)) acks.push_back(std::move(ack));
  }
  return acks;
}

TEST_F(TcpSackTest, ReceiverReportsOutOfOrderRangesMostRecentFirst) {
  start();
  ASSERT_EQ(*client.tcb.send(pattern(8 * kMss)), 8u * kMss);
  const Instant t = net.now;
  const std::vector<Packet> flight = client.drain(t);
  ASSERT_GE(flight.size(), 6u);
  using wire::SackBlock;
  // Segment 1 (0 missing): one block.
  std::vector<Packet> acks = deliver_segments(server, flight, {1}, t);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].repr().ack_number, client_seq(0));
  EXPECT_EQ(blocks_of(acks[0]), (std::vector{SackBlock{client_seq(1), client_seq(2)}}));
  // Segment 4: its block first (RFC 2018 §4), then the older one.
  acks = deliver_segments(server, flight, {4}, t);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(blocks_of(acks[0]), (std::vector{SackBlock{client_seq(4), client_seq(5)},
                                             SackBlock{client_seq(1), client_seq(2)}}));
  // Segment 2 grows the first range: now that one is the most recent.
  acks = deliver_segments(server, flight, {2}, t);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(blocks_of(acks[0]), (std::vector{SackBlock{client_seq(1), client_seq(3)},
                                             SackBlock{client_seq(4), client_seq(5)}}));
  // Segment 0 fills the hole up to 3: the cumulative ACK covers the first
  // range; the other remains.
  acks = deliver_segments(server, flight, {0}, t);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].repr().ack_number, client_seq(3));
  EXPECT_EQ(blocks_of(acks[0]), (std::vector{SackBlock{client_seq(4), client_seq(5)}}));
  // Segment 3 fills the last hole: no blocks.
  acks = deliver_segments(server, flight, {3}, t);
  ASSERT_FALSE(acks.empty());
  EXPECT_EQ(acks.back().repr().ack_number, client_seq(5));
  EXPECT_TRUE(blocks_of(acks.back()).empty());
}

TEST_F(TcpSackTest, ADuplicateIsReportedOnceAsTheFirstBlock) {
  start();
  ASSERT_EQ(*client.tcb.send(pattern(5 * kMss)), 5u * kMss);
  const Instant t = net.now;
  const std::vector<Packet> flight = client.drain(t);
  ASSERT_GE(flight.size(), 5u);
  using wire::SackBlock;
  deliver_segments(server, flight, {0, 1}, t);
  // RFC 2883 §4.1.1: a segment below RCV.NXT arrives again; the ACK's
  // first (here only) block is that segment.
  std::vector<Packet> acks = deliver_segments(server, flight, {0}, t);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].repr().ack_number, client_seq(2));
  EXPECT_EQ(blocks_of(acks[0]), (std::vector{SackBlock{client_seq(0), client_seq(1)}}));
  // Reported once: the next ACK has only the out-of-order range.
  acks = deliver_segments(server, flight, {3}, t);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(blocks_of(acks[0]), (std::vector{SackBlock{client_seq(3), client_seq(4)}}));
  // §4.1.2: out-of-order data held arrives again: the D-SACK block, then
  // the range that holds it.
  acks = deliver_segments(server, flight, {3}, t);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].repr().ack_number, client_seq(2));
  EXPECT_EQ(blocks_of(acks[0]), (std::vector{SackBlock{client_seq(3), client_seq(4)},
                                             SackBlock{client_seq(3), client_seq(4)}}));
  // The data is whole once the hole fills.
  deliver_segments(server, flight, {2, 4}, t);
  server.read_all();
  EXPECT_EQ(server.received, pattern(5 * kMss));
}

TEST_F(TcpSackTest, APartlyDuplicateSegmentReportsItsOldPart) {
  start();
  ASSERT_EQ(*client.tcb.send(pattern(2 * kMss)), 2u * kMss);
  const std::vector<Packet> flight = client.drain(net.now);
  deliver_segments(server, flight, {0}, net.now);
  // A segment from the middle of the first to the end of the second (as a
  // sender that repacketized its retransmission would send).
  const std::vector<std::byte> data = pattern(2 * kMss);
  const std::string_view tail(reinterpret_cast<const char*>(data.data()) + kMss / 2,
                              kMss + kMss / 2);
  server.deliver(segment(kClient, kServer, client_seq(0) + kMss / 2, kServerIss + 1, TcpFlags::kAck,
                         65535, tail),
                 net.now);
  const std::vector<Packet> acks = server.drain(net.now);
  ASSERT_FALSE(acks.empty());
  EXPECT_EQ(acks.back().repr().ack_number, client_seq(2));
  EXPECT_EQ(blocks_of(acks.back()),
            (std::vector{wire::SackBlock{client_seq(0) + kMss / 2, client_seq(1)}}));
  server.read_all();
  EXPECT_EQ(server.received, data);
}

TEST_F(TcpSackFromPeerWithoutSackTest, NoBlocksWithoutSackPermitted) {
  start();
  ASSERT_EQ(*client.tcb.send(pattern(4 * kMss)), 4u * kMss);
  const std::vector<Packet> flight = client.drain(net.now);
  server.deliver(flight[2], net.now);
  const std::vector<Packet> acks = server.drain(net.now);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].repr().ack_number, client_seq(0));  // a duplicate ACK ...
  EXPECT_TRUE(blocks_of(acks[0]).empty());              // ... without blocks
}

// An ACK from the server with hand-made SACK blocks.
Packet sack_ack(std::uint32_t ack, std::initializer_list<wire::SackBlock> blocks) {
  TcpTransmit out;
  out.source = kServerAddress;
  out.destination = kClientAddress;
  out.header.source_port = kServer.port;
  out.header.destination_port = kClient.port;
  out.header.seq_number = kServerIss + 1;
  out.header.ack_number = ack;
  out.header.flags = TcpFlags(TcpFlags::kAck);
  out.header.window_len = 65535;
  for (const auto& block : blocks) out.header.sack_blocks.push_back(block);
  return to_packet(out);
}

TEST_F(TcpSackTest, ADsackFromThePeerIsNotTakenAsSackedData) {
  start();
  ASSERT_EQ(*client.tcb.send(pattern(4 * kMss)), 4u * kMss);
  client.drain(net.now);
  // RFC 2883 §4.2: a first block below the cumulative ACK reports a
  // duplicate; the scoreboard keeps the ordinary block only.
  client.deliver(
      sack_ack(client_seq(1), {{client_seq(0), client_seq(1)}, {client_seq(2), client_seq(3)}}),
      net.now);
  ASSERT_EQ(client.scoreboard.count, 1u);
  EXPECT_EQ(client.scoreboard.sacked[0].begin, client_seq(2));
  EXPECT_EQ(client.scoreboard.sacked[0].end, client_seq(3));
  // A D-SACK inside the range already SACKed adds nothing either.
  client.deliver(
      sack_ack(client_seq(1), {{client_seq(2), client_seq(3)}, {client_seq(2), client_seq(3)}}),
      net.now);
  ASSERT_EQ(client.scoreboard.count, 1u);
  EXPECT_EQ(client.scoreboard.sacked[0].end, client_seq(3));
  EXPECT_EQ(client.tcb.send_queued(), 3u * kMss);
}

TEST_F(TcpSackTest, ScoreboardMergesSortsTrimsAndKeepsTheLowestRanges) {
  start();
  ASSERT_EQ(*client.tcb.send(pattern(12 * kMss)), 12u * kMss);
  const std::vector<Packet> flight = client.drain(net.now);
  ASSERT_EQ(flight.size(), 10u);  // the initial window
  const TcpSackScoreboard& board = client.scoreboard;
  auto ranges = [&] {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
    for (std::size_t i = 0; i < board.count; ++i) {
      out.emplace_back(board.sacked[i].begin, board.sacked[i].end);
    }
    return out;
  };
  using Ranges = std::vector<std::pair<std::uint32_t, std::uint32_t>>;
  const Instant t = net.now + 20ms;
  client.deliver(sack_ack(client_seq(0), {{client_seq(5), client_seq(6)}}), t);
  client.deliver(sack_ack(client_seq(0), {{client_seq(1), client_seq(2)}}), t);
  EXPECT_EQ(ranges(), (Ranges{{client_seq(1), client_seq(2)}, {client_seq(5), client_seq(6)}}));
  // Adjacent and overlapping blocks merge; a block beyond what was sent is
  // cut to SND.MAX.
  client.deliver(sack_ack(client_seq(0), {{client_seq(2), client_seq(3)},
                                          {client_seq(4) + 100, client_seq(5) + 10},
                                          {client_seq(9), client_seq(30)}}),
                 t);
  EXPECT_EQ(ranges(), (Ranges{{client_seq(1), client_seq(3)},
                              {client_seq(4) + 100, client_seq(6)},
                              {client_seq(9), client_seq(10)}}));
  // Full (four ranges): a fifth, higher one is forgotten; a lower one
  // pushes out the highest.
  client.deliver(sack_ack(client_seq(0), {{client_seq(7), client_seq(8)}}), t);
  ASSERT_EQ(board.count, 4u);
  client.deliver(sack_ack(client_seq(0), {{client_seq(8) + 10, client_seq(8) + 20}}), t);
  EXPECT_EQ(ranges(), (Ranges{{client_seq(1), client_seq(3)},
                              {client_seq(4) + 100, client_seq(6)},
                              {client_seq(7), client_seq(8)},
                              {client_seq(8) + 10, client_seq(8) + 20}}));
  // The cumulative ACK trims: ranges below it go, one across it is cut.
  client.deliver(sack_ack(client_seq(5), {}), t + 1ms);
  EXPECT_EQ(ranges(), (Ranges{{client_seq(5), client_seq(6)},
                              {client_seq(7), client_seq(8)},
                              {client_seq(8) + 10, client_seq(8) + 20}}));
  // A block below the cumulative ACK (RFC 2883's D-SACK) adds nothing.
  client.deliver(sack_ack(client_seq(5), {{client_seq(1), client_seq(2)}}), t + 2ms);
  EXPECT_EQ(board.count, 3u);
}

TEST_F(TcpSackTest, AHoleThatReachesTheFinSendsTheDataFirst) {
  start();
  ASSERT_EQ(*client.tcb.send(pattern(4 * kMss)), 4u * kMss);
  client.tcb.close();
  const std::vector<Packet> flight = client.drain(net.now);
  ASSERT_EQ(flight.size(), 4u);
  EXPECT_TRUE(has(flight.back(), TcpFlags::kFin));
  // The peer has all but the last 960 bytes and the FIN: an ACK, then
  // three duplicates (their blocks, below the ACK, say nothing new) start
  // recovery.
  const std::uint32_t ack = client_seq(3) + 500;
  const Instant t = net.now + 20ms;
  for (int i = 0; i < 4; ++i) {
    client.deliver(sack_ack(ack, {{client_seq(0), client_seq(1)}}), t);
  }
  ASSERT_TRUE(client.tcb.in_fast_recovery());
  const std::vector<Packet> out = client.drain(t);
  ASSERT_FALSE(out.empty());
  const TcpRepr resent = out[0].repr();
  EXPECT_EQ(resent.seq_number, ack);
  EXPECT_EQ(resent.payload.size(), kMss - 500u);  // the data, not past it
}

// Sends `data` over a 20 ms RTT link that drops the first copy of the
// client's segments `lost` (indexes after the handshake); records when each
// was dropped and sent again.
struct HoleRun {
  std::vector<Instant> dropped;
  std::vector<Instant> resent;
  bool saw_recovery = false;
  std::uint32_t min_cwnd = 0xffffffffu;
};

// With `copies`, the first that many copies of each are dropped (the
// retransmissions too); `dropped` is when the last of them was.
template <typename A, typename B>
HoleRun run_with_holes(Network<A, B>& net, const std::vector<std::byte>& data,
                       std::vector<std::uint32_t> lost, unsigned copies = 1) {
  HoleRun result;
  result.dropped.resize(lost.size());
  result.resent.resize(lost.size());
  std::vector<unsigned> dropped_copies(lost.size(), 0);
  std::vector<bool> dropped(lost.size(), false);
  std::vector<bool> resent(lost.size(), false);
  net.filter = [&](const Packet& p, bool from_client) {
    const TcpRepr repr = p.repr();
    if (!from_client || repr.payload.empty()) return true;
    for (std::size_t i = 0; i < lost.size(); ++i) {
      if (repr.seq_number != client_seq(lost[i])) continue;
      if (dropped_copies[i] < copies) {
        dropped[i] = ++dropped_copies[i] == copies;
        result.dropped[i] = net.now;
        return false;
      }
      if (!resent[i]) {
        resent[i] = true;
        result.resent[i] = net.now;
      }
    }
    return true;
  };
  std::size_t queued = *net.a.tcb.send(data);
  net.run(net.now + 10s, [&] {
    result.saw_recovery |= net.a.tcb.in_fast_recovery();
    result.min_cwnd = std::min(result.min_cwnd, net.a.tcb.congestion_window());
    if (queued < data.size()) queued += *net.a.tcb.send(ConstByteSpan(data).subspan(queued));
    return net.b.received.size() == data.size();
  });
  for (std::size_t i = 0; i < lost.size(); ++i) {
    EXPECT_TRUE(dropped[i] && resent[i]) << "segment " << lost[i];
  }
  EXPECT_TRUE(net.b.received == data);
  net.filter = nullptr;
  return result;
}

TEST_F(TcpSackTest, TwoHolesInOneWindowWithoutATimeout) {
  start(10ms);
  const HoleRun run = run_with_holes(net, pattern(60000), {2, 5});
  EXPECT_TRUE(run.saw_recovery);
  // No timeout (at least 200 ms; it would cut cwnd to one segment) ...
  EXPECT_GT(run.min_cwnd, std::uint32_t{kMss});
  EXPECT_LT(run.resent[0] - run.dropped[0], 100ms);
  EXPECT_LT(run.resent[1] - run.dropped[1], 100ms);
  // ... and within one round trip of each other: the second goes out once
  // the SACKs of the segments after it say it is lost and pipe leaves
  // room (RFC 6675), not a round trip after the first one's ACK.
  EXPECT_LE(run.resent[1] - run.resent[0], 20ms);
}

TEST_F(TcpSackTest, ThreeHolesInOneWindowWithoutATimeout) {
  start(10ms);
  const HoleRun run = run_with_holes(net, pattern(60000), {2, 5, 8});
  EXPECT_TRUE(run.saw_recovery);
  EXPECT_GT(run.min_cwnd, std::uint32_t{kMss});
  for (std::size_t i = 0; i < 3; ++i) EXPECT_LT(run.resent[i] - run.dropped[i], 100ms) << i;
}

// RFC 8985 (RACK) by order of sending: a retransmission that is lost
// again is found lost once data sent after it is SACKed, and sent a third
// time in the same recovery -- not one retransmission timeout later.
TEST_F(TcpSackTest, ALostRetransmissionIsSentAgainWithoutATimeout) {
  start(10ms);
  std::vector<Instant> copies;
  net.filter = [&](const Packet& p, bool from_client) {
    const TcpRepr repr = p.repr();
    if (!from_client || repr.seq_number != client_seq(2) || repr.payload.empty()) return true;
    copies.push_back(net.now);
    return copies.size() > 2;  // the original and the first retransmission are lost
  };
  const auto data = pattern(200000);
  std::size_t queued = *client.tcb.send(data);
  bool timed_out = false;
  net.run(net.now + 10s, [&] {
    timed_out |= client.tcb.congestion_window() < 2 * kMss;
    if (queued < data.size()) queued += *client.tcb.send(ConstByteSpan(data).subspan(queued));
    return server.received.size() == data.size();
  });
  ASSERT_EQ(copies.size(), 3u);
  EXPECT_TRUE(server.received == data);
  EXPECT_FALSE(timed_out);
  // The third copy at most two round trips (20 ms each) after the second:
  // one for new data sent after it to be SACKed, one for that new data to
  // go out (pipe allows it once SACKs arrive).
  EXPECT_LT(copies[2] - copies[1], TcpControlBlock::kMinRto);
  EXPECT_LE(copies[2] - copies[1], 40ms);
}

// RFC 8985 §6.2: with a window of a few segments no three duplicates come,
// but once a segment sent after the lost one is SACKed, the lost one is
// sent again a quarter of an RTT later (the reordering window), not at the
// retransmission timeout.
TEST_F(TcpSackTest, ASmallWindowRecoversAfterTheReorderingWindow) {
  start(50ms);
  transfer(net, pattern(kMss));  // an RTT sample: SRTT 100 ms
  ASSERT_GE(client.tcb.smoothed_rtt(), 90ms);
  const std::uint32_t base = kClientIss + 1 + kMss;
  std::vector<Instant> copies;
  net.filter = [&](const Packet& p, bool from_client) {
    const TcpRepr repr = p.repr();
    if (!from_client || repr.seq_number != base || repr.payload.empty()) return true;
    copies.push_back(net.now);
    return copies.size() > 1;
  };
  const auto data = pattern(2 * kMss);  // two segments: one duplicate ACK at most
  ASSERT_EQ(*client.tcb.send(data), data.size());
  net.run(net.now + 5s, [&] { return server.received.size() == kMss + data.size(); });
  ASSERT_EQ(copies.size(), 2u);
  EXPECT_EQ(server.received.size(), kMss + data.size());
  // The SACK of the second segment arrives one RTT after the first was
  // sent; the retransmission a quarter of SRTT after that (25 ms).
  EXPECT_GE(copies[1] - copies[0], 120ms);
  EXPECT_LE(copies[1] - copies[0], 130ms);
  EXPECT_TRUE(client.tcb.sack_enabled());
}

// The reordering window guards against reordering: a segment that arrives
// late, within it, is not sent again.
TEST_F(TcpSackTest, ASegmentLateByLessThanTheReorderingWindowIsNotSentAgain) {
  start(50ms);
  transfer(net, pattern(kMss));
  const std::uint32_t base = kClientIss + 1 + kMss;
  std::optional<Packet> held;
  int copies = 0;
  net.filter = [&](const Packet& p, bool from_client) {
    const TcpRepr repr = p.repr();
    if (!from_client || repr.seq_number != base || repr.payload.empty()) return true;
    ++copies;
    if (copies == 1) {
      held = p;  // delivered 10 ms late, below
      return false;
    }
    return true;
  };
  const auto data = pattern(2 * kMss);
  ASSERT_EQ(*client.tcb.send(data), data.size());
  net.run(net.now + 10ms);
  ASSERT_TRUE(held.has_value());
  net.wire.push_front({net.now + 50ms, *held, true});
  net.run(net.now + 5s, [&] { return server.received.size() == kMss + data.size(); });
  EXPECT_EQ(server.received.size(), kMss + data.size());
  EXPECT_EQ(copies, 1);
  EXPECT_FALSE(client.tcb.in_fast_recovery());
}

// A FIN that arrives ahead of a hole is kept: when the hole fills the
// connection goes to CLOSE-WAIT at once, and the FIN is not sent again.
TEST_F(TcpSackTest, AFinAheadOfAHoleIsKeptUntilTheHoleFills) {
  start(10ms);
  const auto data = pattern(3 * kMss);
  ASSERT_EQ(*client.tcb.send(data), data.size());
  client.tcb.close();
  const std::vector<Packet> flight = client.drain(net.now);
  ASSERT_EQ(flight.size(), 3u);
  ASSERT_TRUE(has(flight[2], TcpFlags::kFin));
  // Segments 0 and 2 (with the FIN) arrive; 1 is late.
  const Instant t = net.now + 10ms;
  server.deliver(flight[0], t);
  server.deliver(flight[2], t);
  server.read_all();
  EXPECT_EQ(server.tcb.state(), TcpState::established);
  EXPECT_EQ(server.received.size(), kMss);
  server.deliver(flight[1], t + 5ms);
  server.read_all();
  EXPECT_EQ(server.tcb.state(), TcpState::close_wait);
  EXPECT_TRUE(server.tcb.at_end());
  EXPECT_TRUE(server.received == data);
  // Its ACK covers the FIN.
  const std::vector<Packet> acks = server.drain(t + 5ms);
  ASSERT_FALSE(acks.empty());
  EXPECT_EQ(acks.back().repr().ack_number, kClientIss + 1 + 3 * kMss + 1);
}

TEST_F(TcpSackToPeerWithoutSackTest, ThePeerRecoversByNewReno) {
  // Three holes, a peer without SACK: fast recovery still, one hole per
  // round trip.
  start(10ms);
  ASSERT_FALSE(client.tcb.sack_enabled());
  const HoleRun run = run_with_holes(net, pattern(60000), {2, 5, 8});
  EXPECT_TRUE(run.saw_recovery);
  // NewReno: one hole per round trip, each after the partial ACK.
  EXPECT_GE(run.resent[1] - run.resent[0], 20ms);
  EXPECT_GE(run.resent[2] - run.resent[1], 20ms);
}

}  // namespace
}  // namespace mote::net
