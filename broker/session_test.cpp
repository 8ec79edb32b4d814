#include "mote/broker/session.hpp"

#include <gtest/gtest.h>

namespace mote::broker {
namespace {

Outbound outbound(QoS qos, std::string topic = "t", std::int64_t expires_at_ms = 0) {
  auto message = std::make_shared<Message>();
  message->topic = std::move(topic);
  message->qos = qos;
  message->expires_at_ms = expires_at_ms;
  Outbound o;
  o.message = message;
  o.qos = qos;
  return o;
}

Session online_session(std::size_t max_queued = 100, std::uint16_t receive_maximum = 65535) {
  Session session(1, "client");
  session.online = true;
  session.max_queued = max_queued;
  session.receive_maximum = receive_maximum;
  return session;
}

TEST(Session, QoS1FlowFreesTheWindowOnPuback) {
  Session session = online_session(100, 2);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(session.enqueue(outbound(QoS::at_least_once)).queued != nullptr);
  std::vector<Outbound> expired;
  const auto first = session.next_to_send(0, expired);
  const auto second = session.next_to_send(0, expired);
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->packet_id, second->packet_id);
  EXPECT_EQ(first->state, OutboundState::awaiting_puback);
  EXPECT_FALSE(session.next_to_send(0, expired));  // Receive Maximum 2
  EXPECT_FALSE(session.has_sendable());
  EXPECT_FALSE(session.acknowledge_puback(999));
  EXPECT_EQ(session.acknowledge_puback(first->packet_id), first->seq);
  EXPECT_FALSE(session.acknowledge_puback(first->packet_id));  // once only
  EXPECT_TRUE(session.has_sendable());
  EXPECT_TRUE(session.next_to_send(0, expired));
  EXPECT_EQ(session.in_flight_count(), 2u);
}

TEST(Session, QoS2FlowPassesThroughPubrecAndPubcomp) {
  Session session = online_session();
  session.enqueue(outbound(QoS::exactly_once));
  std::vector<Outbound> expired;
  const auto sent = session.next_to_send(0, expired);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->state, OutboundState::awaiting_pubrec);
  EXPECT_FALSE(session.acknowledge_pubcomp(sent->packet_id));  // PUBCOMP before PUBREC
  EXPECT_FALSE(session.acknowledge_puback(sent->packet_id));   // wrong flow
  EXPECT_EQ(session.acknowledge_pubrec(sent->packet_id, true), sent->seq);
  EXPECT_EQ(session.in_flight().at(0)->state, OutboundState::awaiting_pubcomp);
  EXPECT_EQ(session.acknowledge_pubrec(sent->packet_id, true), sent->seq);  // resent PUBREC
  EXPECT_EQ(session.acknowledge_pubcomp(sent->packet_id), sent->seq);
  EXPECT_EQ(session.in_flight_count(), 0u);
}

TEST(Session, RejectedPubrecEndsTheFlow) {
  Session session = online_session();
  session.enqueue(outbound(QoS::exactly_once));
  std::vector<Outbound> expired;
  const auto sent = session.next_to_send(0, expired);
  EXPECT_EQ(session.acknowledge_pubrec(sent->packet_id, false), sent->seq);
  EXPECT_EQ(session.in_flight_count(), 0u);
}

TEST(Session, QoS0IsSentInOrderBehindABlockedWindow) {
  Session session = online_session(100, 1);
  session.enqueue(outbound(QoS::at_least_once, "1"));
  session.enqueue(outbound(QoS::at_least_once, "2"));
  session.enqueue(outbound(QoS::at_most_once, "3"));
  std::vector<Outbound> expired;
  const auto first = session.next_to_send(0, expired);
  EXPECT_FALSE(session.next_to_send(0, expired));  // "2" waits for the window; "3" behind it
  session.acknowledge_puback(first->packet_id);
  EXPECT_EQ(session.next_to_send(0, expired)->message->topic, "2");
  EXPECT_EQ(session.next_to_send(0, expired)->message->topic, "3");  // QoS 0 needs no window
}

