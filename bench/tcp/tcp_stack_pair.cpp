#include "tcp_stack_pair.hpp"

#include <algorithm>
#include <cstring>

namespace mote::bench::tcp {

TransferPattern::TransferPattern() : storage_(new std::byte[2 * kPeriod]) {
  // xorshift32: bytes with no structure a stack could exploit.
  std::uint32_t state = 0x6d6f7465;
  for (std::size_t i = 0; i < kPeriod; ++i) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    storage_[i] = std::byte(state >> 24);
  }
  std::memcpy(storage_.get() + kPeriod, storage_.get(), kPeriod);
  bytes_ = ConstByteSpan(storage_.get(), 2 * kPeriod);
}

bool TransferPattern::matches(std::uint64_t offset, ConstByteSpan data) const {
  while (!data.empty()) {
    const std::size_t at = offset % kPeriod;
    const std::size_t len = std::min(data.size(), kPeriod);
    if (std::memcmp(data.data(), bytes_.data() + at, len) != 0) return false;
    data = data.subspan(len);
    offset += len;
  }
  return true;
}

Instant run_until_done(TcpStackPair& pair, LinkPort& a, LinkPort& b, const PairConfig& config,
                       Instant virtual_limit, std::chrono::seconds wall_limit) {
  const auto wall_deadline = std::chrono::steady_clock::now() + wall_limit;
  Instant now{};
  for (std::uint64_t round = 1;; ++round) {
    if (round % 4096 == 0 && std::chrono::steady_clock::now() > wall_deadline) return now;
    const bool worked = pair.poll(now);
    const FlowTotals totals = pair.totals();
    if (totals.failed != 0) return now;
    if (totals.finished == config.flows &&
        totals.received == config.bytes_per_flow * config.flows) {
      return now;
    }
    if (worked || !pair.uses_links()) continue;
    const Instant next = std::min({pair.poll_at(), a.poll_at(), b.poll_at()});
    if (next == async::kNever || next > virtual_limit) return now;
    now = std::max(now, next);
  }
}

}  // namespace mote::bench::tcp
