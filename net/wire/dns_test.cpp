#include "mote/net/wire/dns.hpp"

#include <array>
#include <gtest/gtest.h>
#include <string>
#include <string_view>
#include <vector>

#include "testdata/captures.hpp"
#include "testdata/layers.hpp"

namespace mote::net::wire {
namespace {

using testdata::copy_of;
using testdata::udp_payload_of;

constexpr Ipv4Address kExampleCom(93, 184, 215, 14);

DnsRepr parse(ConstByteSpan bytes) {
  return DnsRepr::parse(DnsPacket<>::checked(bytes).value()).value();
}

std::string text_of(const DnsName& name) {
  std::array<char, DnsName::kMaxTextLen> buffer{};
  const std::size_t length = name.to_text(buffer).value();
  return std::string(buffer.data(), length);
}

// A 12-byte header with the given counts, then `body`.
std::vector<std::byte> message(std::uint16_t questions, std::uint16_t answers,
                               std::initializer_list<int> body) {
  std::vector<std::byte> bytes(12);
  store_be16(bytes.data() + 4, questions);
  store_be16(bytes.data() + 6, answers);
  for (int b : body) bytes.push_back(static_cast<std::byte>(b));
  return bytes;
}

TEST(DnsRepr, ParsesDigsQuery) {
  const auto packet = DnsPacket<>::checked(udp_payload_of(testdata::kDnsQueryA)).value();
  EXPECT_FALSE(packet.is_response());
  EXPECT_EQ(packet.question_count(), 1);
  const DnsRepr repr = DnsRepr::parse(packet).value();
  EXPECT_EQ(repr.id, packet.id());
  EXPECT_EQ(repr.opcode, DnsOpcode::query);
  EXPECT_TRUE(repr.recursion_desired);
  EXPECT_TRUE(repr.authentic_data);  // dig asks for AD by default (RFC 6840 §5.7)
  ASSERT_TRUE(repr.question.has_value());
  EXPECT_TRUE(repr.question->name.equals("example.com"));
  EXPECT_EQ(repr.question->type, DnsType::a);
  EXPECT_EQ(repr.question->qclass, kDnsClassIn);
  EXPECT_TRUE(repr.answers.empty());
}

TEST(DnsRepr, EmitsTheSameQueryDigSent) {
  const auto packet = DnsPacket<>::checked(udp_payload_of(testdata::kDnsQueryA)).value();
  DnsRepr query = DnsRepr::query(packet.id(), "example.com").value();
  query.authentic_data = true;
  ASSERT_EQ(query.buffer_len(), packet.bytes().size());
  std::vector<std::byte> out(query.buffer_len());
  ASSERT_EQ(query.emit(out).value(), out.size());
  EXPECT_EQ(out, copy_of(packet.bytes()));

  for (auto frame : {std::span<const std::uint8_t>(testdata::kDnsQueryA),
                     std::span<const std::uint8_t>(testdata::kDnsQueryCname)}) {
    const ConstByteSpan original = udp_payload_of(frame);
    const DnsRepr repr = parse(original);
    std::vector<std::byte> again(repr.buffer_len());
    ASSERT_TRUE(repr.emit(again).ok());
    EXPECT_EQ(again, copy_of(original));
  }
}

TEST(DnsRepr, ParsesACompressedAnswer) {
  const DnsRepr repr = parse(udp_payload_of(testdata::kDnsResponseA));
  EXPECT_TRUE(repr.response);
  EXPECT_TRUE(repr.authoritative);
  EXPECT_TRUE(repr.recursion_available);
  EXPECT_EQ(repr.rcode, DnsRcode::no_error);
  ASSERT_EQ(repr.answers.size(), 1u);
  const DnsAnswer& answer = repr.answers[0];
  EXPECT_EQ(answer.type, DnsType::a);
  EXPECT_EQ(answer.address, kExampleCom);
  EXPECT_EQ(answer.ttl, 300u);
  EXPECT_EQ(text_of(answer.name), "example.com");  // a pointer to the question
  EXPECT_EQ(answer.name, repr.question->name);
}

TEST(DnsRepr, FollowsACname) {
  const DnsRepr repr = parse(udp_payload_of(testdata::kDnsResponseCname));
  ASSERT_EQ(repr.answers.size(), 2u);
  EXPECT_EQ(repr.answers[0].type, DnsType::cname);
  EXPECT_TRUE(repr.answers[0].name.equals("www.example.com"));
  EXPECT_EQ(text_of(repr.answers[0].canonical_name), "example.com");
  EXPECT_EQ(repr.answers[1].type, DnsType::a);
  EXPECT_EQ(repr.answers[1].name, repr.answers[0].canonical_name);  // compressed into the CNAME
  EXPECT_EQ(repr.answers[1].address, kExampleCom);
}

TEST(DnsRepr, ResponsesRoundTripWithoutCompression) {
  for (auto frame : {std::span<const std::uint8_t>(testdata::kDnsResponseA),
                     std::span<const std::uint8_t>(testdata::kDnsResponseCname)}) {
    const ConstByteSpan original = udp_payload_of(frame);
    const DnsRepr repr = parse(original);
    std::vector<std::byte> out(repr.buffer_len());
    ASSERT_EQ(repr.emit(out).value(), out.size());
    EXPECT_GT(out.size(), original.size());  // names written out in full
    const auto again = DnsPacket<>::checked(out).value();
    EXPECT_EQ(DnsRepr::parse(again).value(), repr);
  }
  // example.com A: 12 + question 17 + answer 13 + 10 + 4.
  EXPECT_EQ(parse(udp_payload_of(testdata::kDnsResponseA)).buffer_len(), 12u + 17u + 27u);
}

TEST(DnsReader, WalksEverySection) {
  const auto packet = DnsPacket<>::checked(udp_payload_of(testdata::kDnsResponseCname)).value();
  DnsReader reader(packet);
  const std::optional<DnsRecord> first = reader.next_record();  // skips the question
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->section, DnsSection::answer);
  EXPECT_EQ(first->type, DnsType::cname);
  EXPECT_FALSE(first->address().has_value());
  EXPECT_TRUE(first->canonical_name()->equals("EXAMPLE.com."));
  const std::optional<DnsRecord> second = reader.next_record();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->address(), kExampleCom);
  EXPECT_FALSE(reader.next_record().has_value());
  EXPECT_FALSE(reader.next_question().has_value());
}

