#include "mote/coap/messenger.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace mote::coap {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::byte>;

const io::Endpoint kPeer{io::Ipv4Address(127, 0, 0, 1), 5683};
const io::Endpoint kOther{io::Ipv4Address(127, 0, 0, 2), 5683};
const Instant kStart = Instant() + 1000s;

Bytes message(Type type, Code code, std::uint16_t id, std::string_view token = "tk") {
  Bytes out(64);
  MessageWriter writer(out, type, code, id, bytes_of(token));
  out.resize(writer.finish().value());
  return out;
}

Bytes empty(Type type, std::uint16_t id) {
  Bytes out(4);
  EXPECT_EQ(encode_empty(type, id, out).value(), 4u);
  return out;
}

// Collects everything poll() hands out at `now`.
std::vector<Action> drain(MessengerCore& messenger, Instant now) {
  std::vector<Action> actions;
  for (Action a = messenger.poll(now); a.kind != Action::none; a = messenger.poll(now)) {
    actions.push_back(a);
  }
  return actions;
}

TEST(CoapMessenger, RetransmitsWithRandomisedDoublingTimeoutsThenGivesUp) {
  Messenger<> messenger(42);
  const Bytes request = message(Type::confirmable, codes::kGet, 100);
  const ExchangeHandle handle = messenger.send_confirmable(kPeer, request, kStart).value();
  EXPECT_TRUE(messenger.outstanding(handle));
  Instant now = kStart;
  std::vector<Duration> gaps;
  Instant last_send = now;
  bool gave_up = false;
  for (int step = 0; step < 10 && !gave_up; ++step) {
    for (const Action& action : drain(messenger, now)) {
      if (action.kind == Action::transmit) {
        EXPECT_EQ(Bytes(action.bytes.begin(), action.bytes.end()), request);
        EXPECT_EQ(action.to, kPeer);
        if (now != kStart) gaps.push_back(now - last_send);
        last_send = now;
      } else {
        EXPECT_EQ(action.kind, Action::give_up);
        EXPECT_EQ(action.exchange, handle);
        gaps.push_back(now - last_send);
        gave_up = true;
      }
    }
    now = messenger.poll_at() == async::kNever ? now : messenger.poll_at();
  }
  ASSERT_TRUE(gave_up);
  // 1 transmission + MAX_RETRANSMIT (4) retransmissions, then the last timeout.
  ASSERT_EQ(gaps.size(), 5u);
  EXPECT_GE(gaps[0], 2s);
  EXPECT_LE(gaps[0], 3s);
  for (std::size_t i = 1; i < gaps.size(); ++i) EXPECT_EQ(gaps[i], gaps[i - 1] * 2);
  EXPECT_FALSE(messenger.outstanding(handle));
  EXPECT_EQ(messenger.poll_at(), async::kNever);
}

TEST(CoapMessenger, InitialTimeoutsSpreadOverTheRandomFactor) {
  Duration low = 1h, high{};
  for (std::uint32_t seed = 1; seed < 200; ++seed) {
    Messenger<> messenger(seed);
    static_cast<void>(
        messenger.send_confirmable(kPeer, message(Type::confirmable, codes::kGet, 1), kStart));
    ASSERT_EQ(drain(messenger, kStart).size(), 1u);
    const Duration timeout = messenger.poll_at() - kStart;
    low = std::min(low, timeout);
    high = std::max(high, timeout);
  }
  EXPECT_GE(low, 2s);
  EXPECT_LT(low, 2100ms);
  EXPECT_LE(high, 3s);
  EXPECT_GT(high, 2900ms);
}

TEST(CoapMessenger, PiggybackedAckEndsTheExchange) {
  Messenger<> messenger(1);
  const ExchangeHandle handle =
      messenger.send_confirmable(kPeer, message(Type::confirmable, codes::kGet, 7), kStart).value();
  ASSERT_EQ(drain(messenger, kStart).size(), 1u);
  const Bytes ack = message(Type::acknowledgement, codes::kContent, 7);
  // An ACK from another endpoint with the same ID matches nothing.
  EXPECT_EQ(messenger.receive(ack, kOther, kStart + 1s).kind, Incoming::ignored);
  const Incoming incoming = messenger.receive(ack, kPeer, kStart + 1s);
  EXPECT_EQ(incoming.kind, Incoming::acknowledged);
  EXPECT_EQ(incoming.exchange, handle);
  EXPECT_EQ(incoming.message.code(), codes::kContent);
  EXPECT_FALSE(messenger.outstanding(handle));
  EXPECT_EQ(messenger.poll_at(), async::kNever);
  // A second copy of the ACK is stray now.
  EXPECT_EQ(messenger.receive(ack, kPeer, kStart + 2s).kind, Incoming::ignored);
}

