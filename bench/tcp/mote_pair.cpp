// The mote adapter: two mote Interfaces (net/iface) on the two link ends,
// 10.0.0.1/30 (sender) and 10.0.0.2/30 (receiver), with TCP sockets
// (net/socket/tcp_socket.hpp) driven sans-I/O, the way lwip_pair.cpp drives
// lwIP's raw API: no executor and no Stack task, the pair calls
// Interface::poll(now, device) itself and does the application's work
// between polls.
//
//   sender    `flows` sockets, connected with Interface::connect_tcp to
//             10.0.0.2:5001; each writes the pattern while its send buffer
//             takes it (TcpControlBlock::send copies, like lwIP's
//             TCP_WRITE_FLAG_COPY), then closes.
//   receiver  a TcpListener on 5001 with a backlog of `flows` sockets;
//             accepted connections are read in place (peek, check against
//             the pattern, consume), which frees the window at once, as the
//             lwIP receiver's tcp_recved does.
//
// Receive buffers are `receive_window` bytes, send buffers `send_buffer`
// bytes, on both sides; the MSS is the link's MTU - 40 (the interface's
// tcp_mss()). Received checksums are verified (the interface's default).
#include <algorithm>
#include <memory>
#include <vector>

#include "mote/net/iface/interface.hpp"
#include "mote/net/random_source.hpp"
#include "mote/net/socket/tcp_socket.hpp"
#include "tcp_stack_pair.hpp"

namespace mote::bench::tcp {
namespace {

using io::Ipv4Address;
using net::Interface;
using net::StaticInterface;
using net::TcpControlBlock;
using net::TcpSocket;

constexpr std::uint16_t kPort = 5001;
constexpr unsigned kMaxFlows = 64;

// Frames up to the largest MSS the benchmarks use (8,192) plus the IPv4
// and TCP headers; every flow's socket fits the 4-tuple table, which is the
// default's 8 sockets (a 16-slot table) for up to 8 flows, as a board would
// have it, and 64 for the simulator's 64 flows.
constexpr net::InterfaceLimits limits_for(std::size_t tcp_sockets) {
  return {.max_frame_len = 8192 + 40,
          .neighbours = 1,
          .pending_bytes = 0,
          .reassembly_slots = 1,
          .reassembly_bytes = 0,
          .udp_sockets = 1,
          .tcp_sockets = tcp_sockets};
}
constexpr std::size_t kFewFlows = net::InterfaceLimits{}.tcp_sockets;

// A LinkPort as a net::Device, for Interface::poll; frames are built in
// the link's queue (net::InPlaceTransmitDevice).
class LinkDevice {
 public:
  explicit LinkDevice(LinkPort& port) : port_(port) {}
  [[nodiscard]] net::DeviceCapabilities capabilities() const { return port_.capabilities(); }
  Result<std::size_t> receive(Instant now, ByteSpan buffer) { return port_.receive(now, buffer); }
  [[nodiscard]] bool can_transmit() const { return port_.can_transmit(); }
  Status transmit(Instant now, ConstByteSpan frame) { return port_.transmit(now, frame); }
  ByteSpan transmit_buffer() { return port_.transmit_buffer(); }
  Status commit_transmit(Instant now, std::size_t len) { return port_.commit_transmit(now, len); }

 private:
  LinkPort& port_;
};
static_assert(net::InPlaceTransmitDevice<LinkDevice>);

// RFC 6528's key for the interfaces' initial sequence numbers: fixed, so a
// run is the same every time (the simulator's cells are reproducible).
class SeededRandom final : public net::RandomSource {
 public:
  explicit SeededRandom(std::uint32_t seed) : state_(seed) {}
  std::uint32_t next_u32() override {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

 private:
  std::uint32_t state_;
};

struct Flow {
  std::vector<std::byte> storage;
  std::unique_ptr<TcpSocket> socket;
  std::uint64_t bytes = 0;  // written (sender) or checked (receiver)
  bool connected = false;
  bool closed = false;    // sender: close() called after the last byte
  bool finished = false;  // receiver: the FIN arrived after every byte
  bool failed = false;
};

std::unique_ptr<TcpSocket> make_socket(std::vector<std::byte>& storage, std::size_t rx,
                                       std::size_t tx) {
  storage.resize(rx + tx);
  const ByteSpan bytes(storage);
  return std::make_unique<TcpSocket>(bytes.first(rx), bytes.subspan(rx));
}

template <net::InterfaceLimits kLimits>
class MotePair final : public TcpStackPair {
  using BenchInterface = StaticInterface<kLimits>;

 public:
  [[nodiscard]] std::string_view name() const override { return "mote"; }
  [[nodiscard]] bool uses_links() const override { return true; }

