#include "mote/io/address.hpp"

#include "mote/base/text.hpp"
namespace mote::io {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Writes `value` (0..255) in decimal at out[position]; returns the new position.
std::size_t put_decimal(std::span<char> out, std::size_t position, std::uint8_t value) {
  if (value >= 100) out[position++] = static_cast<char>('0' + value / 100);
  if (value >= 10) out[position++] = static_cast<char>('0' + (value / 10) % 10);
  out[position++] = static_cast<char>('0' + value % 10);
  return position;
}

std::size_t decimal_len(std::uint8_t value) { return value >= 100 ? 3 : value >= 10 ? 2 : 1; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Formats into a scratch buffer first, so `out` is written only when it fits.
template <typename Format>
Result<std::size_t> format_checked(std::span<char> out, Format&& format) {
  char scratch[Endpoint::kMaxTextLen];
  const std::size_t length = format(std::span<char>(scratch));
  if (length > out.size()) return Status::resource_exhausted();
  for (std::size_t i = 0; i < length; ++i) out[i] = scratch[i];
  return length;
}

std::size_t format_v4(std::span<char> out, Ipv4Address address) {
  const std::array<std::uint8_t, 4> parts = address.octets();
  std::size_t position = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i > 0) out[position++] = '.';
    position = put_decimal(out, position, parts[i]);
  }
  return position;
}

std::size_t format_v6(std::span<char> out, const Ipv6Address& address) {
  std::size_t position = 0;
  if (address.is_v4_mapped()) {
    for (char c : std::string_view("::ffff:")) out[position++] = c;
    return position + format_v4(out.subspan(position), address.to_v4());
  }
  // RFC 5952 §4.2: the longest run of at least two zero groups becomes "::";
  // the first of equally long runs.
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (address.group(static_cast<std::size_t>(i)) != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && address.group(static_cast<std::size_t>(j)) == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out[position++] = ':';
      out[position++] = ':';
      i += best_len - 1;
      continue;
    }
    if (i > 0 && i != best_start + best_len) out[position++] = ':';
    // RFC 5952 §4.1 and §4.3: no leading zeros, lower case.
    const std::uint16_t group = address.group(static_cast<std::size_t>(i));
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const int digit = (group >> shift) & 0xf;
      if (digit != 0 || started || shift == 0) {
        out[position++] = kHexDigits[digit];
        started = true;
      }
    }
  }
  return position;
}

}  // namespace

Result<std::size_t> Ipv4Address::format(std::span<char> out) const {
  const std::array<std::uint8_t, kSize> parts = octets();
  std::size_t needed = 3;  // the dots
  for (std::uint8_t part : parts) needed += decimal_len(part);
  if (out.size() < needed) return Status::resource_exhausted();
  return format_v4(out, *this);
}

