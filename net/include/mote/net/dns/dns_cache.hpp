#pragma once
// A small cache of name -> IPv4 address answers that keeps each for its TTL
// (RFC 1035 §3.2.1, RFC 2181 §8), with time passed in. Fixed size: when it
// is full the entry closest to expiry makes room. Names compare without
// regard to ASCII case (RFC 4343) and to one trailing dot; names longer than
// kMaxNameLen are not cached. Negative answers are not cached (RFC 2308 is
// not implemented).

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mote/async/time.hpp"
#include "mote/base/inline_string.hpp"
#include "mote/io/address.hpp"

namespace mote::net {

// Whether two dotted names are the same name (ASCII case and one trailing
// dot aside).
bool same_dns_name(std::string_view a, std::string_view b);

template <std::size_t kEntries, std::size_t kMaxNameLen = 64>
class DnsCache {
  static_assert(kEntries >= 1);

 public:
  using Duration = async::Duration;
  using Instant = async::Instant;

  // TTLs above this are cut to it, so a wrong or hostile answer cannot pin
  // an address for 68 years (RFC 2181 §8 allows 2^31 - 1 seconds).
  static constexpr Duration kMaxTtl = std::chrono::hours(24);

  // The address for `name` if an entry for it has not expired at `now`.
  [[nodiscard]] std::optional<io::Ipv4Address> find(std::string_view name, Instant now) const {
    for (const Entry& entry : entries_) {
      if (entry.expires > now && same_dns_name(entry.name.view(), name)) return entry.address;
    }
    return std::nullopt;
  }

  // Keeps `address` for `name` until `now + ttl`. A zero TTL means "use
  // once" (RFC 1035 §3.2.1) and is not kept.
  void insert(std::string_view name, io::Ipv4Address address, std::uint32_t ttl_seconds,
              Instant now) {
    if (ttl_seconds == 0 || name.size() > kMaxNameLen) return;
    const Instant expires = now + std::min<Duration>(std::chrono::seconds(ttl_seconds), kMaxTtl);
    Entry* slot = &entries_[0];
    for (Entry& entry : entries_) {
      if (entry.expires > now && same_dns_name(entry.name.view(), name)) {
        slot = &entry;  // replace the old answer
        break;
      }
      if (entry.expires < slot->expires) slot = &entry;  // expired or soonest to expire
    }
    slot->name.assign(name).ignore_error();  // fits: checked above
    slot->address = address;
    slot->expires = expires;
  }

  void clear() { entries_ = {}; }

  // Entries that have not expired at `now`.
  [[nodiscard]] std::size_t size(Instant now) const {
    return static_cast<std::size_t>(std::count_if(
        entries_.begin(), entries_.end(), [now](const Entry& e) { return e.expires > now; }));
  }

 private:
  struct Entry {
    InlineString<kMaxNameLen> name;
    io::Ipv4Address address;
    Instant expires = Instant::min();  // an empty entry has always expired
  };
  std::array<Entry, kEntries> entries_{};
};

}  // namespace mote::net
