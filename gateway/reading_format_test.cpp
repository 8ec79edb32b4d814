#include "mote/gateway/reading_format.hpp"

#include <array>
#include <gtest/gtest.h>
#include <limits>
#include <string>

#include "mote/gateway/ingest.hpp"

namespace mote::gateway {
namespace {

std::string reading(std::int64_t milli, std::string_view unit, std::optional<std::int64_t> time) {
  std::array<std::byte, 128> out{};
  const Result<std::size_t> size = format_reading(out, milli, unit, time);
  EXPECT_TRUE(size.ok());
  return size.ok() ? std::string(reinterpret_cast<const char*>(out.data()), *size) : "";
}

TEST(ReadingFormat, FormatsTopics) {
  std::array<char, 64> out{};
  const Result<std::size_t> size = format_topic(out, "mote", "greenhouse", "temperature");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(std::string_view(out.data(), *size), "mote/greenhouse/temperature");
  EXPECT_EQ(format_topic(out, "mote", "bad name", "t").status().code(),
            StatusCode::invalid_argument);
  EXPECT_EQ(format_topic(out, "mote", "n", "").status().code(), StatusCode::invalid_argument);
  std::array<char, 8> small{};
  EXPECT_EQ(format_topic(small, "mote", "greenhouse", "t").status().code(),
            StatusCode::resource_exhausted);
}

TEST(ReadingFormat, FormatsThousandths) {
  EXPECT_EQ(reading(21437, "°C", 1795219200000),
            R"({"value":21.437,"unit":"°C","time_ms":1795219200000})");
  EXPECT_EQ(reading(-5, "", std::nullopt), R"({"value":-0.005})");
  EXPECT_EQ(reading(-21000, "", std::nullopt), R"({"value":-21.000})");
  EXPECT_EQ(reading(0, "%", 0), R"({"value":0.000,"unit":"%","time_ms":0})");
  EXPECT_EQ(reading(std::numeric_limits<std::int64_t>::min(), "", std::nullopt),
            R"({"value":-9223372036854775.808})");
}

// What a node formats, the gateway parses back to the same reading.
TEST(ReadingFormat, GatewayParsesWhatNodesFormat) {
  for (const std::int64_t milli :
       {std::int64_t{0}, std::int64_t{21437}, std::int64_t{-40125}, std::int64_t{1013250}}) {
    const Result<ReadingPayload> parsed = parse_reading(reading(milli, "hPa", 42));
    ASSERT_TRUE(parsed.ok());
    EXPECT_DOUBLE_EQ(parsed->value, static_cast<double>(milli) / 1000);
    EXPECT_EQ(parsed->unit, "hPa");
    EXPECT_EQ(parsed->time_ms, 42);
  }
}

TEST(ReadingFormat, RejectsWhatWouldNeedEscaping) {
  std::array<std::byte, 128> out{};
  EXPECT_FALSE(format_reading(out, 1, "a\"b", std::nullopt).ok());
  EXPECT_FALSE(format_reading(out, 1, "a\\b", std::nullopt).ok());
  EXPECT_FALSE(format_reading(out, 1, "a\nb", std::nullopt).ok());
  EXPECT_FALSE(format_reading(out, 1, "seventeen bytes!!", std::nullopt).ok());
  EXPECT_FALSE(format_reading(out, 1, "", -1).ok());
  std::array<std::byte, 10> small{};
  EXPECT_EQ(format_reading(small, 21437, "°C", std::nullopt).status().code(),
            StatusCode::resource_exhausted);
}

}  // namespace
}  // namespace mote::gateway