TEST(DnsName, ComparesWithoutRegardToCase) {
  const DnsName name = DnsName::from_text("WWW.Example.COM.").value();
  EXPECT_TRUE(name.equals("www.example.com"));
  EXPECT_FALSE(name.equals("www.example.co"));
  EXPECT_FALSE(name.equals("www.example.com.au"));
  EXPECT_FALSE(name.equals("ww.example.com"));
  EXPECT_EQ(name.wire_len(), 17u);
  EXPECT_EQ(text_of(name), "WWW.Example.COM");
  EXPECT_TRUE(DnsName::from_text(".").value().is_root());
  EXPECT_TRUE(DnsName().is_root());
  EXPECT_EQ(text_of(DnsName()), ".");
  EXPECT_EQ(DnsName().wire_len(), 1u);
}

TEST(DnsName, RejectsBadText) {
  for (std::string_view bad : {"a..b", ".a", "a.b..", ".."}) {
    EXPECT_EQ(DnsName::from_text(bad).status(), Status::invalid_argument()) << bad;
  }
  const std::string label63(63, 'x');
  EXPECT_TRUE(DnsName::from_text(label63 + ".com").ok());
  EXPECT_EQ(DnsName::from_text(label63 + "x.com").status(), Status::invalid_argument());
  // 255 octets on the wire, root included, is the limit.
  std::string name = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'y');
  EXPECT_EQ(DnsName::from_text(name).value().wire_len(), 255u);
  EXPECT_EQ(DnsName::from_text(name + "y").status(), Status::invalid_argument());
  std::array<char, 10> small{};
  EXPECT_EQ(DnsName::from_text("example.com").value().to_text(small).status(),
            Status::resource_exhausted());
}

TEST(DnsPacket, RejectsTruncatedMessages) {
  const ConstByteSpan response = udp_payload_of(testdata::kDnsResponseA);
  for (std::size_t length = 0; length < response.size(); ++length) {
    EXPECT_EQ(DnsPacket<>::checked(response.first(length)).status(), Status::out_of_range())
        << length;
  }
  EXPECT_TRUE(DnsPacket<>::checked(response).ok());
  // Counts the message cannot hold.
  auto many_answers = copy_of(response);
  store_be16(many_answers.data() + 6, 0xffff);
  EXPECT_EQ(DnsPacket<>::checked(many_answers).status(), Status::out_of_range());
  auto many_questions = copy_of(response);
  store_be16(many_questions.data() + 4, 0xffff);
  EXPECT_EQ(DnsPacket<>::checked(many_questions).status(), Status::out_of_range());
}

TEST(DnsPacket, RejectsBadNames) {
  auto status = [](const std::vector<std::byte>& bytes) {
    return DnsPacket<>::checked(bytes).status();
  };
  // A pointer to itself, and one forward.
  EXPECT_EQ(status(message(1, 0, {0xc0, 12, 0, 1, 0, 1})), Status::invalid_argument());
  EXPECT_EQ(status(message(1, 0, {0xc0, 14, 0, 0, 1, 0, 1})), Status::invalid_argument());
  // A name pointing ahead into the next one.
  EXPECT_EQ(status(message(2, 0, {1, 'a', 0xc0, 17, 0, 1, 0, 1, 1, 'b', 0xc0, 12, 0, 1, 0, 1})),
            Status::invalid_argument());
  // The reserved label types 01 and 10.
  EXPECT_EQ(status(message(1, 0, {0x41, 'a', 0, 0, 1, 0, 1})), Status::invalid_argument());
  EXPECT_EQ(status(message(1, 0, {0x81, 'a', 0, 0, 1, 0, 1})), Status::invalid_argument());
  // A label or a pointer cut off by the end.
  EXPECT_EQ(status(message(1, 0, {5, 'a', 'b'})), Status::out_of_range());
  EXPECT_EQ(status(message(1, 0, {0xc0})), Status::out_of_range());
  EXPECT_EQ(status(message(1, 0, {3, 'c', 'o', 'm'})), Status::out_of_range());
  // A name over 255 octets.
  std::vector<int> body;
  for (int i = 0; i < 5; ++i) {
    body.push_back(63);
    for (int j = 0; j < 63; ++j) body.push_back('z');
  }
  body.push_back(0);
  body.insert(body.end(), {0, 1, 0, 1});
  std::vector<std::byte> long_name = message(1, 0, {});
  for (int b : body) long_name.push_back(static_cast<std::byte>(b));
  EXPECT_EQ(status(long_name), Status::invalid_argument());
}

