#include "mote/broker/message_record.hpp"

#include <gtest/gtest.h>

namespace mote::broker {
namespace {

Message full_message() {
  Message m;
  m.topic = "sensors/kitchen";
  m.payload = {1, 2, 3, 0, 255};
  m.qos = QoS::exactly_once;
  m.retain = true;
  m.expires_at_ms = 1'700'000'123'456;
  m.payload_format = 1;
  m.content_type = "application/json";
  m.response_topic = "replies/1";
  m.correlation_data = std::vector<std::uint8_t>{9, 8};
  m.user_properties = {{"unit", "C"}, {"", ""}};
  return m;
}

TEST(MessageRecord, RoundTripsEveryField) {
  const Message m = full_message();
  const Result<Message> back = decode_message_record(encode_message_record(m));
  ASSERT_TRUE(back.ok());
  Message expected = m;
  expected.publisher = 0;  // not stored
  EXPECT_EQ(*back, expected);

  Message bare;
  bare.topic = "t";
  const Result<Message> bare_back = decode_message_record(encode_message_record(bare));
  ASSERT_TRUE(bare_back.ok());
  EXPECT_EQ(*bare_back, bare);
}

TEST(MessageRecord, EncodesTheDocumentedLayout) {
  Message m;
  m.topic = "a";
  m.payload = {'x'};
  m.qos = QoS::at_least_once;
  const std::vector<std::uint8_t> expected = {
      1, 0x01, 0, 0, 0,   0, 0, 0, 0, 0,  // version, flags (QoS 1), expiry 0
      0, 0,    0, 1, 'a',                 // topic
      0, 0,    0, 1, 'x',                 // payload
      0, 0,    0, 0,                      // no user properties
  };
  EXPECT_EQ(encode_message_record(m), expected);
}

TEST(MessageRecord, DamageIsDataLoss) {
  const std::vector<std::uint8_t> good = encode_message_record(full_message());
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    const std::vector<std::uint8_t> truncated(good.begin(), good.begin() + cut);
    EXPECT_EQ(decode_message_record(truncated).status().code(), StatusCode::data_loss) << cut;
  }
  std::vector<std::uint8_t> bad = good;
  bad[0] = 2;  // unknown version
  EXPECT_EQ(decode_message_record(bad).status().code(), StatusCode::data_loss);
  bad = good;
  bad[1] |= 3;  // QoS 3
  EXPECT_EQ(decode_message_record(bad).status().code(), StatusCode::data_loss);
  bad = good;
  bad.push_back(0);  // trailing byte
  EXPECT_EQ(decode_message_record(bad).status().code(), StatusCode::data_loss);
  bad = good;
  // The property count (before "unit"/"C" and ""/""), made far too large.
  bad[bad.size() - (4 + 4 + 1 + 4 + 4) - (4 + 4) - 4] = 0xff;
  EXPECT_EQ(decode_message_record(bad).status().code(), StatusCode::data_loss);
}

}  // namespace
}  // namespace mote::broker
