#include "mote/mqtt/properties.hpp"

#include <array>
#include <gtest/gtest.h>
#include <vector>

namespace mote::mqtt {
namespace {

TEST(MqttProperties, BuilderWritesWhatTheReaderReads) {
  std::array<std::byte, 128> storage{};
  PropertyBuilder builder(storage);
  const auto correlation = make_bytes(1, 2, 3);
  builder.add_integer(PropertyId::payload_format_indicator, 1)
      .add_integer(PropertyId::message_expiry_interval, 70000)
      .add_string(PropertyId::content_type, "application/json")
      .add_binary(PropertyId::correlation_data, correlation)
      .add_integer(PropertyId::subscription_identifier, 268'435'455)
      .add_integer(PropertyId::topic_alias, 513)
      .add_user_property("a", "1")
      .add_user_property("a", "2");
  const Result<Properties> built = builder.properties();
  ASSERT_TRUE(built.ok());
  EXPECT_FALSE(check_properties(built->bytes(), PropertyContext::publish).has_value());
  // Will properties do not allow a Topic Alias or a Subscription Identifier.
  EXPECT_TRUE(check_properties(built->bytes(), PropertyContext::will).has_value());

  std::vector<Property> all(built->begin(), built->end());
  ASSERT_EQ(all.size(), 8u);
  EXPECT_EQ(all[0].integer, 1u);
  EXPECT_EQ(all[1].integer, 70000u);
  EXPECT_EQ(all[2].string, "application/json");
  EXPECT_TRUE(all[3].binary == BinaryData(correlation));
  EXPECT_EQ(all[4].integer, 268'435'455u);
  EXPECT_EQ(all[5].integer, 513u);
  EXPECT_EQ(all[6].value, "1");
  EXPECT_EQ(all[7].value, "2");
  EXPECT_EQ(built->integer(PropertyId::topic_alias), 513u);
  EXPECT_FALSE(built->find(PropertyId::response_topic).has_value());
  // 1+1, 1+4, 1+2+16, 1+2+3, 1+4, 1+2, 2 x (1+3+3)
  EXPECT_EQ(built->bytes().size(), 2u + 5u + 19u + 6u + 5u + 3u + 14u);
}

TEST(MqttProperties, BuilderRefusesWrongTypesAndFullBuffers) {
  std::array<std::byte, 64> storage{};
  {
    PropertyBuilder builder(storage);
    builder.add_string(PropertyId::topic_alias, "x");
    EXPECT_EQ(builder.properties().status(), Status::invalid_argument());
  }
  {
    PropertyBuilder builder(storage);
    builder.add_integer(PropertyId::payload_format_indicator, 256);
    EXPECT_EQ(builder.status(), Status::invalid_argument());
  }
  {
    PropertyBuilder builder(storage);
    builder.add_string(PropertyId::content_type, "\xed\xa0\x80");
    EXPECT_EQ(builder.status(), Status::invalid_argument());
  }
  {
    std::array<std::byte, 4> small{};
    PropertyBuilder builder(small);
    builder.add_integer(PropertyId::session_expiry_interval, 1);
    EXPECT_EQ(builder.status(), Status::resource_exhausted());
    builder.add_integer(PropertyId::topic_alias, 1);  // would fit, but the failure sticks
    EXPECT_EQ(builder.status(), Status::resource_exhausted());
  }
}

TEST(MqttProperties, AllowedPerPacket) {
  EXPECT_TRUE(is_property_allowed(PropertyId::will_delay_interval, PropertyContext::will));
  EXPECT_FALSE(is_property_allowed(PropertyId::will_delay_interval, PropertyContext::connect));
  EXPECT_TRUE(is_property_allowed(PropertyId::reason_string, PropertyContext::puback));
  EXPECT_FALSE(is_property_allowed(PropertyId::reason_string, PropertyContext::publish));
  EXPECT_TRUE(is_property_allowed(PropertyId::server_reference, PropertyContext::disconnect));
  EXPECT_FALSE(is_property_allowed(PropertyId::server_reference, PropertyContext::connect));
  for (int context = 0; context < 14; ++context) {
    EXPECT_TRUE(
        is_property_allowed(PropertyId::user_property, static_cast<PropertyContext>(context)));
  }
  EXPECT_FALSE(property_type(0x00).has_value());
  EXPECT_FALSE(property_type(0x2b).has_value());
  EXPECT_EQ(property_type(0x26), PropertyType::utf8_string_pair);
}

TEST(MqttProperties, ValueRules) {
  const auto check = [](std::initializer_list<int> values, PropertyContext context) {
    std::vector<std::byte> bytes;
    for (int v : values) bytes.push_back(static_cast<std::byte>(v));
    const auto error = check_properties(bytes, context);
    return error ? error->reason : ReasonCode::success;
  };
  EXPECT_EQ(check({0x17, 2}, PropertyContext::connect), ReasonCode::protocol_error);
  EXPECT_EQ(check({0x19, 1}, PropertyContext::connect), ReasonCode::success);
  EXPECT_EQ(check({0x25, 2}, PropertyContext::connack), ReasonCode::protocol_error);
  EXPECT_EQ(check({0x28, 1, 0x29, 0, 0x2a, 1}, PropertyContext::connack), ReasonCode::success);
  EXPECT_EQ(check({0x0b, 0x80, 0x80, 0x80, 0x80, 0x01}, PropertyContext::subscribe),
            ReasonCode::malformed_packet);  // five-byte VBI
  EXPECT_EQ(check({0x0b, 0x80, 0x00}, PropertyContext::subscribe),
            ReasonCode::malformed_packet);  // non-minimal
  EXPECT_EQ(check({0x26, 0, 1, 0x61}, PropertyContext::auth), ReasonCode::malformed_packet);
  EXPECT_EQ(check({0x1f, 0, 2, 0xc3, 0xa9}, PropertyContext::auth), ReasonCode::success);
  EXPECT_EQ(check({0x1f, 0, 2, 0xc3, 0xa9, 0x1f, 0, 0}, PropertyContext::auth),
            ReasonCode::protocol_error);
}

}  // namespace
}  // namespace mote::mqtt
