#include "mote/gateway/ingest.hpp"

#include <gtest/gtest.h>
#include <string>

namespace mote::gateway {
namespace {

TEST(Ingest, RoutesReadingAndStatusTopics) {
  const Route reading = route_topic("mote", "mote/kitchen/temperature").value();
  EXPECT_EQ(reading.kind, Route::Kind::reading);
  EXPECT_EQ(reading.device, "kitchen");
  EXPECT_EQ(reading.metric, "temperature");

  const Route status = route_topic("mote", "mote/node-1.b_2/status").value();
  EXPECT_EQ(status.kind, Route::Kind::status);
  EXPECT_EQ(status.device, "node-1.b_2");
  EXPECT_EQ(status.metric, "");

  EXPECT_TRUE(route_topic("site/a", "site/a/dev/t").ok());
}

TEST(Ingest, RejectsOtherTopics) {
  for (const char* topic :
       {"mote", "mote/", "mote/kitchen", "mote/kitchen/", "mote//t", "mote/kitchen/t/extra",
        "other/kitchen/t", "motes/kitchen/t", "mote/kit chen/t", "mote/kitchen/t+",
        "mote/kitchen/#", "/mote/k/t", "mote/kitchen/temp\xc3\xa9"}) {
    EXPECT_FALSE(route_topic("mote", topic).ok()) << topic;
  }
  EXPECT_FALSE(route_topic("mote", "mote/" + std::string(65, 'a') + "/t").ok());
  EXPECT_TRUE(route_topic("mote", "mote/" + std::string(64, 'a') + "/t").ok());
}

TEST(Ingest, ParsesPlainNumbers) {
  EXPECT_DOUBLE_EQ(parse_reading("21.43").value().value, 21.43);
  EXPECT_DOUBLE_EQ(parse_reading(" -5\r\n").value().value, -5.0);
  EXPECT_DOUBLE_EQ(parse_reading("1e3").value().value, 1000.0);
  EXPECT_FALSE(parse_reading("21.43").value().time_ms.has_value());
}

TEST(Ingest, ParsesJsonReadings) {
  const ReadingPayload full =
      parse_reading(R"({"value": 21.5, "unit": "°C", "time_ms": 1795219200000})").value();
  EXPECT_DOUBLE_EQ(full.value, 21.5);
  EXPECT_EQ(full.unit, "°C");
  EXPECT_EQ(full.time_ms, 1795219200000);
  EXPECT_DOUBLE_EQ(parse_reading(R"({"value":3})").value().value, 3.0);
  // Unknown members are ignored, so nodes can send more than the gateway reads.
  EXPECT_TRUE(parse_reading(R"({"value":3,"battery":"ok"})").ok());
}

TEST(Ingest, RejectsBadReadings) {
  for (const char* payload : {"",
                              "  ",
                              "abc",
                              "21.4x",
                              "nan",
                              "inf",
                              "-inf",
                              "1e999",
                              "0x10",
                              "{",
                              "[]",
                              "[1]",
                              "{}",
                              R"({"value":"21"})",
                              R"({"value":null})",
                              R"({"value":1,"unit":5})",
                              R"({"value":1,"unit":"this unit is far too long"})",
                              R"({"value":1,"time_ms":1.5})",
                              R"({"value":1,"time_ms":-1})",
                              R"({"value":1,"time_ms":"now"})",
                              R"({"value":1e999})",
                              "{\"value\":1,\"unit\":\"\xff\"}"}) {
    EXPECT_FALSE(parse_reading(payload).ok()) << payload;
  }
  EXPECT_FALSE(parse_reading(std::string(2000, ' ') + "1").ok());
}

TEST(Ingest, ParsesStatus) {
  EXPECT_TRUE(parse_status("online").value());
  EXPECT_TRUE(parse_status("1").value());
  EXPECT_FALSE(parse_status("offline").value());
  EXPECT_FALSE(parse_status(" false\n").value());
  EXPECT_FALSE(parse_status("maybe").ok());
  EXPECT_FALSE(parse_status("").ok());
}

}  // namespace
}  // namespace mote::gateway
