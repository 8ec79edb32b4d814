#include "mote/coap/message.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "mote/coap/block.hpp"
#include "mote/coap/link_format.hpp"
#include "testdata/captures.hpp"

namespace mote::coap {
namespace {

using Bytes = std::vector<std::byte>;

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

template <std::size_t N>
ConstByteSpan span_of(const std::uint8_t (&data)[N]) {
  return bytes_of(std::span<const std::uint8_t>(data, N));
}

std::vector<Option> options_of(const Message& message) {
  std::vector<Option> out;
  for (const Option& option : message.options()) out.push_back(option);
  return out;
}

TEST(CoapMessage, ParsesACapturedLibcoapGetAndItsPiggybackedResponse) {
  const Message request = Message::parse(span_of(testdata::kClientGet1)).value();
  EXPECT_EQ(request.type(), Type::confirmable);
  EXPECT_EQ(request.code(), codes::kGet);
  EXPECT_EQ(request.token().size(), 4u);
  EXPECT_TRUE(request.payload().empty());
  EXPECT_TRUE(request.uri_path_is("/"));  // no Uri-Path: the root

  const Message response = Message::parse(span_of(testdata::kServerGet1)).value();
  EXPECT_EQ(response.type(), Type::acknowledgement);
  EXPECT_EQ(response.code(), codes::kContent);
  EXPECT_EQ(response.message_id(), request.message_id());
  EXPECT_TRUE(std::equal(response.token().begin(), response.token().end(), request.token().begin(),
                         request.token().end()));
  EXPECT_EQ(response.find_uint(OptionNumber::max_age), 0x2ffffu);  // what libcoap sends
  EXPECT_NE(as_string_view(response.payload()).find("This is a test server"), std::string::npos);
  // The payload starts right after the marker, inside the captured buffer.
  EXPECT_EQ(response.payload().data()[-1], kPayloadMarker);
}

TEST(CoapMessage, ReadsUriPathQueryAndExtendedLengthsFromACapturedPut) {
  const Message request = Message::parse(span_of(testdata::kClientPutQuery1)).value();
  EXPECT_EQ(request.code(), codes::kPut);
  EXPECT_TRUE(request.uri_path_is("example_data"));
  EXPECT_FALSE(request.uri_path_is("example"));
  EXPECT_FALSE(request.uri_path_is("example_data/more"));
  std::vector<std::string> queries;
  for (const Option& option : request.options()) {
    if (option.number == static_cast<std::uint16_t>(OptionNumber::uri_query)) {
      queries.emplace_back(option.as_string());
    }
  }
  ASSERT_EQ(queries.size(), 2u);
  EXPECT_EQ(queries[0], "x=1");
  EXPECT_EQ(queries[1], "long=" + std::string(20, 'q'));   // 25 bytes: the 13 length form
  EXPECT_EQ(request.find_uint(OptionNumber::accept), 0u);  // -A 0: an empty uint
  EXPECT_EQ(as_string_view(request.payload()), "hello");
  EXPECT_EQ(request.first_unrecognised_critical(), std::nullopt);
}

TEST(CoapMessage, ReadsBlock2AndSize2FromCapturedBlockwiseResponses) {
  const Message first = Message::parse(span_of(testdata::kServerBlock21)).value();
  const Block block = Block::from_value(*first.find_uint(OptionNumber::block2)).value();
  EXPECT_EQ(block, (Block{0, true, 0}));
  EXPECT_EQ(block.size(), 16u);
  EXPECT_EQ(first.payload().size(), 16u);
  EXPECT_GT(*first.find_uint(OptionNumber::size2), 16u);
  const Message second = Message::parse(span_of(testdata::kServerBlock22)).value();
  EXPECT_EQ(Block::from_value(*second.find_uint(OptionNumber::block2)).value(),
            (Block{1, true, 0}));
  const Message request = Message::parse(span_of(testdata::kClientBlock22)).value();
  EXPECT_EQ(Block::from_value(*request.find_uint(OptionNumber::block2)).value(),
            (Block{1, false, 0}));
}

TEST(CoapMessage, ReadsObserveFromCapturedRegistrationAndNotifications) {
  const Message registration = Message::parse(span_of(testdata::kClientObserve1)).value();
  EXPECT_EQ(registration.find_uint(OptionNumber::observe), kObserveRegister);
  EXPECT_TRUE(registration.uri_path_is("time"));
  const Message first = Message::parse(span_of(testdata::kServerObserve1)).value();
  const Message later = Message::parse(span_of(testdata::kServerObserve2)).value();
  ASSERT_TRUE(first.find_uint(OptionNumber::observe).has_value());
  ASSERT_TRUE(later.find_uint(OptionNumber::observe).has_value());
  EXPECT_TRUE(is_fresher_notification(*first.find_uint(OptionNumber::observe), async::Instant(),
                                      *later.find_uint(OptionNumber::observe), async::Instant()));
  EXPECT_TRUE(std::equal(later.token().begin(), later.token().end(), registration.token().begin(),
                         registration.token().end()));
}

TEST(CoapMessage, EveryCaptureRoundTripsByteForByte) {
  const std::vector<ConstByteSpan> captures = {
      span_of(testdata::kClientGet1),           span_of(testdata::kServerGet1),
      span_of(testdata::kClientWellKnownCore1), span_of(testdata::kServerWellKnownCore1),
      span_of(testdata::kClientPutQuery1),      span_of(testdata::kServerPutQuery1),
      span_of(testdata::kClientBlock21),        span_of(testdata::kServerBlock21),
      span_of(testdata::kClientBlock29),        span_of(testdata::kServerBlock29),
      span_of(testdata::kClientObserve1),       span_of(testdata::kServerObserve1),
      span_of(testdata::kServerObserve3),       span_of(testdata::kClientObserve2),
      span_of(testdata::kClientObserve5),       span_of(testdata::kClientNonGet1),
      span_of(testdata::kServerNonGet1)};
  for (ConstByteSpan capture : captures) {
    const Message message = Message::parse(capture).value();
    Bytes out(capture.size());
    ASSERT_EQ(encode_copy(message, out).value(), capture.size());
    EXPECT_TRUE(std::equal(out.begin(), out.end(), capture.begin(), capture.end()));
  }
}

TEST(CoapMessage, WellKnownCoreFromLibcoapIsLinkFormat) {
  const Message response = Message::parse(span_of(testdata::kServerWellKnownCore1)).value();
  EXPECT_EQ(response.find_uint(OptionNumber::content_format),
            static_cast<std::uint32_t>(ContentFormat::link_format));
  LinkFormatReader reader(as_string_view(response.payload()));
  std::vector<std::string> targets;
  bool time_observable = false;
  for (;;) {
    Result<std::optional<Link>> link = reader.next();
    ASSERT_TRUE(link.ok());
    if (!link->has_value()) break;
    targets.emplace_back((*link)->target);
    if ((*link)->target == "/time") time_observable = (*link)->parameter("obs").has_value();
  }
  EXPECT_GE(targets.size(), 3u);
  EXPECT_EQ(targets[0], "/");
  EXPECT_TRUE(time_observable);
}

TEST(CoapMessage, EmptyMessagesAndPings) {
  const Bytes ack = bytes({0x60, 0x00, 0x12, 0x34});
  const Message message = Message::parse(ack).value();
  EXPECT_EQ(message.type(), Type::acknowledgement);
  EXPECT_TRUE(message.code().is_empty());
  EXPECT_EQ(message.message_id(), 0x1234);
  // §4.1: an empty message with a token, options or payload is a format error.
  EXPECT_EQ(Message::parse(bytes({0x61, 0x00, 0x12, 0x34, 0xaa})).status(), Status::data_loss());
  EXPECT_EQ(Message::parse(bytes({0x60, 0x00, 0x12, 0x34, 0xb0})).status(), Status::data_loss());
}

TEST(CoapMessage, RejectsEveryFormatError) {
  const std::vector<std::pair<const char*, Bytes>> bad = {
      {"short header", bytes({0x40, 0x01, 0x00})},
      {"version 0", bytes({0x00, 0x01, 0x00, 0x01})},
      {"version 2", bytes({0x80, 0x01, 0x00, 0x01})},
      {"version 3", bytes({0xc0, 0x01, 0x00, 0x01})},
      {"token length 9", bytes({0x49, 0x01, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9})},
      {"token length 15",
       bytes({0x4f, 0x01, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})},
      {"token cut short", bytes({0x44, 0x01, 0, 1, 1, 2})},
      {"delta nibble 15", bytes({0x40, 0x01, 0, 1, 0xf0})},
      {"length nibble 15", bytes({0x40, 0x01, 0, 1, 0x1f})},
      {"marker with no payload", bytes({0x40, 0x01, 0, 1, 0xff})},
      {"marker after options with no payload", bytes({0x40, 0x01, 0, 1, 0xb1, 'a', 0xff})},
      {"value past the end", bytes({0x40, 0x01, 0, 1, 0xb3, 'a', 'b'})},
      {"13 delta without its byte", bytes({0x40, 0x01, 0, 1, 0xd0})},
      {"14 delta with one byte", bytes({0x40, 0x01, 0, 1, 0xe0, 0x01})},
      {"14 length with one byte", bytes({0x40, 0x01, 0, 1, 0x1e, 0x01})},
      {"13 length past the end", bytes({0x40, 0x01, 0, 1, 0x1d, 0x00, 'a'})},
      {"number past 65535", bytes({0x40, 0x01, 0, 1, 0xe0, 0xfe, 0xf3, 0xe0, 0x00, 0x01})},
  };
  for (const auto& [what, data] : bad) {
    EXPECT_EQ(Message::parse(data).status(), Status::data_loss()) << what;
  }
  // The largest number that fits: 269 + 0xfef2 = 65535.
  const Bytes largest_bytes = bytes({0x40, 0x01, 0, 1, 0xe0, 0xfe, 0xf2});
  const Message largest = Message::parse(largest_bytes).value();
  EXPECT_EQ(options_of(largest).at(0).number, 65535);
}

TEST(CoapMessage, WritesDeltaAndLengthInTheirShortestForms) {
  struct Case {
    std::uint16_t number;
    std::size_t length;
    Bytes header;
  };
  const std::vector<Case> cases = {
      {12, 0, bytes({0xc0})},
      {13, 12, bytes({0xdc, 0x00})},
      {268, 13, bytes({0xdd, 0xff, 0x00})},
      {269, 268, bytes({0xed, 0x00, 0x00, 0xff})},
      {65535, 269, bytes({0xee, 0xfe, 0xf2, 0x00, 0x00})},
  };
  for (const Case& c : cases) {
    Bytes buffer(2000);
    const Bytes value(c.length, std::byte{'v'});
    MessageWriter writer(buffer, Type::non_confirmable, codes::kPost, 7, {});
    writer.add(c.number, value);
    const std::size_t size = writer.finish().value();
    ASSERT_EQ(size, kHeaderSize + c.header.size() + c.length) << c.number;
    EXPECT_TRUE(std::equal(c.header.begin(), c.header.end(), buffer.begin() + kHeaderSize));
    const Message parsed = Message::parse(ConstByteSpan(buffer.data(), size)).value();
    const std::vector<Option> options = options_of(parsed);
    ASSERT_EQ(options.size(), 1u);
    EXPECT_EQ(options[0].number, c.number);
    EXPECT_EQ(options[0].value.size(), c.length);
  }
}

TEST(CoapMessage, WriterBuildsARequestThatParsesBack) {
  Bytes buffer(128);
  const Bytes token = bytes({1, 2, 3});
  MessageWriter writer(buffer, Type::confirmable, codes::kPut, 0xbeef, token);
  writer.add_string(OptionNumber::uri_host, "example")
      .add_uint(OptionNumber::observe, 0)
      .add_path(OptionNumber::uri_path, "/a/bc/def")
      .add_uint(OptionNumber::content_format, 50)
      .add_uint(OptionNumber::block1, Block{3, true, 2}.value())
      .add_uint(OptionNumber::size1, 70000)
      .set_payload(bytes_of(std::string_view("{}")));
  const std::size_t size = writer.finish().value();
  const Message parsed = Message::parse(ConstByteSpan(buffer.data(), size)).value();
  EXPECT_EQ(parsed.message_id(), 0xbeef);
  EXPECT_EQ(parsed.type(), Type::confirmable);
  EXPECT_TRUE(parsed.uri_path_is("a/bc/def"));
  char path[16];
  EXPECT_EQ(as_string_view(bytes_of(std::string_view(path, parsed.uri_path(path).value()))),
            "a/bc/def");
  char tiny[4];
  EXPECT_EQ(parsed.uri_path(tiny).status(), Status::resource_exhausted());
  EXPECT_EQ(parsed.find(OptionNumber::observe)->value.size(), 0u);  // uint 0 is empty
  EXPECT_EQ(parsed.find_uint(OptionNumber::content_format), 50u);
  EXPECT_EQ(parsed.find(OptionNumber::content_format)->value.size(), 1u);
  EXPECT_EQ(parsed.find(OptionNumber::size1)->value.size(), 3u);
  EXPECT_EQ(parsed.find_uint(OptionNumber::size1), 70000u);
  EXPECT_EQ(Block::from_value(*parsed.find_uint(OptionNumber::block1)).value(),
            (Block{3, true, 2}));
  EXPECT_EQ(as_string_view(parsed.payload()), "{}");
}

TEST(CoapMessage, WriterRefusesOutOfOrderOptionsAndSmallBuffers) {
  Bytes buffer(64);
  MessageWriter out_of_order(buffer, Type::confirmable, codes::kGet, 1, {});
  out_of_order.add_uint(OptionNumber::content_format, 0).add_string(OptionNumber::uri_path, "x");
  EXPECT_EQ(out_of_order.finish().status(), Status::invalid_argument());

  MessageWriter after_payload(buffer, Type::confirmable, codes::kGet, 1, {});
  after_payload.set_payload(bytes_of(std::string_view("p"))).add_empty(OptionNumber::size1);
  EXPECT_EQ(after_payload.finish().status(), Status::invalid_argument());

  const Bytes long_token(9, std::byte{1});
  EXPECT_EQ(MessageWriter(buffer, Type::confirmable, codes::kGet, 1, long_token).finish().status(),
            Status::invalid_argument());

  Bytes small(6);
  MessageWriter too_small(small, Type::confirmable, codes::kGet, 1, {});
  too_small.add_string(OptionNumber::uri_path, "abc");
  EXPECT_EQ(too_small.finish().status(), Status::resource_exhausted());
  MessageWriter no_room(small, Type::confirmable, codes::kGet, 1, {});
  no_room.set_payload(bytes_of(std::string_view("abc")));
  EXPECT_EQ(no_room.finish().status(), Status::resource_exhausted());

  // An empty payload writes no marker (§3).
  MessageWriter empty(buffer, Type::acknowledgement, codes::kEmpty, 9, {});
  empty.set_payload({});
  EXPECT_EQ(empty.finish().value(), kHeaderSize);
}

TEST(CoapMessage, UintOptionsUseTheMinimalLength) {
  EXPECT_EQ(encode_uint(0).size, 0);
  EXPECT_EQ(encode_uint(1).size, 1);
  EXPECT_EQ(encode_uint(0xff).size, 1);
  EXPECT_EQ(encode_uint(0x100).size, 2);
  EXPECT_EQ(encode_uint(0xffffff).size, 3);
  EXPECT_EQ(encode_uint(0x1000000).size, 4);
  const UintBytes big = encode_uint(0x01020304);
  EXPECT_EQ(big.bytes()[0], std::byte{1});
  EXPECT_EQ(big.bytes()[3], std::byte{4});
  // Leading zeros are accepted when reading (§3.2 says "SHOULD" omit them).
  const Bytes padded = bytes({0, 0, 1});
  EXPECT_EQ((Option{14, padded}.as_uint().value()), 1u);
  const Bytes five = bytes({1, 2, 3, 4, 5});
  EXPECT_EQ((Option{14, five}.as_uint().status()), Status::out_of_range());
}

Message build(Bytes& buffer, const std::vector<std::pair<std::uint16_t, Bytes>>& options) {
  MessageWriter writer(buffer, Type::confirmable, codes::kGet, 1, {});
  for (const auto& [number, value] : options) writer.add(number, value);
  return Message::parse(ConstByteSpan(buffer.data(), writer.finish().value())).value();
}

TEST(CoapMessage, FindsUnrecognisedCriticalOptions) {
  Bytes buffer(64);
  // Known options of the right size pass; unknown elective ones are ignored.
  EXPECT_EQ(build(buffer, {{11, bytes({'a'})}, {11, bytes({'b'})}, {12, {}}, {1000, {}}})
                .first_unrecognised_critical(),
            std::nullopt);
  EXPECT_EQ(build(buffer, {{9, {}}}).first_unrecognised_critical(), 9);  // unknown critical
  EXPECT_EQ(build(buffer, {{3, {}}}).first_unrecognised_critical(), 3);  // Uri-Host too short
  EXPECT_EQ(build(buffer, {{23, bytes({1, 2, 3, 4})}}).first_unrecognised_critical(), 23);
  EXPECT_EQ(build(buffer, {{5, {}}, {5, {}}}).first_unrecognised_critical(), 5);  // repeated
  // An elective option of the wrong length is ignored, not refused (§5.4.3).
  EXPECT_EQ(build(buffer, {{12, bytes({1, 2, 3})}}).first_unrecognised_critical(), std::nullopt);
}

TEST(CoapMessage, OptionClassesAndCodes) {
  EXPECT_TRUE(is_critical(static_cast<std::uint16_t>(OptionNumber::uri_path)));
  EXPECT_FALSE(is_critical(static_cast<std::uint16_t>(OptionNumber::observe)));
  EXPECT_TRUE(is_unsafe(static_cast<std::uint16_t>(OptionNumber::proxy_uri)));
  EXPECT_TRUE(is_no_cache_key(static_cast<std::uint16_t>(OptionNumber::size1)));
  EXPECT_FALSE(is_no_cache_key(static_cast<std::uint16_t>(OptionNumber::etag)));
  ASSERT_NE(find_option(258), nullptr);
  EXPECT_STREQ(find_option(258)->name, "No-Response");
  EXPECT_EQ(find_option(2), nullptr);
  char text[4];
  codes::kRequestEntityTooLarge.format(text);
  EXPECT_EQ(std::string(text, 4), "4.13");
  EXPECT_TRUE(codes::kContinue.is_success());
  EXPECT_TRUE(codes::kDelete.is_request());
  EXPECT_TRUE(codes::kGatewayTimeout.is_response());
  EXPECT_FALSE(codes::kEmpty.is_request());
  EXPECT_STREQ(to_string(Type::reset), "RST");
}

TEST(CoapBlock, ValuesSizesAndTheReservedSzx) {
  EXPECT_EQ(Block::from_value(0).value(), (Block{0, false, 0}));
  EXPECT_EQ(Block::from_value(0x1e).value(), (Block{1, true, 6}));
  EXPECT_EQ((Block{1, true, 6}.value()), 0x1eu);
  EXPECT_EQ((Block{5, false, 2}.offset()), 320u);
  EXPECT_EQ(Block::from_value(7).status(), Status::invalid_argument());
  EXPECT_EQ(Block::from_value(0x1000000).status(), Status::invalid_argument());
  EXPECT_EQ(Block::szx_for(16), 0);
  EXPECT_EQ(Block::szx_for(63), 1);
  EXPECT_EQ(Block::szx_for(64), 2);
  EXPECT_EQ(Block::szx_for(1152), 6);
  EXPECT_EQ(Block::szx_for(1), 0);
}

TEST(CoapObserve, FreshnessFollowsRfc7641Section3_4) {
  using namespace std::chrono_literals;
  const async::Instant t0;
  EXPECT_TRUE(is_fresher_notification(5, t0, 6, t0));
  EXPECT_FALSE(is_fresher_notification(6, t0, 5, t0));  // reordered
  EXPECT_FALSE(is_fresher_notification(6, t0, 6, t0));  // duplicate
  // Wrap-around of the 24-bit number.
  EXPECT_TRUE(is_fresher_notification(0xfffffe, t0, 2, t0));
  EXPECT_FALSE(is_fresher_notification(2, t0, 0xfffffe, t0));
  EXPECT_FALSE(is_fresher_notification(0, t0, 1u << 23, t0));
  // Anything newer than 128 s wins whatever its number.
  EXPECT_TRUE(is_fresher_notification(6, t0, 5, t0 + 129s));
  EXPECT_FALSE(is_fresher_notification(6, t0, 5, t0 + 128s));
}

}  // namespace
}  // namespace mote::coap
