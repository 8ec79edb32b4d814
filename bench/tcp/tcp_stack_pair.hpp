#pragma once
// The adapter interface of mote's TCP benchmarks (bench/tcp): every stack
// under test -- mote's, lwIP, the Linux kernel's -- is driven through one
// TcpStackPair, so the bulk-transfer benchmark (tcp_bench.cpp) and the
// network simulator (tcp_netsim.cpp) run the same harness on each.
//
// A pair is two instances of a stack, a sender and a receiver, joined by the
// two ends of a link the harness owns (LinkPort): a Cable in memory for the
// bulk benchmark, a Cable with a FaultInjector on each end in the simulator.
// The pair opens `flows` connections from the sender to the receiver; each
// carries `bytes_per_flow` bytes of the pattern and is then closed by the
// sender. The receiver checks every byte it is given against the pattern.
//
// The harness owns time. It calls poll(now) until a poll does nothing, then
// moves `now` to the earliest of the pair's poll_at() and the links'
// poll_at() (virtual time: in the bulk benchmark time only moves when both
// stacks are idle, so the clock costs nothing and wall-clock time is the
// stacks' work). A pair that brings its own link and clock (the kernel over
// loopback) says so with uses_links() == false and ignores both.
//
// Writing an adapter for a stack (mote_pair.cpp and lwip_pair.cpp are two):
//   open()   builds both instances on the two LinkPorts (sender on
//            `sender_link`, receiver on `receiver_link`), addresses
//            10.0.0.1 and 10.0.0.2 on a point-to-point IP link (the
//            ports' capabilities give the medium and the MTU, MSS + 40),
//            listens on the receiver, connects every flow.
//   poll()   does all the work due at `now`: frames from both links into
//            the stacks, timers, the application (the sender writes the
//            pattern while its send buffer takes it, closes when done; the
//            receiver reads, compares, frees its window) and frames out.
//            Returns whether anything happened.
//   poll_at() when the pair next has something to do on its own (a timer);
//            kNever when nothing.
//   totals() the flows' counts, summed.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/net/phy/device.hpp"

namespace mote::bench::tcp {

using async::Instant;
using net::DeviceCapabilities;

// One end of the link between the two stacks: a net::Device seen through a
// virtual call, so adapters compiled apart (lwIP's) need no template.
class LinkPort {
 public:
  LinkPort() = default;
  LinkPort(const LinkPort&) = delete;
  LinkPort& operator=(const LinkPort&) = delete;
  virtual ~LinkPort() = default;

  [[nodiscard]] virtual DeviceCapabilities capabilities() const = 0;
  virtual Result<std::size_t> receive(Instant now, ByteSpan buffer) = 0;
  [[nodiscard]] virtual bool can_transmit() const = 0;
  virtual Status transmit(Instant now, ConstByteSpan frame) = 0;
  // When the link next delivers a frame on its own (a delay line); kNever
  // for links without time.
  [[nodiscard]] virtual Instant poll_at() const = 0;
  // net::InPlaceTransmitDevice, for a stack that builds frames in the
  // link's own queue. A port whose device cannot lend its queue (the fault
  // injector) stages the frame here and transmit()s it.
  virtual ByteSpan transmit_buffer() {
    if (!can_transmit()) return {};
    staging_.resize(capabilities().max_frame_len());
    return staging_;
  }
  virtual Status commit_transmit(Instant now, std::size_t len) {
    return transmit(now, ConstByteSpan(staging_).first(len));
  }