TEST(DnsPacket, AcceptsABackwardPointerChain) {
  // Question "a.b" at 12, then a second question "c" + pointer to "b" (offset 14).
  const auto bytes = message(2, 0, {1, 'a', 1, 'b', 0, 0, 1, 0, 1, 1, 'c', 0xc0, 14, 0, 1, 0, 1});
  const auto packet = DnsPacket<>::checked(bytes).value();
  DnsReader reader(packet);
  EXPECT_TRUE(reader.next_question()->name.equals("a.b"));
  EXPECT_TRUE(reader.next_question()->name.equals("c.b"));
  EXPECT_EQ(DnsRepr::parse(packet).status(), Status::unimplemented());  // two questions
}

TEST(DnsPacket, RejectsMalformedRdata) {
  const ConstByteSpan response = udp_payload_of(testdata::kDnsResponseA);
  // RDLENGTH 5 for an A record (with one more byte so it still fits).
  auto long_a = copy_of(response);
  long_a.push_back(std::byte{0});
  store_be16(long_a.data() + response.size() - 6, 5);
  EXPECT_EQ(DnsPacket<>::checked(long_a).status(), Status::invalid_argument());
  // RDLENGTH past the end.
  auto past_end = copy_of(response);
  store_be16(past_end.data() + response.size() - 6, 6);
  EXPECT_EQ(DnsPacket<>::checked(past_end).status(), Status::out_of_range());

  // A CNAME whose RDATA holds a name and a stray byte.
  const ConstByteSpan cname = udp_payload_of(testdata::kDnsResponseCname);
  auto stray = copy_of(cname.first(45 + 13));  // header, question, CNAME record
  store_be16(stray.data() + 6, 1);             // one answer
  stray.push_back(std::byte{0});
  store_be16(stray.data() + 43, 14);
  EXPECT_EQ(DnsPacket<>::checked(stray).status(), Status::invalid_argument());
}

TEST(DnsRepr, KeepsTheFirstAnswersAndReadsHighTtlsAsZero) {
  // Six A answers, all a pointer to the question, TTL 0x80000000.
  std::vector<int> body = {1, 'h', 0, 0, 1, 0, 1};
  for (int i = 0; i < 6; ++i) {
    body.insert(body.end(), {0xc0, 12, 0, 1, 0, 1, 0x80, 0, 0, 0, 0, 4, 10, 0, 0, i});
  }
  std::vector<std::byte> bytes = message(1, 6, {});
  for (int b : body) bytes.push_back(static_cast<std::byte>(b));
  const DnsRepr repr = parse(bytes);
  ASSERT_EQ(repr.answers.size(), DnsRepr::kMaxAnswers);
  EXPECT_EQ(repr.answers[3].address, Ipv4Address(10, 0, 0, 3));
  EXPECT_EQ(repr.answers[0].ttl, 0u);
}

TEST(DnsRepr, SkipsOtherRecordTypes) {
  // An AAAA answer then an A answer.
  const auto bytes = message(
      0, 2, {1, 'h', 0, 0, 28, 0, 1,    0,  0, 0, 60, 0, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0,
             0, 0,   0, 0, 0,  1, 0xc0, 12, 0, 1, 0,  1, 0,  0,    0, 60,  0,    4, 1, 2, 3, 4});
  const DnsRepr repr = parse(bytes);
  EXPECT_FALSE(repr.question.has_value());
  ASSERT_EQ(repr.answers.size(), 1u);
  EXPECT_EQ(repr.answers[0].address, Ipv4Address(1, 2, 3, 4));
  EXPECT_TRUE(repr.answers[0].name.equals("h"));
}

TEST(DnsRepr, EmitChecks) {
  DnsRepr repr = DnsRepr::query(1, "example.com").value();
  std::vector<std::byte> small(repr.buffer_len() - 1);
  EXPECT_EQ(repr.emit(small).status(), Status::resource_exhausted());
  DnsAnswer aaaa;
  aaaa.type = DnsType::aaaa;
  repr.answers.push_back(aaaa);
  std::vector<std::byte> out(512);
  EXPECT_EQ(repr.emit(out).status(), Status::invalid_argument());
  EXPECT_EQ(DnsRepr::query(1, "a..b").status(), Status::invalid_argument());
}

}  // namespace
}  // namespace mote::net::wire