  Status open(const PairConfig& config, LinkPort& sender_link, LinkPort& receiver_link) override {
    if (config.flows == 0 || config.flows > kLimits.tcp_sockets || config.pattern == nullptr) {
      return Status::invalid_argument();
    }
    if (sender_link.capabilities().max_frame_len() > kLimits.max_frame_len) {
      return Status::invalid_argument();
    }
    config_ = config;
    sender_device_ = std::make_unique<LinkDevice>(sender_link);
    receiver_device_ = std::make_unique<LinkDevice>(receiver_link);
    sender_ = std::make_unique<BenchInterface>(sender_link.capabilities(), net::InterfaceConfig{});
    receiver_ =
        std::make_unique<BenchInterface>(receiver_link.capabilities(), net::InterfaceConfig{});
    SeededRandom random(0x6d6f7465);
    sender_->set_tcp_secret(random);
    receiver_->set_tcp_secret(random);
    MOTE_TRY(sender_->set_ipv4_address(Ipv4Address(10, 0, 0, 1), 30));
    MOTE_TRY(receiver_->set_ipv4_address(Ipv4Address(10, 0, 0, 2), 30));

    senders_.resize(config.flows);
    receivers_.resize(config.flows);
    backlog_.resize(config.flows);
    for (unsigned i = 0; i < config.flows; ++i) {
      receivers_[i].socket =
          make_socket(receivers_[i].storage, config.receive_window, config.send_buffer);
      backlog_[i] = receivers_[i].socket.get();
    }
    listener_ = std::make_unique<net::TcpListener>(*receiver_, backlog_);
    MOTE_TRY(listener_->listen(kPort));
    for (Flow& flow : senders_) {
      flow.socket = make_socket(flow.storage, config.receive_window, config.send_buffer);
      MOTE_TRY(sender_->connect_tcp(*flow.socket, io::Endpoint{Ipv4Address(10, 0, 0, 2), kPort},
                                    Instant{}));
    }
    return ok_status();
  }

  bool poll(Instant now) override {
    now_ = now;
    bool worked = false;
    for (;;) {
      bool moved = application();
      moved = sender_->poll(now, *sender_device_) || moved;
      moved = receiver_->poll(now, *receiver_device_) || moved;
      if (!moved) break;
      worked = true;
    }
    return worked;
  }

  [[nodiscard]] Instant poll_at() const override {
    return std::min(sender_->poll_at(now_), receiver_->poll_at(now_));
  }

  [[nodiscard]] FlowTotals totals() const override {
    FlowTotals totals;
    for (const Flow& flow : senders_) {
      totals.sent += flow.bytes;
      totals.connected += flow.connected;
      totals.failed += flow.failed;
    }
    for (const Flow& flow : receivers_) {
      totals.received += flow.bytes;
      totals.connected += flow.connected;
      totals.finished += flow.finished;
      totals.failed += flow.failed;
    }
    return totals;
  }

 private:
  // The applications' turn: accept, write, read. Returns whether any
  // bytes or connections moved.
  bool application() {
    bool moved = false;
    while (accepted_ < receivers_.size()) {
      Result<net::TcpStream> stream = listener_->try_accept();
      if (!stream.ok()) break;
      // Backlog socket i may take any SYN: find its flow by the socket.
      for (Flow& flow : receivers_) {
        if (flow.socket.get() == stream->socket()) {
          flow.connected = true;
          break;
        }
      }
      streams_.push_back(std::move(*stream));
      ++accepted_;
      moved = true;
    }
    for (Flow& flow : senders_) moved = write(flow) || moved;
    for (Flow& flow : receivers_) {
      if (flow.connected) moved = read(flow) || moved;
    }
    return moved;
  }

  bool write(Flow& flow) {
    TcpControlBlock& tcb = flow.socket->tcb();
    if (flow.failed || flow.closed) return false;
    if (!tcb.error().ok()) {
      flow.failed = true;
      return true;
    }
    if (!flow.connected) {
      if (!tcb.is_synchronized()) return false;
      flow.connected = true;
    }
    const std::size_t period = config_.pattern->period();
    bool moved = false;
    while (flow.bytes < config_.bytes_per_flow) {
      const std::size_t at = flow.bytes % period;
      const std::size_t want = static_cast<std::size_t>(
          std::min<std::uint64_t>(config_.bytes_per_flow - flow.bytes, period));
      const Result<std::size_t> taken = tcb.send(config_.pattern->bytes().subspan(at, want));
      if (!taken.ok()) {
        flow.failed = true;
        return true;
      }
      if (*taken == 0) break;
      flow.bytes += *taken;
      moved = true;
    }
    if (flow.bytes == config_.bytes_per_flow) {
      tcb.close();
      flow.closed = true;
      moved = true;
    }
    return moved;
  }

  bool read(Flow& flow) {
    if (flow.failed || flow.finished) return false;
    TcpControlBlock& tcb = flow.socket->tcb();
    bool moved = false;
    for (;;) {
      const ConstByteSpan data = tcb.peek();
      if (data.empty()) break;
      if (!config_.pattern->matches(flow.bytes, data)) {
        flow.failed = true;
        return true;
      }
      flow.bytes += data.size();
      tcb.consume(data.size());
      moved = true;
    }
    if (tcb.at_end()) {
      flow.finished = true;
      moved = true;
    } else if (!tcb.error().ok()) {
      flow.failed = true;
      moved = true;
    }
    return moved;
  }

  PairConfig config_;
  Instant now_{};
  // Destroyed in reverse: streams, listener, sockets, then the interfaces.
  std::unique_ptr<LinkDevice> sender_device_;
  std::unique_ptr<LinkDevice> receiver_device_;
  std::unique_ptr<BenchInterface> sender_;
  std::unique_ptr<BenchInterface> receiver_;
  std::vector<Flow> senders_;
  std::vector<Flow> receivers_;
  std::vector<TcpSocket*> backlog_;
  std::unique_ptr<net::TcpListener> listener_;
  std::vector<net::TcpStream> streams_;
  std::size_t accepted_ = 0;
};

}  // namespace

std::unique_ptr<TcpStackPair> make_mote_pair(unsigned flows) {
  if (flows <= kFewFlows) return std::make_unique<MotePair<limits_for(kFewFlows)>>();
  return std::make_unique<MotePair<limits_for(kMaxFlows)>>();
}

}  // namespace mote::bench::tcp