TEST(Session, FullQueueDropsQoS0FirstThenOldest) {
  Session session = online_session(3);
  session.enqueue(outbound(QoS::at_least_once, "a"));
  session.enqueue(outbound(QoS::at_most_once, "b"));
  session.enqueue(outbound(QoS::at_least_once, "c"));
  auto result = session.enqueue(outbound(QoS::at_least_once, "d"));
  EXPECT_TRUE(result.queued != nullptr);
  ASSERT_EQ(result.dropped.size(), 1u);
  EXPECT_EQ(result.dropped[0].message->topic, "b");  // the QoS 0 one
  result = session.enqueue(outbound(QoS::exactly_once, "e"));
  ASSERT_EQ(result.dropped.size(), 1u);
  EXPECT_EQ(result.dropped[0].message->topic, "a");  // then the oldest
  EXPECT_EQ(session.dropped(), 2u);
  EXPECT_EQ(session.queued_count(), 3u);
  std::vector<Outbound> expired;
  EXPECT_EQ(session.next_to_send(0, expired)->message->topic, "c");
}

TEST(Session, OfflineSessionsQueueOnlyQoS1And2) {
  Session session(1, "c");
  session.expiry_interval_s = 60;
  EXPECT_FALSE(session.enqueue(outbound(QoS::at_most_once)).queued != nullptr);
  EXPECT_TRUE(session.enqueue(outbound(QoS::at_least_once)).queued != nullptr);
  EXPECT_EQ(session.dropped(), 1u);
}

TEST(Session, ExpiredMessagesAreDroppedWhenTheirTurnComes) {
  Session session = online_session();
  session.enqueue(outbound(QoS::at_least_once, "old", 1000));
  session.enqueue(outbound(QoS::at_least_once, "new", 9000));
  std::vector<Outbound> expired;
  const auto sent = session.next_to_send(2000, expired);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->message->topic, "new");
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].message->topic, "old");
}

TEST(Session, RestoredMessagesResumeWhereTheyWere) {
  Session session(1, "c");
  Outbound queued = outbound(QoS::at_least_once, "q");
  queued.seq = 7;
  Outbound flying = outbound(QoS::exactly_once, "f");
  flying.seq = 5;
  flying.packet_id = 42;
  flying.state = OutboundState::awaiting_pubcomp;
  session.restore(queued);
  session.restore(flying);
  EXPECT_EQ(session.next_seq, 8u);
  ASSERT_EQ(session.in_flight().size(), 1u);
  EXPECT_EQ(session.in_flight()[0]->packet_id, 42);
  EXPECT_EQ(session.acknowledge_pubcomp(42), 5u);
  session.online = true;
  std::vector<Outbound> expired;
  const auto next = session.next_to_send(0, expired);
  EXPECT_EQ(next->message->topic, "q");
  EXPECT_NE(next->packet_id, 42);  // ids keep moving forward
}

TEST(Session, PacketIdsWrapAndSkipThoseInUse) {
  Session session = online_session(70000, 65535);
  std::vector<Outbound> expired;
  std::uint16_t held = 0;
  for (int i = 0; i < 65535 + 5; ++i) {
    session.enqueue(outbound(QoS::at_least_once));
    const auto sent = session.next_to_send(0, expired);
    ASSERT_TRUE(sent);
    ASSERT_NE(sent->packet_id, 0);
    if (i == 0) {
      held = sent->packet_id;  // never acknowledged
    } else {
      ASSERT_NE(sent->packet_id, held);
      session.acknowledge_puback(sent->packet_id);
    }
  }
}

TEST(Session, ExpiryCountsFromDisconnect) {
  Session session(1, "c");
  session.expiry_interval_s = 10;
  session.disconnected_at_ms = 1000;
  EXPECT_FALSE(session.expired(10'999));
  EXPECT_TRUE(session.expired(11'000));
  session.expiry_interval_s = kSessionNeverExpires;
  EXPECT_FALSE(session.expired(1'000'000'000));
  session.expiry_interval_s = 10;
  session.online = true;
  EXPECT_FALSE(session.expired(1'000'000'000));
}

}  // namespace
}  // namespace mote::broker
