#include "mote/broker/message.hpp"

namespace mote::broker {

std::optional<std::uint32_t> Message::remaining_expiry_s(std::int64_t now_ms) const {
  if (expires_at_ms == 0) return std::nullopt;
  const std::int64_t left_ms = expires_at_ms - now_ms;
  if (left_ms <= 0) return 0;
  return static_cast<std::uint32_t>((left_ms + 999) / 1000);
}

}  // namespace mote::broker
