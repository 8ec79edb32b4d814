#include "mote/http/message_writer.hpp"

#include <array>
#include <gtest/gtest.h>
#include <string>

#include "mote/http/parser.hpp"

namespace mote::http {
namespace {

TEST(HeadWriterTest, WritesAResponseHeadTheParserReadsBack) {
  std::array<std::byte, 256> buffer;
  HeadWriter head(buffer);
  ASSERT_TRUE(head.status_line(404).ok());
  ASSERT_TRUE(head.field("Content-Type", "text/plain").ok());
  ASSERT_TRUE(head.field("Content-Length", std::uint64_t{1234567890123}).ok());
  Result<ConstByteSpan> bytes = head.finish();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(as_string_view(*bytes),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
            "Content-Length: 1234567890123\r\n\r\n");
  std::array<Header, 4> fields;
  ResponseParser parser(fields);
  ASSERT_EQ(parser.parse_head(*bytes).value_or(0), bytes->size());
  EXPECT_EQ(parser.head().status, 404);
  EXPECT_EQ(parser.head().content_length, 1234567890123u);
}

TEST(HeadWriterTest, WritesARequestLine) {
  std::array<std::byte, 64> buffer;
  HeadWriter head(buffer);
  ASSERT_TRUE(head.request_line("GET", "/a?b=c").ok());
  ASSERT_TRUE(head.field("Host", "example").ok());
  EXPECT_EQ(as_string_view(*head.finish()), "GET /a?b=c HTTP/1.1\r\nHost: example\r\n\r\n");
  HeadWriter bad(buffer);
  EXPECT_EQ(bad.request_line("GE T", "/"), Status::invalid_argument());
  EXPECT_EQ(bad.request_line("GET", "/a b"), Status::invalid_argument());
  EXPECT_EQ(bad.request_line("GET", ""), Status::invalid_argument());
}

TEST(HeadWriterTest, RefusesWhatWouldSplitTheResponse) {
  std::array<std::byte, 256> buffer;
  HeadWriter head(buffer);
  ASSERT_TRUE(head.status_line(200, "Fine").ok());
  EXPECT_EQ(head.field("X", "a\r\nSet-Cookie: evil=1"), Status::invalid_argument());
  EXPECT_EQ(head.field("X", "a\nb"), Status::invalid_argument());
  EXPECT_EQ(head.field("X", std::string_view("a\0b", 3)), Status::invalid_argument());
  EXPECT_EQ(head.field("X: y", "z"), Status::invalid_argument());
  EXPECT_EQ(head.field("", "z"), Status::invalid_argument());
  EXPECT_EQ(head.field("X", " padded"), Status::invalid_argument());
  EXPECT_EQ(head.status_line(200, "OK\r\nX: y"), Status::invalid_argument());
  EXPECT_EQ(head.status_line(99), Status::invalid_argument());
  EXPECT_EQ(as_string_view(*head.finish()), "HTTP/1.1 200 Fine\r\n\r\n");
}

TEST(HeadWriterTest, ALineThatDoesNotFitLeavesNothingBehind) {
  std::array<std::byte, 24> buffer;
  HeadWriter head(buffer);
  ASSERT_TRUE(head.status_line(200).ok());  // 17 bytes
  EXPECT_EQ(head.field("Content-Type", "text/plain"), Status::resource_exhausted());
  EXPECT_EQ(head.size(), 17u);
  ASSERT_TRUE(head.field("A", "b").ok());                           // 6 more
  EXPECT_EQ(head.finish().status(), Status::resource_exhausted());  // no room for CRLF
  EXPECT_EQ(head.size(), 23u);
}

TEST(ChunkTest, SizeLinesAreLowerCaseHexWithoutLeadingZeros) {
  std::array<std::byte, 18> buffer;
  EXPECT_EQ(as_string_view(*write_chunk_size_line(buffer, 0)), "0\r\n");
  EXPECT_EQ(as_string_view(*write_chunk_size_line(buffer, 26)), "1a\r\n");
  EXPECT_EQ(as_string_view(*write_chunk_size_line(buffer, UINT64_MAX)), "ffffffffffffffff\r\n");
  std::array<std::byte, 3> small;
  EXPECT_EQ(write_chunk_size_line(small, 26).status(), Status::resource_exhausted());
}

TEST(ReasonPhraseTest, KnownAndUnknownCodes) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(299), "");
  std::array<char, 20> digits;
  EXPECT_EQ(format_decimal(digits, 0), "0");
  EXPECT_EQ(format_decimal(digits, UINT64_MAX), "18446744073709551615");
}

}  // namespace
}  // namespace mote::http
