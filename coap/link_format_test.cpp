#include "mote/coap/link_format.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace mote::coap {
namespace {

TEST(CoapLinkFormat, WritesAttributesInRfc6690Form) {
  std::byte buffer[256];
  LinkFormatWriter writer(buffer);
  writer
      .add("sensors/temp", {.resource_type = "temperature-c",
                            .interface = "sensor",
                            .content_format = 0,
                            .observable = true})
      .add("led", {.content_format = 50})
      .add("", {.title = "root"});
  const std::size_t size = writer.finish().value();
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(buffer), size),
            "</sensors/temp>;rt=\"temperature-c\";if=\"sensor\";ct=0;obs,</led>;ct=50,</>;"
            "title=\"root\"");
}

TEST(CoapLinkFormat, WriterRefusesWhatWouldNeedEscapingOrDoesNotFit) {
  std::byte buffer[64];
  EXPECT_EQ(LinkFormatWriter(buffer).add("a>b", {}).finish().status(), Status::invalid_argument());
  EXPECT_EQ(LinkFormatWriter(buffer).add("a", {.title = "say \"hi\""}).finish().status(),
            Status::invalid_argument());
  std::byte small[8];
  EXPECT_EQ(LinkFormatWriter(small).add("a-long-path", {}).finish().status(),
            Status::resource_exhausted());
}

TEST(CoapLinkFormat, ReadsLinksAndParameters) {
  LinkFormatReader reader("</a>;rt=\"x y\";ct=40;obs,<coap://h/b>;title=\"q\\\"uote\",</c>");
  const Link a = reader.next().value().value();
  EXPECT_EQ(a.target, "/a");
  EXPECT_EQ(a.parameter("rt"), "x y");
  EXPECT_EQ(a.parameter("ct"), "40");
  EXPECT_EQ(a.parameter("obs"), "");
  EXPECT_EQ(a.parameter("if"), std::nullopt);
  const Link b = reader.next().value().value();
  EXPECT_EQ(b.target, "coap://h/b");
  EXPECT_EQ(b.parameter("title"), "q\\\"uote");
  const Link c = reader.next().value().value();
  EXPECT_EQ(c.target, "/c");
  EXPECT_TRUE(c.parameters.empty());
  EXPECT_FALSE(reader.next().value().has_value());
}

TEST(CoapLinkFormat, RejectsTextOutsideTheGrammar) {
  for (const char* bad :
       {"/a", "</a", "</a>;", "</a>;=x", "</a>;rt=\"open", "</a>x", "</a>,", "</a>;ct=", "<<a>"}) {
    LinkFormatReader reader(bad);
    Status status = ok_status();
    for (int i = 0; i < 4 && status.ok(); ++i) {
      Result<std::optional<Link>> link = reader.next();
      status = link.status();
      if (status.ok() && !link->has_value()) break;
    }
    EXPECT_EQ(status, Status::data_loss()) << bad;
  }
}

}  // namespace
}  // namespace mote::coap
