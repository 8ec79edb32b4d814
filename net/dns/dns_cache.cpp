#include "mote/net/dns/dns_cache.hpp"

namespace mote::net {
namespace {

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr std::string_view without_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

}  // namespace

bool same_dns_name(std::string_view a, std::string_view b) {
  // RFC 4343 §3: ASCII letters compare without regard to case.
  a = without_trailing_dot(a);
  b = without_trailing_dot(b);
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

}  // namespace mote::net