TEST(CoapMessenger, EmptyAckThenSeparateConResponse) {
  Messenger<> messenger(1);
  static_cast<void>(
      messenger.send_confirmable(kPeer, message(Type::confirmable, codes::kGet, 7), kStart));
  drain(messenger, kStart);
  const Incoming ack = messenger.receive(empty(Type::acknowledgement, 7), kPeer, kStart + 1s);
  EXPECT_EQ(ack.kind, Incoming::acknowledged);
  EXPECT_TRUE(ack.message.code().is_empty());
  EXPECT_TRUE(drain(messenger, kStart + 60s).empty());  // no retransmission after the ACK
  // §5.2.2: the response comes later as a CON with a new ID and the token.
  const Bytes response = message(Type::confirmable, codes::kContent, 900);
  const Incoming separate = messenger.receive(response, kPeer, kStart + 5s);
  EXPECT_EQ(separate.kind, Incoming::new_message);
  EXPECT_EQ(separate.message.token().size(), 2u);
}

TEST(CoapMessenger, ResetEndsTheExchangeAndNonResetsAreReported) {
  Messenger<> messenger(1);
  const ExchangeHandle handle =
      messenger.send_confirmable(kPeer, message(Type::confirmable, codes::kGet, 7), kStart).value();
  drain(messenger, kStart);
  const Incoming reset = messenger.receive(empty(Type::reset, 7), kPeer, kStart);
  EXPECT_EQ(reset.kind, Incoming::reset);
  EXPECT_EQ(reset.exchange, handle);
  EXPECT_FALSE(messenger.outstanding(handle));
  // An RST for something that is no exchange (a NON notification we sent).
  const Incoming stray = messenger.receive(empty(Type::reset, 99), kPeer, kStart);
  EXPECT_EQ(stray.kind, Incoming::reset);
  EXPECT_EQ(stray.message_id, 99);
  EXPECT_FALSE(messenger.outstanding(stray.exchange));
}

TEST(CoapMessenger, OneOutstandingConfirmablePerPeer) {
  Messenger<> messenger(1);
  const ExchangeHandle first =
      messenger.send_confirmable(kPeer, message(Type::confirmable, codes::kGet, 1), kStart).value();
  const ExchangeHandle second =
      messenger.send_confirmable(kPeer, message(Type::confirmable, codes::kGet, 2), kStart).value();
  const ExchangeHandle elsewhere =
      messenger.send_confirmable(kOther, message(Type::confirmable, codes::kGet, 3), kStart)
          .value();
  std::vector<Action> actions = drain(messenger, kStart);
  ASSERT_EQ(actions.size(), 2u);  // the first to kPeer and the one to kOther
  EXPECT_EQ(actions[0].exchange, first);
  EXPECT_EQ(actions[1].exchange, elsewhere);
  // The ACK for the first lets the second go.
  EXPECT_EQ(messenger.receive(empty(Type::acknowledgement, 1), kPeer, kStart + 1s).kind,
            Incoming::acknowledged);
  actions = drain(messenger, kStart + 1s);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].exchange, second);
  EXPECT_EQ(load_be16(actions[0].bytes.data() + 2), 2);
}

TEST(CoapMessenger, CancelStopsRetransmissionAndStartsTheNext) {
  Messenger<> messenger(1);
  const ExchangeHandle first =
      messenger.send_confirmable(kPeer, message(Type::confirmable, codes::kGet, 1), kStart).value();
  const ExchangeHandle second =
      messenger.send_confirmable(kPeer, message(Type::confirmable, codes::kGet, 2), kStart).value();
  drain(messenger, kStart);
  messenger.cancel(first);
  EXPECT_FALSE(messenger.outstanding(first));
  const std::vector<Action> actions = drain(messenger, kStart + 1ms);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].exchange, second);
  messenger.cancel(first);  // stale: nothing happens
  EXPECT_TRUE(messenger.outstanding(second));
}

TEST(CoapMessenger, SlotsAreBoundedAndInputIsChecked) {
  Messenger<2, 64> messenger(1);
  EXPECT_TRUE(
      messenger.send_confirmable(kPeer, message(Type::confirmable, codes::kGet, 1), kStart).ok());
  EXPECT_TRUE(
      messenger.send_confirmable(kPeer, message(Type::confirmable, codes::kGet, 2), kStart).ok());
  EXPECT_EQ(messenger.send_confirmable(kPeer, message(Type::confirmable, codes::kGet, 3), kStart)
                .status(),
            Status::resource_exhausted());
  Messenger<2, 64> other(1);
  EXPECT_EQ(other.send_confirmable(kPeer, message(Type::non_confirmable, codes::kGet, 3), kStart)
                .status(),
            Status::invalid_argument());
  EXPECT_EQ(other.send_confirmable(kPeer, Bytes(65, std::byte{0x40}), kStart).status(),
            Status::invalid_argument());
}

