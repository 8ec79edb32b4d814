// Feeds arbitrary messages, time steps and calls into the DHCP client's
// state machine. The input is a list of steps, each starting with an
// opcode byte:
//   0 advance: 2 bytes, seconds (big-endian) to move the clock
//   1 message: 2 bytes length, then that many bytes of a DHCP message; when
//     the opcode's bit 7 is set the transaction id and hardware address are
//     made the client's, so the message reaches deep into the states
//   2 decline   3 release   4 start   5 start with a remembered address
// Properties, after every step: nothing reads out of bounds; every message
// the client sends emits and parses back to itself; once poll(now) returns
// nothing the client does not want to run again at `now` (no busy loop);
// the client holds a lease exactly in BOUND, RENEWING and REBINDING.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mote/net/dhcp/dhcp_client.hpp"
#include "steps.hpp"

namespace {

using mote::net::DhcpClient;
using mote::net::DhcpTransmit;
using mote::net::fuzz::check;
using State = DhcpClient::State;

void check_sent(const DhcpTransmit& transmit) {
  std::vector<std::byte> bytes(transmit.message.buffer_len());
  const mote::Result<std::size_t> size = transmit.message.emit(bytes);
  check(size.ok() && *size == bytes.size(), "emit of a sent message");
  auto packet = mote::net::wire::DhcpPacket<>::checked(mote::ConstByteSpan(bytes));
  check(packet.ok(), "a sent message does not check");
  auto parsed = mote::net::wire::DhcpRepr::parse(*packet);
  check(parsed.ok() && *parsed == transmit.message, "a sent message does not parse back");
}

void drain(DhcpClient& client, mote::net::Instant now) {
  for (int i = 0; i < 8; ++i) {
    std::optional<DhcpTransmit> transmit = client.poll(now);
    if (!transmit) {
      check(client.poll_at() > now, "poll_at() is due but poll() sends nothing");
      return;
    }
    check_sent(*transmit);
  }
  check(false, "poll() keeps sending at the same instant");
}

void check_invariants(const DhcpClient& client) {
  const State state = client.state();
  const bool leased =
      state == State::bound || state == State::renewing || state == State::rebinding;
  check(client.lease().has_value() == leased, "lease without a leased state, or the reverse");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace std::chrono_literals;
  const mote::net::wire::MacAddress mac(0x02, 0, 0, 0, 0, 0x0c);
  mote::net::fuzz::LcgRandom random(1);
  DhcpClient client(mac, random);
  mote::net::Instant now = mote::net::Instant{} + 1s;
  client.start(now);

  mote::net::fuzz::StepReader steps(std::span(data, size));
  while (std::optional<std::uint8_t> op = steps.opcode()) {
    switch (*op & 0x7f) {
      case 0: {
        const std::optional<std::uint16_t> seconds = steps.u16();
        if (!seconds) return 0;
        now += std::chrono::seconds(*seconds);
        break;
      }
      case 1: {
        const std::optional<std::vector<std::byte>> message = steps.message();
        if (!message) return 0;
        auto packet = mote::net::wire::DhcpPacket<>::checked(mote::ConstByteSpan(*message));
        if (!packet.ok()) break;
        auto repr = mote::net::wire::DhcpRepr::parse(*packet);
        if (!repr.ok()) break;
        if ((*op & 0x80) != 0) {
          repr->transaction_id = client.transaction_id();
          repr->client_hardware_address = mac;
        }
        const State before = client.state();
        const mote::Status handled = client.handle(*repr, now);
        if (!handled.ok()) check(client.state() == before, "a refused message changed the state");
        break;
      }
      case 2: {
        auto decline = client.decline(now);
        if (decline.ok()) check_sent(*decline);
        break;
      }
      case 3: {
        auto release = client.release();
        if (release.ok()) check_sent(*release);
        break;
      }
      case 4: client.start(now); break;
      case 5: client.start(now, mote::io::Ipv4Address(192, 168, 69, 105)); break;
      default: break;
    }
    check_invariants(client);
    drain(client, now);
    (void)client.take_event();
  }
  return 0;
}
