// The lwIP adapter: two lwIP 2.1.3 instances (raw API, NO_SYS) from Debian's
// source package, built by bench/tcp/run (lwip/lwip_instance.c). Without
// them (MOTE_BENCH_HAVE_LWIP undefined) make_lwip_pair() returns nullptr.
#include <algorithm>
#include <cstdint>

#include "tcp_stack_pair.hpp"

#ifdef MOTE_BENCH_HAVE_LWIP
#include "lwip/lwip_instance.h"

namespace mote::bench::tcp {
namespace {

constexpr std::uint32_t kSenderAddress = 0x0a000001;    // 10.0.0.1
constexpr std::uint32_t kReceiverAddress = 0x0a000002;  // 10.0.0.2
constexpr std::uint16_t kPort = 5001;

class LwipPair final : public TcpStackPair {
 public:
  // The two instances (sender, receiver) of one build.
  LwipPair(const lwip_bench_instance& sender, const lwip_bench_instance& receiver,
           std::string_view name)
      : sender_api_(&sender), receiver_api_(&receiver), name_(name) {}

  [[nodiscard]] std::string_view name() const override { return name_; }
  [[nodiscard]] bool uses_links() const override { return true; }

  Status open(const PairConfig& config, LinkPort& sender_link, LinkPort& receiver_link) override {
    config_ = config;
    sender_ = Side{sender_api_, &sender_link, this};
    receiver_ = Side{receiver_api_, &receiver_link, this};
    if (config.flows > LWIP_BENCH_MAX_FLOWS) return Status::invalid_argument();
    MOTE_TRY(init(sender_, kSenderAddress, kReceiverAddress));
    MOTE_TRY(init(receiver_, kReceiverAddress, kSenderAddress));
    if (receiver_.api->listen(kPort, config.flows) != 0) return Status::internal();
    for (unsigned flow = 0; flow < config.flows; ++flow) {
      if (sender_.api->connect(flow, kPort, config.bytes_per_flow) != 0) return Status::internal();
    }
    return ok_status();
  }

  bool poll(Instant now) override {
    now_ = now;
    const auto ms = static_cast<std::uint32_t>(now.time_since_epoch().count() / 1000);
    for (Side* side : {&sender_, &receiver_}) {
      side->api->set_time_ms(ms);
      side->api->check_timeouts();
    }
    bool worked = false;
    for (;;) {
      sender_.api->send_more();
      const std::size_t moved = deliver(receiver_) + deliver(sender_);
      if (moved == 0) break;
      worked = true;
    }
    return worked;
  }

  [[nodiscard]] Instant poll_at() const override {
    Instant at = async::kNever;
    for (const Side* side : {&sender_, &receiver_}) {
      const std::uint32_t wait_ms = side->api->next_timeout_ms();
      if (wait_ms == UINT32_MAX) continue;
      // lwIP counts in whole milliseconds: its next tick.
      const std::int64_t now_ms = now_.time_since_epoch().count() / 1000;
      at = std::min(at, Instant(async::Duration((now_ms + wait_ms) * 1000)));
    }
    return at;
  }

  [[nodiscard]] FlowTotals totals() const override {
    FlowTotals totals;
    for (unsigned flow = 0; flow < config_.flows; ++flow) {
      lwip_bench_flow sent{};
      lwip_bench_flow received{};
      sender_.api->flow_state(flow, &sent);
      receiver_.api->flow_state(flow, &received);
      totals.sent += sent.sent;
      totals.received += received.received;
      totals.connected += (sent.connected != 0) + (received.connected != 0);
      totals.finished += received.finished;
      totals.failed += sent.failed + received.failed;
    }
    return totals;
  }

 private:
  struct Side {
    const lwip_bench_instance* api = nullptr;
    LinkPort* link = nullptr;
    LwipPair* pair = nullptr;
  };

  static void transmit(void* context, const void* packet, std::size_t len) {
    auto* side = static_cast<Side*>(context);
    // A full link drops the frame, as a NIC's ring would; TCP recovers.
    side->link
        ->transmit(side->pair->now_, ConstByteSpan(static_cast<const std::byte*>(packet), len))
        .ignore_error();
  }

  Status init(Side& side, std::uint32_t address, std::uint32_t peer) {
    lwip_bench_config config{};
    config.address = address;
    config.peer = peer;
    config.mtu = static_cast<std::uint16_t>(side.link->capabilities().mtu);
    config.mss = config_.mss;
    config.window = config_.receive_window;
    config.send_buffer = config_.send_buffer;
    config.pattern = reinterpret_cast<const std::uint8_t*>(config_.pattern->bytes().data());
    config.pattern_period = config_.pattern->period();
    config.link_context = &side;
    config.transmit = &LwipPair::transmit;
    return side.api->init(&config) == 0 ? ok_status() : Status::invalid_argument();
  }

  // Frames waiting at `side`'s link end, each received straight into an
  // lwIP pool pbuf.
  std::size_t deliver(Side& side) {
    const std::size_t mtu = side.link->capabilities().mtu;
    std::size_t count = 0;
    for (;;) {
      void* buffer = side.api->input_begin(mtu);
      if (buffer == nullptr) {
        // Pool empty: the frame is lost, as on a NIC without buffers.
        std::byte discard[65536];
        if (!side.link->receive(now_, discard).ok()) break;
        ++count;
        continue;
      }
      const Result<std::size_t> got =
          side.link->receive(now_, ByteSpan(static_cast<std::byte*>(buffer), mtu));
      if (!got.ok()) {
        if (got.status().code() == StatusCode::unavailable) break;
        continue;
      }
      side.api->input_commit(*got);
      ++count;
    }
    return count;
  }

  PairConfig config_;
  const lwip_bench_instance* sender_api_;
  const lwip_bench_instance* receiver_api_;
  std::string_view name_;
  Side sender_;
  Side receiver_;
  Instant now_{};
};

}  // namespace

std::unique_ptr<TcpStackPair> make_lwip_pair(bool timestamps) {
  // Each lwIP instance is a set of globals: one pair of each build per process.
  static bool made[2] = {false, false};
  if (made[timestamps ? 1 : 0]) return nullptr;
  made[timestamps ? 1 : 0] = true;
  if (timestamps) {
    return std::make_unique<LwipPair>(lwip_bench_instance_c, lwip_bench_instance_d,
                                      "lwIP 2.1.3 with timestamps");
  }
  return std::make_unique<LwipPair>(lwip_bench_instance_a, lwip_bench_instance_b, "lwIP 2.1.3");
}

}  // namespace mote::bench::tcp

#else

namespace mote::bench::tcp {
std::unique_ptr<TcpStackPair> make_lwip_pair(bool /*timestamps*/) { return nullptr; }
}  // namespace mote::bench::tcp

#endif