TEST(CoapMessenger, DuplicatesAreDetectedForTheExchangeLifetimeAndGetTheCachedReply) {
  Messenger<> messenger(1);
  const Bytes request = message(Type::confirmable, codes::kGet, 500);
  EXPECT_EQ(messenger.receive(request, kPeer, kStart).kind, Incoming::new_message);
  const Bytes reply = message(Type::acknowledgement, codes::kContent, 500);
  messenger.remember_reply(kPeer, 500, reply);
  const Incoming again = messenger.receive(request, kPeer, kStart + 10s);
  EXPECT_EQ(again.kind, Incoming::duplicate);
  EXPECT_EQ(Bytes(again.reply.begin(), again.reply.end()), reply);
  // The same ID from another endpoint is another message.
  EXPECT_EQ(messenger.receive(request, kOther, kStart).kind, Incoming::new_message);
  // EXCHANGE_LIFETIME (247 s) later it is new again.
  EXPECT_EQ(messenger.receive(request, kPeer, kStart + 246s).kind, Incoming::duplicate);
  EXPECT_EQ(messenger.receive(request, kPeer, kStart + 248s).kind, Incoming::new_message);
  // NON messages for NON_LIFETIME (145 s).
  const Bytes non = message(Type::non_confirmable, codes::kGet, 600);
  EXPECT_EQ(messenger.receive(non, kPeer, kStart).kind, Incoming::new_message);
  EXPECT_EQ(messenger.receive(non, kPeer, kStart + 144s).kind, Incoming::duplicate);
  EXPECT_EQ(messenger.receive(non, kPeer, kStart + 146s).kind, Incoming::new_message);
}

TEST(CoapMessenger, AFullDedupTableEvictsTheOldestAndCountsIt) {
  Messenger<1, 64, 2> messenger(1);
  for (std::uint16_t id = 1; id <= 3; ++id) {
    EXPECT_EQ(messenger
                  .receive(message(Type::confirmable, codes::kGet, id), kPeer,
                           kStart + std::chrono::seconds(id))
                  .kind,
              Incoming::new_message);
  }
  EXPECT_EQ(messenger.dedup_evictions(), 1u);
  EXPECT_EQ(messenger.receive(message(Type::confirmable, codes::kGet, 3), kPeer, kStart + 4s).kind,
            Incoming::duplicate);
  EXPECT_EQ(messenger.receive(message(Type::confirmable, codes::kGet, 1), kPeer, kStart + 4s).kind,
            Incoming::new_message);  // evicted: seen as new
}

TEST(CoapMessenger, RejectsPingsAndMalformedConfirmables) {
  Messenger<> messenger(1);
  const Incoming ping = messenger.receive(empty(Type::confirmable, 77), kPeer, kStart);
  EXPECT_EQ(ping.kind, Incoming::reject);
  EXPECT_EQ(ping.message_id, 77);
  // A CON with a bad option: RST; the same as NON: ignored (§4.3).
  const Bytes bad_con = {std::byte{0x40}, std::byte{0x01}, std::byte{0x01}, std::byte{0x02},
                         std::byte{0xf0}};
  const Incoming rejected = messenger.receive(bad_con, kPeer, kStart);
  EXPECT_EQ(rejected.kind, Incoming::reject);
  EXPECT_EQ(rejected.message_id, 0x0102);
  Bytes bad_non = bad_con;
  bad_non[0] = std::byte{0x50};
  EXPECT_EQ(messenger.receive(bad_non, kPeer, kStart).kind, Incoming::ignored);
  EXPECT_EQ(messenger.receive(empty(Type::non_confirmable, 5), kPeer, kStart).kind,
            Incoming::ignored);
  EXPECT_EQ(messenger.receive(Bytes(3), kPeer, kStart).kind, Incoming::ignored);
}

TEST(CoapMessenger, MessageIdsAreSequentialAndTokensRandom) {
  Messenger<> a(1), b(2);
  const std::uint16_t first = a.next_message_id();
  EXPECT_EQ(a.next_message_id(), static_cast<std::uint16_t>(first + 1));
  EXPECT_NE(first, b.next_message_id());  // a random start
  std::byte t1[8], t2[8];
  a.make_token(t1);
  a.make_token(t2);
  EXPECT_FALSE(std::equal(std::begin(t1), std::end(t1), std::begin(t2)));
}

}  // namespace
}  // namespace mote::coap
