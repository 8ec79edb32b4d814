#include "mote/http/parser.hpp"

#include <array>
#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "fuzz/parse_stream.hpp"
#include "testdata/captures.hpp"

namespace mote::http {
namespace {

using fuzz::check_split_invariance;
using fuzz::ParsedMessage;
using fuzz::StreamOutcome;

// A request stream, checked to parse the same however it is cut.
StreamOutcome requests(std::string_view input, ParserLimits limits = {}) {
  std::array<Header, 16> fields;
  RequestParser parser(fields, limits);
  return check_split_invariance(input, parser);
}

StreamOutcome responses(std::string_view input, Method method = Method::get,
                        ParserLimits limits = {}) {
  std::array<Header, 16> fields;
  ResponseParser parser(fields, method, limits);
  return check_split_invariance(input, parser, method);
}

ParsedMessage one_request(std::string_view input) {
  StreamOutcome outcome = requests(input);
  EXPECT_EQ(outcome.error, ParseError::none) << to_string(outcome.error);
  EXPECT_EQ(outcome.messages.size(), 1u);
  EXPECT_EQ(outcome.consumed, input.size());
  return outcome.messages.empty() ? ParsedMessage{} : outcome.messages.front();
}

ParseError request_error(std::string_view input, ParserLimits limits = {}) {
  return requests(input, limits).error;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// --- Captured requests ------------------------------------------------------

TEST(RequestParserTest, CurlGet) {
  const ParsedMessage m = one_request(testdata::kCurlGet);
  EXPECT_EQ(m.start, "GET /index.html 1.1");
  ASSERT_EQ(m.headers.size(), 3u);
  EXPECT_EQ(m.headers[0].first, "Host");
  EXPECT_EQ(m.headers[0].second.substr(0, 10), "127.0.0.1:");  // the capture's port
  EXPECT_EQ(m.headers[1], (std::pair<std::string, std::string>{"User-Agent", "curl/7.88.1"}));
  EXPECT_EQ(m.headers[2], (std::pair<std::string, std::string>{"Accept", "*/*"}));
  EXPECT_EQ(m.framing, BodyFraming::none);
  EXPECT_TRUE(m.keep_alive);
  EXPECT_FALSE(m.flag);
}

TEST(RequestParserTest, HeadViewsPointIntoTheCallersBuffer) {
  std::array<Header, 8> fields;
  RequestParser parser(fields);
  const ConstByteSpan bytes = bytes_of(testdata::kCurlHead);
  Result<std::size_t> size = parser.parse_head(bytes);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, bytes.size());
  const RequestHead& head = parser.head();
  EXPECT_EQ(head.method, Method::head);
  EXPECT_EQ(head.method_text.data(), testdata::kCurlHead.data());
  EXPECT_EQ(head.target, "/index.html");
  EXPECT_EQ(head.version, (Version{1, 1}));
  EXPECT_EQ(head.headers.get("user-agent"), "curl/7.88.1");
  EXPECT_GE(head.headers.get("host")->data(), testdata::kCurlHead.data());
  EXPECT_TRUE(parser.message_complete());
  Result<BodyChunk> body = parser.parse_body({});
  ASSERT_TRUE(body.ok());
  EXPECT_TRUE(body->complete);
  EXPECT_EQ(body->consumed, 0u);
}

TEST(RequestParserTest, CurlPostWithContentLength) {
  const ParsedMessage m = one_request(testdata::kCurlPostForm);
  EXPECT_EQ(m.start, "POST /api/devices 1.1");
  EXPECT_EQ(m.framing, BodyFraming::content_length);
  EXPECT_EQ(m.content_length, 24u);
  EXPECT_EQ(m.body, "name=sensor-1&value=21.5");
}

TEST(RequestParserTest, CurlChunkedUpload) {
  const ParsedMessage m = one_request(testdata::kCurlChunkedUpload);
  EXPECT_EQ(m.framing, BodyFraming::chunked);
  std::string expected;
  for (int i = 0; i < 3; ++i) expected += "temperature=21.5\nhumidity=40\n";
  EXPECT_EQ(m.body, expected);
}

TEST(RequestParserTest, CurlRangeWithIfNoneMatch) {
  std::array<Header, 8> fields;
  RequestParser parser(fields);
  ASSERT_TRUE(parser.parse_head(bytes_of(testdata::kCurlRangeConditional)).ok());
  EXPECT_EQ(parser.head().headers.get("Range"), "bytes=0-99");
  EXPECT_EQ(parser.head().headers.get("if-none-match"), "\"abc\"");
}

TEST(RequestParserTest, PythonRequests) {
  ParsedMessage put = one_request(testdata::kPythonPut);
  EXPECT_EQ(put.start, "PUT /api/devices/7?force=1 1.1");
  EXPECT_EQ(put.body, R"({"name":"probe"})");
  ParsedMessage chunked = one_request(testdata::kPythonChunkedPost);
  EXPECT_EQ(chunked.framing, BodyFraming::chunked);
  EXPECT_EQ(chunked.body, "first,second");
  ParsedMessage get = one_request(testdata::kPythonUrllibGet);
  EXPECT_EQ(get.start, "GET /status?verbose 1.1");
  EXPECT_FALSE(get.keep_alive);  // Connection: close
}

TEST(RequestParserTest, WebSocketOpeningHandshake) {
  const ParsedMessage m = one_request(testdata::kPythonWebSocketUpgrade);
  EXPECT_TRUE(m.flag);  // upgrade
  EXPECT_TRUE(m.keep_alive);
  std::array<Header, 16> fields;
  RequestParser parser(fields);
  ASSERT_TRUE(parser.parse_head(bytes_of(testdata::kPythonWebSocketUpgrade)).ok());
  const HeaderList& headers = parser.head().headers;
  EXPECT_TRUE(headers.has_token("Upgrade", "websocket"));
  EXPECT_TRUE(headers.has_token("connection", "upgrade"));
  EXPECT_EQ(headers.get("Sec-WebSocket-Version"), "13");
  EXPECT_EQ(headers.get("sec-websocket-key")->size(), 24u);  // 16 bytes in base64
  std::vector<std::string> extensions;
  headers.for_each_token("Sec-WebSocket-Extensions",
                         [&](std::string_view element) { extensions.emplace_back(element); });
  EXPECT_EQ(extensions, (std::vector<std::string>{"permessage-deflate; client_max_window_bits"}));
  EXPECT_EQ(token_of_element(extensions[0]), "permessage-deflate");
  EXPECT_TRUE(headers.has_token("Sec-WebSocket-Protocol", "mqtt"));
}

TEST(RequestParserTest, PipelinedRequestsStopExactlyAtEachEnd) {
  std::string stream(testdata::kCurlPostForm);
  stream += testdata::kCurlChunkedUpload;
  stream += testdata::kPythonPut;
  stream += testdata::kCurlGet;
  const StreamOutcome outcome = requests(stream);
  EXPECT_EQ(outcome.error, ParseError::none);
  ASSERT_EQ(outcome.messages.size(), 4u);
  EXPECT_EQ(outcome.messages[0].body, "name=sensor-1&value=21.5");
  EXPECT_EQ(outcome.messages[1].body.size(), 87u);
  EXPECT_EQ(outcome.messages[2].body, R"({"name":"probe"})");
  EXPECT_EQ(outcome.messages[3].start, "GET /index.html 1.1");
  EXPECT_EQ(outcome.consumed, stream.size());
}

TEST(RequestParserTest, BodyStepsHandOutViewsOfTheInput) {
  std::array<Header, 8> fields;
  RequestParser parser(fields);
  const std::string_view message = testdata::kPythonChunkedPost;
  const ConstByteSpan bytes = bytes_of(message);
  const std::size_t head = *parser.parse_head(bytes);
  ConstByteSpan rest = bytes.subspan(head);
  std::vector<std::string> pieces;
  while (!parser.message_complete()) {
    BodyChunk chunk = *parser.parse_body(rest);
    if (!chunk.data.empty()) {
      EXPECT_GE(chunk.data.data(), rest.data());
      pieces.emplace_back(as_string_view(chunk.data));
    }
    rest = rest.subspan(chunk.consumed);
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(pieces, (std::vector<std::string>{"first,", "second"}));
  EXPECT_EQ(parser.body_received(), 12u);
}

TEST(RequestParserTest, LeadingEmptyLinesAreSkipped) {
  const ParsedMessage m = one_request("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(m.start, "GET / 1.1");
}

TEST(RequestParserTest, FieldValuesAreTrimmedAndMayBeEmpty) {
  const ParsedMessage m =
      one_request("OPTIONS * HTTP/1.1\r\nHost:a\r\nX-Empty:\r\nX-Pad: \t v a l \t\r\n\r\n");
  EXPECT_EQ(m.start, "OPTIONS * 1.1");
  EXPECT_EQ(m.headers, (Fields{{"Host", "a"}, {"X-Empty", ""}, {"X-Pad", "v a l"}}));
}

TEST(RequestParserTest, OtherMethodsAreTokens) {
  std::array<Header, 4> fields;
  RequestParser parser(fields);
  ASSERT_TRUE(parser.parse_head(bytes_of("PROPFIND /d HTTP/1.1\r\nHost: a\r\n\r\n")).ok());
  EXPECT_EQ(parser.head().method, Method::other);
  EXPECT_EQ(parser.head().method_text, "PROPFIND");
  // Methods are case-sensitive (RFC 9110 §9.1).
  EXPECT_EQ(method_from("get"), Method::other);
  EXPECT_EQ(method_from("DELETE"), Method::delete_);
  EXPECT_EQ(to_string(Method::patch), "PATCH");
}

TEST(RequestParserTest, KeepAliveRules) {
  EXPECT_TRUE(one_request("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
  EXPECT_FALSE(one_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n").keep_alive);
  EXPECT_FALSE(
      one_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
  EXPECT_FALSE(one_request("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(one_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
  // A later minor version is understood as 1.1 (RFC 9110 §2.5).
  EXPECT_TRUE(one_request("GET / HTTP/1.7\r\nHost: a\r\n\r\n").keep_alive);
}

TEST(RequestParserTest, UpgradeAndExpectContinue) {
  std::array<Header, 8> fields;
  RequestParser parser(fields);
  ASSERT_TRUE(parser
                  .parse_head(bytes_of("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, "
                                       "Upgrade\r\nUpgrade: websocket\r\n\r\n"))
                  .ok());
  EXPECT_TRUE(parser.head().upgrade);
  EXPECT_FALSE(parser.head().expects_continue);
  parser.reset();
  ASSERT_TRUE(parser
                  .parse_head(bytes_of("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                                       "Expect: 100-continue\r\nUpgrade: h2c\r\n\r\n"))
                  .ok());
  EXPECT_FALSE(parser.head().upgrade);  // Upgrade without "Connection: upgrade"
  EXPECT_TRUE(parser.head().expects_continue);
}

TEST(RequestParserTest, ChunkExtensionsAndTrailersAreAccepted) {
  const ParsedMessage m = one_request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value;flag\r\nhello\r\n"
      "1 ; q = \"a;b\\\"c\" ; z\r\n,\r\n"
      "A\r\n0123456789\r\n"
      "0;last\r\nExpires: never\r\nX-Checksum: 1234\r\n\r\n");
  EXPECT_EQ(m.body, "hello,0123456789");
}

TEST(RequestParserTest, EndOfStreamInsideAMessageIsTruncation) {
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"),
            ParseError::truncated_message);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\n"), ParseError::truncated_message);
  EXPECT_EQ(
      request_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
      ParseError::truncated_message);
  const StreamOutcome empty = requests("");
  EXPECT_EQ(empty.error, ParseError::none);
  EXPECT_TRUE(empty.messages.empty());
}

// --- Rejections ---------------------------------------------------------------

struct Rejection {
  const char* what;
  std::string input;
  ParseError error;
};

std::string with_body_fields(std::string_view fields, std::string_view body = "") {
  return "POST /x HTTP/1.1\r\nHost: a\r\n" + std::string(fields) + "\r\n" + std::string(body);
}

TEST(RequestParserTest, RejectsEverySmugglingAndSyntaxRule) {
  const std::string chunked = "Transfer-Encoding: chunked\r\n";
  const std::vector<Rejection> cases = {
      // RFC 9112 §6.3: framing.
      {"TE and CL", with_body_fields(chunked + "Content-Length: 5\r\n", "0\r\n\r\n"),
       ParseError::content_length_with_transfer_encoding},
      {"CL and TE", with_body_fields("Content-Length: 5\r\n" + chunked, "0\r\n\r\n"),
       ParseError::content_length_with_transfer_encoding},
      {"two CL lines", with_body_fields("Content-Length: 5\r\nContent-Length: 6\r\n"),
       ParseError::duplicate_content_length},
      {"two equal CL lines", with_body_fields("Content-Length: 5\r\nContent-Length: 5\r\n"),
       ParseError::duplicate_content_length},
      {"CL list", with_body_fields("Content-Length: 5, 5\r\n"),
       ParseError::duplicate_content_length},
      {"CL sign", with_body_fields("Content-Length: +5\r\n"), ParseError::bad_content_length},
      {"CL hex", with_body_fields("Content-Length: 0x5\r\n"), ParseError::bad_content_length},
      {"CL empty", with_body_fields("Content-Length: \r\n"), ParseError::bad_content_length},
      {"CL inner space", with_body_fields("Content-Length: 1 2\r\n"),
       ParseError::bad_content_length},
      {"CL overflow", with_body_fields("Content-Length: 18446744073709551616\r\n"),
       ParseError::bad_content_length},
      {"chunked not final", with_body_fields("Transfer-Encoding: chunked, identity\r\n"),
       ParseError::bad_transfer_encoding},
      {"chunked twice", with_body_fields("Transfer-Encoding: chunked\r\n" + chunked),
       ParseError::bad_transfer_encoding},
      {"empty TE", with_body_fields("Transfer-Encoding: ,\r\n"), ParseError::bad_transfer_encoding},
      {"TE gzip", with_body_fields("Transfer-Encoding: gzip, chunked\r\n"),
       ParseError::unsupported_transfer_coding},
      {"TE obfuscated", with_body_fields("Transfer-Encoding: xchunked\r\n"),
       ParseError::bad_transfer_encoding},
      {"TE in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       ParseError::transfer_encoding_in_http10},
      // §7.1: chunks.
      {"chunk size not hex", with_body_fields(chunked, "g\r\n"), ParseError::bad_chunk_size},
      {"chunk size empty", with_body_fields(chunked, "\r\n"), ParseError::bad_chunk_size},
      {"chunk size negative", with_body_fields(chunked, "-1\r\n"), ParseError::bad_chunk_size},
      {"chunk size 0x", with_body_fields(chunked, "0x5\r\n"), ParseError::bad_chunk_size},
      {"chunk size overflow", with_body_fields(chunked, "10000000000000000\r\n"),
       ParseError::chunk_size_overflow},
      {"chunk size then space", with_body_fields(chunked, "5 \r\nhello\r\n0\r\n\r\n"),
       ParseError::bad_chunk_extension},
      {"chunk ext no name", with_body_fields(chunked, "5;=x\r\n"), ParseError::bad_chunk_extension},
      {"chunk ext bad value", with_body_fields(chunked, "5;a=\x01\r\n"),
       ParseError::bad_chunk_extension},
      {"chunk ext bare LF", with_body_fields(chunked, "5;a\nhello\r\n"), ParseError::bare_lf},
      {"chunk ext bare CR", with_body_fields(chunked, "5;a\rhello\r\n"), ParseError::bare_cr},
      {"chunk line too long",
       with_body_fields(chunked, "5;" + std::string(2000, 'a') + "\r\nhello\r\n0\r\n\r\n"),
       ParseError::chunk_line_too_long},
      {"chunk data too long", with_body_fields(chunked, "5\r\nhello!\r\n0\r\n\r\n"),
       ParseError::bad_chunk_end},
      {"chunk data LF only", with_body_fields(chunked, "5\r\nhello\n0\r\n\r\n"),
       ParseError::bare_lf},
      {"trailer obs-fold", with_body_fields(chunked, "0\r\nA: b\r\n c\r\n\r\n"),
       ParseError::obs_fold},
      {"trailer space before colon", with_body_fields(chunked, "0\r\nA : b\r\n\r\n"),
       ParseError::whitespace_before_colon},
      {"trailer control", with_body_fields(chunked, "0\r\nA: b\x01\r\n\r\n"),
       ParseError::bad_trailer},
      {"trailer bare LF", with_body_fields(chunked, "0\r\nA: b\n\r\n"), ParseError::bare_lf},
      // §5: field lines.
      {"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n  c\r\n\r\n", ParseError::obs_fold},
      {"whitespace before first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", ParseError::obs_fold},
      {"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
       ParseError::whitespace_before_colon},
      {"tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
       ParseError::whitespace_before_colon},
      {"space in name", "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", ParseError::bad_field_name},
      {"bad name char", "GET / HTTP/1.1\r\nHo(st): a\r\n\r\n", ParseError::bad_field_name},
      {"no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", ParseError::bad_field_name},
      {"empty name", "GET / HTTP/1.1\r\n: a\r\n\r\n", ParseError::bad_field_name},
      {"NUL in value", std::string("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 30),
       ParseError::bad_field_value},
      {"DEL in value", "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", ParseError::bad_field_value},
      {"bare CR in value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", ParseError::bare_cr},
      {"bare LF line end", "GET / HTTP/1.1\nHost: a\r\n\r\n", ParseError::bare_lf},
      {"bare LF in head end", "GET / HTTP/1.1\r\nHost: a\r\n\n", ParseError::bare_lf},
      {"missing Host", "GET / HTTP/1.1\r\n\r\n", ParseError::missing_host},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", ParseError::duplicate_host},
      // §3: the request line.
      {"bad method char", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::bad_method},
      {"empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::bad_method},
      {"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::bad_request_line},
      {"space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::bad_request_line},
      {"tab in target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::bad_target},
      {"non-ASCII target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::bad_target},
      {"HTTP/0.9", "GET /\r\n\r\n", ParseError::bad_request_line},
      {"lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", ParseError::bad_version},
      {"version letters", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", ParseError::bad_version},
      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", ParseError::unsupported_version},
      {"trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", ParseError::bad_request_line},
      {"TLS hello", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15),
       ParseError::bad_request_line},
  };
  for (const Rejection& rejection : cases) {
    const StreamOutcome outcome = requests(rejection.input);
    EXPECT_EQ(outcome.error, rejection.error)
        << rejection.what << ": got " << to_string(outcome.error);
    EXPECT_TRUE(outcome.messages.empty()) << rejection.what;
  }
}

TEST(RequestParserTest, LimitsFailWithTheirOwnErrors) {
  ParserLimits small;
  small.max_head_size = 64;
  EXPECT_EQ(
      request_error("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(60, 'x') + "\r\n\r\n", small),
      ParseError::head_too_large);
  EXPECT_EQ(request_error("GET /" + std::string(100, 'x') + " HTTP/1.1\r\n\r\n", small),
            ParseError::request_line_too_long);
  // Exactly at the limit is fine.
  const std::string exact = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(32, 'x') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), 64u);
  EXPECT_EQ(request_error(exact, small), ParseError::none);
  EXPECT_EQ(request_error(exact.substr(0, 25) + "x" + exact.substr(25), small),
            ParseError::head_too_large);

  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 16; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(request_error(many + "\r\n"), ParseError::too_many_headers);  // 17 > 16

  ParserLimits body;
  body.max_body_size = 10;
  EXPECT_EQ(request_error(with_body_fields("Content-Length: 11\r\n", std::string(11, 'x')), body),
            ParseError::body_too_large);
  EXPECT_EQ(request_error(with_body_fields("Content-Length: 10\r\n", std::string(10, 'x')), body),
            ParseError::none);
  EXPECT_EQ(request_error(with_body_fields("Transfer-Encoding: chunked\r\n",
                                           "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n"),
                          body),
            ParseError::body_too_large);

  ParserLimits trailer;
  trailer.max_trailer_size = 16;
  EXPECT_EQ(request_error(with_body_fields("Transfer-Encoding: chunked\r\n",
                                           "0\r\nX-Long: " + std::string(20, 'x') + "\r\n\r\n"),
                          trailer),
            ParseError::trailer_too_large);
}

TEST(RequestParserTest, ErrorsMapToStatusCodes) {
  EXPECT_EQ(status_code_for(ParseError::head_too_large), 431);
  EXPECT_EQ(status_code_for(ParseError::too_many_headers), 431);
  EXPECT_EQ(status_code_for(ParseError::request_line_too_long), 414);
  EXPECT_EQ(status_code_for(ParseError::body_too_large), 413);
  EXPECT_EQ(status_code_for(ParseError::unsupported_transfer_coding), 501);
  EXPECT_EQ(status_code_for(ParseError::unsupported_version), 505);
  EXPECT_EQ(status_code_for(ParseError::obs_fold), 400);
  EXPECT_EQ(status_of(ParseError::head_too_large), Status::resource_exhausted());
  EXPECT_EQ(status_of(ParseError::truncated_message), Status::data_loss());
  EXPECT_EQ(std::string(to_string(ParseError::whitespace_before_colon)), "whitespace_before_colon");
}

TEST(RequestParserTest, AFailedParserStaysFailedUntilReset) {
  std::array<Header, 4> fields;
  RequestParser parser(fields);
  EXPECT_EQ(parser.parse_head(bytes_of("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n")).status(),
            Status::invalid_argument());
  EXPECT_EQ(parser.error(), ParseError::bad_field_name);
  EXPECT_EQ(parser.parse_head(bytes_of("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).status(),
            Status::invalid_argument());
  parser.reset();
  EXPECT_TRUE(parser.parse_head(bytes_of("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).ok());
  EXPECT_EQ(parser.error(), ParseError::none);
}

// --- Responses ----------------------------------------------------------------

TEST(ResponseParserTest, PythonFileResponse) {
  const StreamOutcome outcome = responses(testdata::kPythonFileResponse);
  ASSERT_EQ(outcome.error, ParseError::none);
  ASSERT_EQ(outcome.messages.size(), 1u);
  const ParsedMessage& m = outcome.messages[0];
  EXPECT_EQ(m.start, "200 OK 1.1");
  EXPECT_EQ(m.framing, BodyFraming::content_length);
  EXPECT_EQ(m.body, "Hello from mote's capture script.\n");
  EXPECT_TRUE(m.keep_alive);
}

TEST(ResponseParserTest, PythonNotFoundClosesTheConnection) {
  const StreamOutcome outcome = responses(testdata::kPythonNotFound);
  ASSERT_EQ(outcome.messages.size(), 1u);
  EXPECT_EQ(outcome.messages[0].start, "404 File not found 1.1");
  EXPECT_EQ(outcome.messages[0].body.size(), 335u);
  EXPECT_FALSE(outcome.messages[0].keep_alive);
}

TEST(ResponseParserTest, AnswerToHeadHasNoBodyButReportsItsLength) {
  const StreamOutcome outcome = responses(testdata::kPythonHeadResponse, Method::head);
  ASSERT_EQ(outcome.error, ParseError::none);
  ASSERT_EQ(outcome.messages.size(), 1u);
  EXPECT_EQ(outcome.messages[0].framing, BodyFraming::none);
  EXPECT_EQ(outcome.messages[0].content_length, 34u);
  EXPECT_EQ(outcome.consumed, testdata::kPythonHeadResponse.size());
}

TEST(ResponseParserTest, NodeChunkedAndKeepAlive) {
  const StreamOutcome chunked = responses(testdata::kNodeChunkedResponse);
  ASSERT_EQ(chunked.messages.size(), 1u);
  EXPECT_EQ(chunked.messages[0].framing, BodyFraming::chunked);
  EXPECT_EQ(chunked.messages[0].body, "first chunk, last chunk");

  const StreamOutcome pair = responses(testdata::kNodeKeepAlivePair);
  ASSERT_EQ(pair.error, ParseError::none);
  ASSERT_EQ(pair.messages.size(), 2u);
  EXPECT_EQ(pair.messages[0].body, "fixed body");
  EXPECT_TRUE(pair.messages[0].keep_alive);
  EXPECT_EQ(pair.messages[1].body, "first chunk, last chunk");
  EXPECT_FALSE(pair.messages[1].keep_alive);
}

TEST(ResponseParserTest, NoContentAndNotModifiedHaveNoBody) {
  for (std::string_view capture : {testdata::kNodeNoContent, testdata::kNodeNotModified}) {
    const StreamOutcome outcome = responses(capture);
    ASSERT_EQ(outcome.messages.size(), 1u);
    EXPECT_EQ(outcome.messages[0].framing, BodyFraming::none);
    EXPECT_EQ(outcome.consumed, capture.size());
  }
  // Even with a body-looking field, bytes after a 304 head are the next message.
  const StreamOutcome two = responses(
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_EQ(two.messages.size(), 2u);
  EXPECT_EQ(two.messages[0].content_length, 10u);
  EXPECT_EQ(two.messages[1].body, "ok");
}

TEST(ResponseParserTest, WithoutLengthTheBodyRunsUntilClose) {
  const StreamOutcome outcome = responses("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of this");
  ASSERT_EQ(outcome.error, ParseError::none);
  ASSERT_EQ(outcome.messages.size(), 1u);
  EXPECT_EQ(outcome.messages[0].framing, BodyFraming::until_close);
  EXPECT_EQ(outcome.messages[0].body, "all of this");
  EXPECT_FALSE(outcome.messages[0].keep_alive);
  // A final coding other than chunked would be read until close (§6.3 rule
  // 4), but the parser cannot undo it: it says so instead.
  EXPECT_EQ(responses("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw").error,
            ParseError::unsupported_transfer_coding);
}

TEST(ResponseParserTest, InterimAndSwitchingResponses) {
  const StreamOutcome outcome =
      responses("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(outcome.messages.size(), 2u);
  EXPECT_EQ(outcome.messages[0].start, "100 Continue 1.1");
  EXPECT_EQ(outcome.messages[1].start, "201 Created 1.1");

  std::array<Header, 8> fields;
  ResponseParser parser(fields);
  const std::string_view upgrade =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
      "\x81\x05hello";
  Result<std::size_t> head = parser.parse_head(bytes_of(upgrade));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, upgrade.size() - 7);
  EXPECT_TRUE(parser.head().switches_protocol);
  EXPECT_TRUE(parser.message_complete());

  parser.reset(Method::connect);
  ASSERT_TRUE(parser.parse_head(bytes_of("HTTP/1.1 200 Connection established\r\n\r\n")).ok());
  EXPECT_TRUE(parser.head().switches_protocol);
}

TEST(ResponseParserTest, StatusLines) {
  EXPECT_EQ(responses("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").messages.at(0).start,
            "200  1.1");
  EXPECT_EQ(responses("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").messages.at(0).start,
            "200  1.1");
  EXPECT_EQ(responses("HTTP/1.1 20 OK\r\n\r\n").error, ParseError::bad_status_line);
  EXPECT_EQ(responses("HTTP/1.1 099 OK\r\n\r\n").error, ParseError::bad_status_line);
  EXPECT_EQ(responses("HTTP/1.1 2000 OK\r\n\r\n").error, ParseError::bad_status_line);
  EXPECT_EQ(responses("HTTP/1.1  200 OK\r\n\r\n").error, ParseError::bad_status_line);
  EXPECT_EQ(responses("HTTP/1.1 200 O\x01K\r\n\r\n").error, ParseError::bad_status_line);
  EXPECT_EQ(responses("HTTP/3.0 200 OK\r\n\r\n").error, ParseError::unsupported_version);
  EXPECT_EQ(responses("\r\nHTTP/1.1 200 OK\r\n\r\n").error, ParseError::bad_status_line);
}

TEST(ResponseParserTest, RejectsConflictingFraming) {
  EXPECT_EQ(
      responses("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n").error,
      ParseError::content_length_with_transfer_encoding);
  EXPECT_EQ(responses("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n").error,
            ParseError::duplicate_content_length);
  EXPECT_EQ(responses("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").error,
            ParseError::unsupported_transfer_coding);
}

}  // namespace
}  // namespace mote::http
