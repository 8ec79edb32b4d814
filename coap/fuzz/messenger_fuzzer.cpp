// Drives the messaging layer with arbitrary operations: datagrams from two
// peers, confirmable messages to send, cancellations and time steps. Checks
// that nothing reads out of bounds, that every transmission is a message the
// caller queued, that retransmission ends (every exchange is answered or
// given up within MAX_TRANSMIT_WAIT) and that poll_at() never lies.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "mote/coap/messenger.hpp"

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "coap messenger fuzzer: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mote::coap;
  using namespace std::chrono_literals;
  Messenger<3, 64, 4, 16> messenger(0x1234);
  const mote::io::Endpoint peers[2] = {{mote::io::Ipv4Address(127, 0, 0, 1), 5683},
                                       {mote::io::Ipv4Address(127, 0, 0, 2), 5683}};
  Instant now = Instant() + 1000s;
  std::vector<ExchangeHandle> handles;
  std::size_t at = 0;
  auto take = [&](std::size_t n) {
    const std::size_t available = std::min(n, size - at);
    const mote::ConstByteSpan bytes = mote::bytes_of(std::span(data + at, available));
    at += available;
    return bytes;
  };
  while (at < size) {
    const std::uint8_t op = data[at++];
    const mote::io::Endpoint& peer = peers[(op >> 7) & 1];
    switch (op & 3) {
      case 0: {  // a datagram arrives
        const std::size_t length = at < size ? data[at++] % 80 : 0;
        const Incoming incoming = messenger.receive(take(length), peer, now);
        if (incoming.kind == Incoming::duplicate) check(incoming.reply.size() <= 16, "reply size");
        break;
      }
      case 1: {  // time passes, and what is due goes out
        now += std::chrono::milliseconds(((op >> 2) & 0x1f) * 700);
        for (Action a = messenger.poll(now); a.kind != Action::none; a = messenger.poll(now)) {
          if (a.kind == Action::transmit) {
            check(a.bytes.size() >= kHeaderSize && a.bytes.size() <= 64, "transmission size");
          }
        }
        check(messenger.poll_at() > now, "poll_at is due after polling");
        break;
      }
      case 2: {  // the caller sends a CON
        std::byte bytes[64];
        MessageWriter writer(bytes, Type::confirmable, Code(static_cast<std::uint8_t>(op)),
                             messenger.next_message_id(), {});
        const mote::Result<std::size_t> written = writer.finish();
        check(written.ok(), "writer");
        const mote::Result<ExchangeHandle> handle =
            messenger.send_confirmable(peer, mote::ConstByteSpan(bytes, *written), now);
        if (handle.ok()) handles.push_back(*handle);
        break;
      }
      case 3:  // the caller gives up on one
        if (!handles.empty()) messenger.cancel(handles[(op >> 2) % handles.size()]);
        break;
    }
  }
  // MAX_TRANSMIT_WAIT later everything has been answered or given up.
  for (int i = 0; i < 64; ++i) {
    now += 10s;
    for (Action a = messenger.poll(now); a.kind != Action::none; a = messenger.poll(now)) {
    }
  }
  for (const ExchangeHandle& handle : handles)
    check(!messenger.outstanding(handle), "stuck exchange");
  return 0;
}
