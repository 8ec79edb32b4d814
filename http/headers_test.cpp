#include "mote/http/headers.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace mote::http {
namespace {

std::vector<std::string> elements(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view element : TokenList(text)) out.emplace_back(element);
  return out;
}

TEST(TokenListTest, SplitsTrimsAndSkipsEmptyElements) {
  EXPECT_EQ(elements("close, Upgrade"), (std::vector<std::string>{"close", "Upgrade"}));
  // RFC 9110 §5.6.1.2: ", , a ,\t, b," is a list of a and b.
  EXPECT_EQ(elements(", , a ,\t, b,"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(elements("").empty());
  EXPECT_TRUE(elements(" , ,").empty());
}

TEST(TokenListTest, CommasInsideQuotedStringsDoNotSplit) {
  EXPECT_EQ(elements(R"(a;q="x,y", b)"), (std::vector<std::string>{R"(a;q="x,y")", "b"}));
  EXPECT_EQ(elements(R"("a\",b", c)"), (std::vector<std::string>{R"("a\",b")", "c"}));
}

TEST(TokenListTest, ContainsIgnoresCaseAndParameters) {
  EXPECT_TRUE(TokenList("keep-alive, Upgrade").contains("upgrade"));
  EXPECT_TRUE(TokenList("gzip;q=0.5, Chunked").contains("chunked"));
  EXPECT_TRUE(TokenList("trailers ; q=1").contains("TRAILERS"));
  EXPECT_FALSE(TokenList("upgraded, grade").contains("upgrade"));
  EXPECT_FALSE(TokenList(R"(x="upgrade")").contains("upgrade"));
}

TEST(HeaderListTest, LooksUpNamesCaseInsensitively) {
  const Header fields[] = {{"Host", "example.com"},
                           {"connection", "keep-alive"},
                           {"Upgrade", "websocket"},
                           {"CONNECTION", "Upgrade"},
                           {"Sec-WebSocket-Protocol", "mqtt, chat"},
                           {"sec-websocket-protocol", "v2.mqtt"}};
  const HeaderList headers(fields);
  EXPECT_EQ(headers.size(), 6u);
  EXPECT_EQ(headers.get("HOST"), "example.com");
  EXPECT_EQ(headers.get("Connection"), "keep-alive");  // the first field line
  EXPECT_FALSE(headers.get("Content-Length").has_value());
  EXPECT_TRUE(headers.contains("upgrade"));
  EXPECT_EQ(headers.count("Connection"), 2u);
  EXPECT_EQ(headers.count("Accept"), 0u);
  // A list split over two field lines (RFC 9110 §5.3).
  EXPECT_TRUE(headers.has_token("Connection", "upgrade"));
  EXPECT_TRUE(headers.has_token("connection", "KEEP-ALIVE"));
  EXPECT_FALSE(headers.has_token("Connection", "close"));

  std::vector<std::string> values;
  for (std::string_view value : headers.values("Connection")) values.emplace_back(value);
  EXPECT_EQ(values, (std::vector<std::string>{"keep-alive", "Upgrade"}));

  std::vector<std::string> protocols;
  headers.for_each_token("Sec-WebSocket-Protocol",
                         [&](std::string_view protocol) { protocols.emplace_back(protocol); });
  EXPECT_EQ(protocols, (std::vector<std::string>{"mqtt", "chat", "v2.mqtt"}));

  std::vector<std::string> names;
  for (const Header& field : headers) names.emplace_back(field.name);
  EXPECT_EQ(names.front(), "Host");
  EXPECT_EQ(names.back(), "sec-websocket-protocol");
}

TEST(HeaderListTest, EmptyListFindsNothing) {
  const HeaderList headers;
  EXPECT_TRUE(headers.empty());
  EXPECT_FALSE(headers.get("Host").has_value());
  EXPECT_FALSE(headers.has_token("Connection", "close"));
  EXPECT_EQ(headers.values("Host").begin(), headers.values("Host").end());
}

TEST(CharacterClassTest, TokensAndFieldValues) {
  EXPECT_TRUE(is_token("Sec-WebSocket-Key"));
  EXPECT_TRUE(is_token("!#$%&'*+-.^_`|~09azAZ"));
  EXPECT_FALSE(is_token(""));
  EXPECT_FALSE(is_token("Bad Name"));
  EXPECT_FALSE(is_token("a:b"));
  EXPECT_FALSE(is_token("(x)"));
  EXPECT_FALSE(is_token("\"q\""));
  EXPECT_TRUE(is_field_value("text/html; charset=\"utf-8\"\t"));
  EXPECT_TRUE(is_field_value("caf\xc3\xa9"));  // obs-text
  EXPECT_FALSE(is_field_value("a\rb"));
  EXPECT_FALSE(is_field_value("a\nb"));
  EXPECT_FALSE(is_field_value(std::string_view("a\0b", 3)));
  EXPECT_FALSE(is_field_value("a\x7f"));
  EXPECT_TRUE(equals_ignore_case("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(equals_ignore_case("Content-Length", "Content-Lengths"));
}

}  // namespace
}  // namespace mote::http