 private:
  std::vector<std::byte> staging_;
};

template <net::Device D>
class DeviceLinkPort final : public LinkPort {
 public:
  explicit DeviceLinkPort(D& device) : device_(device) {}
  [[nodiscard]] DeviceCapabilities capabilities() const override { return device_.capabilities(); }
  Result<std::size_t> receive(Instant now, ByteSpan buffer) override {
    return device_.receive(now, buffer);
  }
  [[nodiscard]] bool can_transmit() const override { return device_.can_transmit(); }
  Status transmit(Instant now, ConstByteSpan frame) override {
    return device_.transmit(now, frame);
  }
  [[nodiscard]] Instant poll_at() const override {
    if constexpr (net::TimedDevice<D>) {
      return device_.poll_at();
    } else {
      return async::kNever;
    }
  }
  ByteSpan transmit_buffer() override {
    if constexpr (net::InPlaceTransmitDevice<D>) {
      return device_.transmit_buffer();
    } else {
      return LinkPort::transmit_buffer();
    }
  }
  Status commit_transmit(Instant now, std::size_t len) override {
    if constexpr (net::InPlaceTransmitDevice<D>) {
      return device_.commit_transmit(now, len);
    } else {
      return LinkPort::commit_transmit(now, len);
    }
  }

 private:
  D& device_;
};

// The bytes every flow carries: byte i of a flow is bytes[i % period]. The
// buffer holds two periods, so any run of up to `period` bytes starting at
// i % period is contiguous. The period is prime, so it lines up with no
// segment size.
class TransferPattern {
 public:
  static constexpr std::size_t kPeriod = 65521;
  TransferPattern();
  [[nodiscard]] ConstByteSpan bytes() const { return bytes_; }
  [[nodiscard]] std::size_t period() const { return kPeriod; }
  // Whether `data` is what a flow carries from byte `offset` on.
  [[nodiscard]] bool matches(std::uint64_t offset, ConstByteSpan data) const;

 private:
  std::unique_ptr<std::byte[]> storage_;
  ConstByteSpan bytes_;
};

struct PairConfig {
  std::uint16_t mss = 1460;
  std::uint32_t receive_window = 192 * 1024;  // the receiver's buffer
  std::uint32_t send_buffer = 192 * 1024;     // the sender's buffer
  unsigned flows = 1;
  std::uint64_t bytes_per_flow = 0;
  const TransferPattern* pattern = nullptr;
};

struct FlowTotals {
  std::uint64_t sent = 0;      // accepted by the sender's stack
  std::uint64_t received = 0;  // delivered to the receiver, checked
  unsigned connected = 0;      // connections established (both sides)
  unsigned finished = 0;       // receivers that saw the sender's FIN
  unsigned failed = 0;         // resets, errors, pattern mismatches
};

class TcpStackPair {
 public:
  TcpStackPair() = default;
  TcpStackPair(const TcpStackPair&) = delete;
  TcpStackPair& operator=(const TcpStackPair&) = delete;
  virtual ~TcpStackPair() = default;

  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual bool uses_links() const = 0;
  virtual Status open(const PairConfig& config, LinkPort& sender_link, LinkPort& receiver_link) = 0;
  virtual bool poll(Instant now) = 0;
  [[nodiscard]] virtual Instant poll_at() const = 0;
  [[nodiscard]] virtual FlowTotals totals() const = 0;
  // A line about how this pair was set up (the kernel's MSS in use, ...).
  [[nodiscard]] virtual std::string_view notes() const { return {}; }
};

// The adapters. Each returns nullptr when its stack is not in this build
// (lwIP: bench/tcp/run did not build it). mote's is sized at compile time
// (its interfaces' connection tables), so it asks how many flows it gets.
std::unique_ptr<TcpStackPair> make_mote_pair(unsigned flows = 1);
// `timestamps`: the lwIP build with RFC 7323 timestamps on (the `lwip-ts`
// stack), whose segments are the same as mote's.
std::unique_ptr<TcpStackPair> make_lwip_pair(bool timestamps = false);
std::unique_ptr<TcpStackPair> make_kernel_pair();

// Runs `pair` until every flow's receiver has its bytes and the FIN, a flow
// fails, nothing is left to do, `virtual_limit` of virtual time passes or
// `wall_limit` of real time (a hang guard). Returns the virtual time reached.
Instant run_until_done(TcpStackPair& pair, LinkPort& a, LinkPort& b, const PairConfig& config,
                       Instant virtual_limit, std::chrono::seconds wall_limit);

}  // namespace mote::bench::tcp