Result<Ipv6Address> Ipv6Address::parse(std::string_view text) {
  std::array<std::uint16_t, 8> groups{};
  int count = 0;  // groups written
  int gap = -1;   // group index where "::" stands
  std::size_t position = 0;
  if (text.starts_with("::")) {
    gap = 0;
    position = 2;
    if (position == text.size()) return Ipv6Address();
  } else if (text.starts_with(":")) {
    return Status::invalid_argument();
  }
  while (position < text.size()) {
    if (count == 8) return Status::invalid_argument();
    // A trailing dotted quad takes two groups.
    const std::string_view rest = slice(text, position);
    if (rest.find('.') != std::string_view::npos && rest.find(':') == std::string_view::npos) {
      if (count > 6) return Status::invalid_argument();
      Result<Ipv4Address> v4 = Ipv4Address::parse(rest);
      if (!v4.ok()) return Status::invalid_argument();
      groups[count++] = static_cast<std::uint16_t>(v4->to_u32() >> 16);
      groups[count++] = static_cast<std::uint16_t>(v4->to_u32());
      position = text.size();
      break;
    }
    std::uint32_t value = 0;
    std::size_t digits = 0;
    while (position < text.size() && hex_value(text[position]) >= 0) {
      if (++digits > 4) return Status::invalid_argument();
      value = (value << 4) | static_cast<std::uint32_t>(hex_value(text[position]));
      ++position;
    }
    if (digits == 0) return Status::invalid_argument();
    groups[count++] = static_cast<std::uint16_t>(value);
    if (position == text.size()) break;
    if (text[position] != ':') return Status::invalid_argument();
    ++position;
    if (position < text.size() && text[position] == ':') {
      if (gap >= 0) return Status::invalid_argument();  // a second "::"
      gap = count;
      ++position;
      if (position == text.size()) break;
    } else if (position == text.size()) {
      return Status::invalid_argument();  // a single trailing ':'
    }
  }
  if (gap < 0) {
    if (count != 8) return Status::invalid_argument();
    return from_groups(groups);
  }
  // "::" stands for at least one zero group (RFC 4291 §2.2, 2.).
  if (count > 7) return Status::invalid_argument();
  std::array<std::uint16_t, 8> expanded{};
  const auto head = static_cast<std::size_t>(gap);
  const auto tail = static_cast<std::size_t>(count) - head;
  for (std::size_t i = 0; i < head; ++i) expanded[i] = groups[i];
  for (std::size_t i = 0; i < tail; ++i) expanded[8 - tail + i] = groups[head + i];
  return from_groups(expanded);
}

Result<std::size_t> Ipv6Address::format(std::span<char> out) const {
  return format_checked(out, [this](std::span<char> scratch) { return format_v6(scratch, *this); });
}

Result<IpAddress> IpAddress::parse(std::string_view text) {
  if (Result<Ipv4Address> v4 = Ipv4Address::parse(text); v4.ok()) return IpAddress(*v4);
  Result<Ipv6Address> v6 = Ipv6Address::parse(text);
  if (!v6.ok()) return v6.status();
  return IpAddress(*v6);
}

Result<std::size_t> IpAddress::format(std::span<char> out) const {
  return is_v4() ? v4().format(out) : v6().format(out);
}

Result<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with("[")) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::invalid_argument();
    }
    host = slice(text, 1, close - 1);
    port_text = slice(text, close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Status::invalid_argument();
    host = slice(text, 0, colon);
    port_text = slice(text, colon + 1);
    if (host.find(':') != std::string_view::npos) return Status::invalid_argument();  // v6 needs []
  }
  if (port_text.empty() || port_text.size() > 5 || (port_text.size() > 1 && port_text[0] == '0')) {
    return Status::invalid_argument();
  }
  std::uint32_t port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return Status::invalid_argument();
    port = port * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (port > 65535) return Status::invalid_argument();
  Endpoint endpoint;
  if (text.starts_with("[")) {
    Result<Ipv6Address> v6 = Ipv6Address::parse(host);
    if (!v6.ok()) return v6.status();
    endpoint.address = *v6;
  } else {
    Result<Ipv4Address> v4 = Ipv4Address::parse(host);
    if (!v4.ok()) return v4.status();
    endpoint.address = *v4;
  }
  endpoint.port = static_cast<std::uint16_t>(port);
  return endpoint;
}

Result<std::size_t> Endpoint::format(std::span<char> out) const {
  return format_checked(out, [this](std::span<char> scratch) {
    std::size_t position = 0;
    if (address.is_v6()) scratch[position++] = '[';
    position += address.is_v6() ? format_v6(scratch.subspan(position), address.v6())
                                : format_v4(scratch.subspan(position), address.v4());
    if (address.is_v6()) scratch[position++] = ']';
    scratch[position++] = ':';
    char digits[5];
    std::size_t count = 0;
    std::uint32_t value = port;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0) scratch[position++] = digits[--count];
    return position;
  });
}

}  // namespace mote::io
