// Feeds arbitrary responses and time steps into a DNS lookup. The input is
// a list of steps, each starting with an opcode byte:
//   0 advance: 2 bytes, milliseconds (big-endian) to move the clock
//   1 response: 2 bytes length, then that many bytes of a DNS message from
//     the first server; when the opcode's bit 7 is set the message's id is
//     made the query's, so it gets past the id check
//   2 the same from the second server   3 from an address that is no server
//   4 start again
// Properties: nothing reads out of bounds; every query sent parses back
// with the name being asked; once poll(now) returns nothing the lookup does
// not want to run again at `now`; a lookup ends only with a documented
// status; a refused response changes nothing.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mote/net/dns/dns_lookup.hpp"
#include "steps.hpp"

namespace {

using mote::StatusCode;
using mote::net::DnsLookup;
using mote::net::fuzz::check;

constexpr mote::io::Ipv4Address kServers[] = {mote::io::Ipv4Address(192, 168, 69, 1),
                                              mote::io::Ipv4Address(192, 168, 69, 2)};

void drain(DnsLookup& lookup, mote::net::Instant now) {
  std::byte buffer[DnsLookup::kMaxQueryLen];
  for (int i = 0; i < 4; ++i) {
    std::optional<mote::net::DnsQueryTransmit> query = lookup.poll(now, buffer);
    if (!query) {
      check(lookup.done() || lookup.poll_at() > now, "poll_at() is due but poll() sends nothing");
      return;
    }
    auto packet = mote::net::wire::DnsPacket<>::checked(mote::ConstByteSpan(buffer, query->size));
    check(packet.ok(), "a sent query does not check");
    auto repr = mote::net::wire::DnsRepr::parse(*packet);
    check(repr.ok() && repr->question && repr->question->name.equals(lookup.query_name()) &&
              repr->id == lookup.query_id(),
          "a sent query is not the question asked");
  }
  check(false, "poll() keeps sending at the same instant");
}

void check_result(const DnsLookup& lookup) {
  if (!lookup.done()) return;
  const StatusCode code = lookup.result().status().code();
  check(code == StatusCode::ok || code == StatusCode::not_found ||
            code == StatusCode::unavailable || code == StatusCode::deadline_exceeded ||
            code == StatusCode::unimplemented,
        "an undocumented result");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace std::chrono_literals;
  mote::net::fuzz::LcgRandom random(7);
  DnsLookup lookup(random);
  mote::net::Instant now = mote::net::Instant{} + 1s;
  check(lookup.start("www.example.com", kServers, now).ok(), "start");

  mote::net::fuzz::StepReader steps(std::span(data, size));
  while (std::optional<std::uint8_t> op = steps.opcode()) {
    switch (*op & 0x7f) {
      case 0: {
        const std::optional<std::uint16_t> milliseconds = steps.u16();
        if (!milliseconds) return 0;
        now += std::chrono::milliseconds(*milliseconds);
        break;
      }
      case 1:
      case 2:
      case 3: {
        std::optional<std::vector<std::byte>> message = steps.message();
        if (!message) return 0;
        if ((*op & 0x80) != 0 && message->size() >= 2) {
          mote::store_be16(message->data(), lookup.query_id());
        }
        const mote::io::Ipv4Address from =
            (*op & 0x7f) == 3 ? mote::io::Ipv4Address(10, 0, 0, 1) : kServers[(*op & 0x7f) - 1];
        const bool was_done = lookup.done();
        const std::uint16_t id = lookup.query_id();
        const mote::Status handled = lookup.handle(*message, from, now);
        if (!handled.ok()) {
          check(lookup.done() == was_done && lookup.query_id() == id,
                "a refused response changed the lookup");
        }
        break;
      }
      case 4: check(lookup.start("example.com", kServers, now).ok(), "restart"); break;
      default: break;
    }
    drain(lookup, now);
    check_result(lookup);
  }
  return 0;
}
