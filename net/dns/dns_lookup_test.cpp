#include "mote/net/dns/dns_lookup.hpp"

#include <deque>
#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "../wire/testdata/captures.hpp"
#include "../wire/testdata/layers.hpp"
#include "mote/net/dns/dns_cache.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using wire::DnsAnswer;
using wire::DnsName;
using wire::DnsRcode;
using wire::DnsRepr;
using wire::DnsType;

constexpr io::Ipv4Address kServerA(192, 168, 69, 1);
constexpr io::Ipv4Address kServerB(192, 168, 69, 2);
constexpr io::Ipv4Address kExampleCom(93, 184, 215, 14);
// The id dig gave its queries in the captures.
constexpr std::uint16_t kCapturedId = 0x1c65;
const Instant kT0 = Instant{} + 50s;

class ScriptedRandom final : public RandomSource {
 public:
  std::uint32_t next_u32() override {
    if (values.empty()) return ++counter;
    const std::uint32_t value = values.front();
    values.pop_front();
    return value;
  }
  std::deque<std::uint32_t> values;
  std::uint32_t counter = 0x100;
};

DnsAnswer a_record(std::string_view name, io::Ipv4Address address, std::uint32_t ttl) {
  DnsAnswer answer;
  answer.name = DnsName::from_text(name).value();
  answer.type = DnsType::a;
  answer.ttl = ttl;
  answer.address = address;
  return answer;
}

DnsAnswer cname_record(std::string_view name, std::string_view target, std::uint32_t ttl) {
  DnsAnswer answer;
  answer.name = DnsName::from_text(name).value();
  answer.type = DnsType::cname;
  answer.ttl = ttl;
  answer.canonical_name = DnsName::from_text(target).value();
  return answer;
}

// A response as a recursive server would send it.
std::vector<std::byte> response(std::uint16_t id, std::string_view question,
                                std::initializer_list<DnsAnswer> answers,
                                DnsRcode rcode = DnsRcode::no_error) {
  DnsRepr repr = DnsRepr::query(id, question).value();
  repr.response = true;
  repr.recursion_available = true;
  repr.rcode = rcode;
  for (const DnsAnswer& answer : answers) repr.answers.push_back(answer);
  std::vector<std::byte> bytes(repr.buffer_len());
  EXPECT_TRUE(repr.emit(bytes).ok());
  return bytes;
}

std::vector<std::byte> captured_with_id(std::span<const std::uint8_t> frame, std::uint16_t id) {
  std::vector<std::byte> bytes = wire::testdata::copy_of(wire::testdata::udp_payload_of(frame));
  store_be16(bytes.data(), id);
  return bytes;
}

class DnsLookupTest : public ::testing::Test {
 protected:
  DnsLookupTest() : lookup(random) {}

  // The query poll() sends at `now`, parsed back.
  DnsRepr expect_query(Instant now, io::Ipv4Address to) {
    std::optional<DnsQueryTransmit> query = lookup.poll(now, buffer);
    EXPECT_TRUE(query.has_value());
    if (!query) return {};
    EXPECT_EQ(query->server, to);
    sent = std::vector<std::byte>(buffer, buffer + query->size);
    const auto packet = wire::DnsPacket<>::checked(ConstByteSpan(sent)).value();
    return DnsRepr::parse(packet).value();
  }
  Status answer(const std::vector<std::byte>& message, Instant now,
                io::Ipv4Address from = kServerA) {
    return lookup.handle(message, from, now);
  }

  ScriptedRandom random;
  DnsLookup lookup;
  std::byte buffer[DnsLookup::kMaxQueryLen];
  std::vector<std::byte> sent;
  const io::Ipv4Address servers[2] = {kServerA, kServerB};
};

TEST_F(DnsLookupTest, AnswerFromDnsmasqCapture) {
  random.values = {kCapturedId};
  ASSERT_TRUE(lookup.start("example.com", servers, kT0).ok());
  EXPECT_FALSE(lookup.done());
  EXPECT_EQ(lookup.poll_at(), kT0);
  const DnsRepr query = expect_query(kT0, kServerA);
  EXPECT_EQ(query.id, kCapturedId);
  EXPECT_FALSE(query.response);
  EXPECT_TRUE(query.recursion_desired);
  EXPECT_TRUE(query.question->name.equals("example.com"));
  EXPECT_EQ(query.question->type, DnsType::a);
  // The question is dig's, byte for byte (dig also set AD in the flags).
  const ConstByteSpan digs = wire::testdata::udp_payload_of(wire::testdata::kDnsQueryA);
  EXPECT_TRUE(wire::same_bytes(ConstByteSpan(sent).subspan(12), digs.subspan(12)));
  EXPECT_EQ(lookup.poll_at(), kT0 + 2s);
  EXPECT_FALSE(lookup.poll(kT0 + 1s, buffer).has_value());

  ASSERT_TRUE(answer(captured_with_id(wire::testdata::kDnsResponseA, kCapturedId), kT0 + 5ms).ok());
  ASSERT_TRUE(lookup.done());
  ASSERT_TRUE(lookup.result().ok());
  EXPECT_EQ(*lookup.result(), (DnsAddress{kExampleCom, 300}));
  EXPECT_EQ(lookup.poll_at(), async::kNever);
  EXPECT_FALSE(lookup.poll(kT0 + 10s, buffer).has_value());
}

TEST_F(DnsLookupTest, CnameChainFromDnsmasqCapture) {
  random.values = {kCapturedId};
  ASSERT_TRUE(lookup.start("www.example.com", servers, kT0).ok());
  expect_query(kT0, kServerA);
  ASSERT_TRUE(
      answer(captured_with_id(wire::testdata::kDnsResponseCname, kCapturedId), kT0 + 1ms).ok());
  ASSERT_TRUE(lookup.result().ok());
  EXPECT_EQ(lookup.result()->address, kExampleCom);
}

TEST_F(DnsLookupTest, CnameChainInAnyOrderTakesTheSmallestTtl) {
  ASSERT_TRUE(lookup.start("a.test", servers, kT0).ok());
  const std::uint16_t id = expect_query(kT0, kServerA).id;
  ASSERT_TRUE(answer(response(id, "a.test",
                              {a_record("c.test", io::Ipv4Address(10, 0, 0, 3), 600),
                               a_record("other.test", io::Ipv4Address(10, 0, 0, 9), 5),
                               cname_record("b.test", "c.test", 60),
                               cname_record("A.TEST", "b.test", 3600)}),
                     kT0)
                  .ok());
  ASSERT_TRUE(lookup.result().ok());
  EXPECT_EQ(*lookup.result(), (DnsAddress{io::Ipv4Address(10, 0, 0, 3), 60}));
}

TEST_F(DnsLookupTest, ChainThatEndsWithoutAnAddressIsAskedForAgain) {
  ASSERT_TRUE(lookup.start("a.test", servers, kT0).ok());
  const std::uint16_t first_id = expect_query(kT0, kServerA).id;
  random.values = {0x7777};
  ASSERT_TRUE(
      answer(response(first_id, "a.test", {cname_record("a.test", "far.example", 120)}), kT0 + 10ms)
          .ok());
  EXPECT_FALSE(lookup.done());
  EXPECT_EQ(lookup.query_name(), "far.example");
  EXPECT_EQ(lookup.poll_at(), kT0 + 10ms);
  const DnsRepr second = expect_query(kT0 + 10ms, kServerA);
  EXPECT_EQ(second.id, 0x7777);
  EXPECT_TRUE(second.question->name.equals("far.example"));
  // An answer to the first question is no longer accepted.
  EXPECT_EQ(answer(response(first_id, "a.test", {a_record("a.test", kExampleCom, 9)}), kT0).code(),
            StatusCode::not_found);
  ASSERT_TRUE(answer(response(0x7777, "far.example",
                              {a_record("far.example", io::Ipv4Address(10, 1, 1, 1), 900)}),
                     kT0 + 20ms)
                  .ok());
  EXPECT_EQ(*lookup.result(), (DnsAddress{io::Ipv4Address(10, 1, 1, 1), 120}));
}

TEST_F(DnsLookupTest, CnameLoopEndsAfterTheHopLimit) {
  ASSERT_TRUE(lookup.start("a.test", servers, kT0).ok());
  const std::uint16_t id = expect_query(kT0, kServerA).id;
  ASSERT_TRUE(
      answer(response(id, "a.test",
                      {cname_record("a.test", "b.test", 60), cname_record("b.test", "a.test", 60)}),
             kT0)
          .ok());
  ASSERT_TRUE(lookup.done());
  EXPECT_EQ(lookup.result().status().code(), StatusCode::unavailable);
}

TEST_F(DnsLookupTest, NxdomainAndNoDataAreNotFound) {
  ASSERT_TRUE(lookup.start("nowhere.test", servers, kT0).ok());
  std::uint16_t id = expect_query(kT0, kServerA).id;
  ASSERT_TRUE(answer(response(id, "nowhere.test", {}, DnsRcode::name_error), kT0).ok());
  EXPECT_EQ(lookup.result().status().code(), StatusCode::not_found);

  ASSERT_TRUE(lookup.start("v6only.test", servers, kT0).ok());
  id = expect_query(kT0, kServerA).id;
  ASSERT_TRUE(answer(response(id, "v6only.test", {}), kT0).ok());
  EXPECT_EQ(lookup.result().status().code(), StatusCode::not_found);
}

TEST_F(DnsLookupTest, FailingServerIsSkippedAtOnce) {
  ASSERT_TRUE(lookup.start("example.com", servers, kT0).ok());
  std::uint16_t id = expect_query(kT0, kServerA).id;
  ASSERT_TRUE(answer(response(id, "example.com", {}, DnsRcode::server_failure), kT0 + 1ms).ok());
  EXPECT_FALSE(lookup.done());
  EXPECT_EQ(lookup.poll_at(), kT0 + 1ms);
  id = expect_query(kT0 + 1ms, kServerB).id;
  ASSERT_TRUE(answer(response(id, "example.com", {}, DnsRcode::refused), kT0 + 2ms, kServerB).ok());
  // Second round, same answers: no server can help.
  id = expect_query(kT0 + 2ms, kServerA).id;
  ASSERT_TRUE(answer(response(id, "example.com", {}, DnsRcode::not_implemented), kT0 + 3ms).ok());
  id = expect_query(kT0 + 3ms, kServerB).id;
  ASSERT_TRUE(
      answer(response(id, "example.com", {}, DnsRcode::format_error), kT0 + 4ms, kServerB).ok());
  ASSERT_TRUE(lookup.done());
  EXPECT_EQ(lookup.result().status().code(), StatusCode::unavailable);
}

TEST_F(DnsLookupTest, LateErrorFromAnEarlierServerDoesNotSkipTheCurrentOne) {
  ASSERT_TRUE(lookup.start("example.com", servers, kT0).ok());
  const std::uint16_t id = expect_query(kT0, kServerA).id;
  expect_query(kT0 + 2s, kServerB);
  ASSERT_TRUE(
      answer(response(id, "example.com", {}, DnsRcode::server_failure), kT0 + 2100ms, kServerA)
          .ok());
  EXPECT_EQ(lookup.poll_at(), kT0 + 4s);  // still waiting for B
  ASSERT_TRUE(answer(response(id, "example.com", {a_record("example.com", kExampleCom, 30)}),
                     kT0 + 2200ms, kServerB)
                  .ok());
  EXPECT_EQ(lookup.result()->address, kExampleCom);
}

TEST_F(DnsLookupTest, ErrorWithoutTheQuestionMovesToTheNextServer) {
  ASSERT_TRUE(lookup.start("example.com", servers, kT0).ok());
  const std::uint16_t id = expect_query(kT0, kServerA).id;
  // FORMERR with QDCOUNT 0, as servers send for a query they cannot parse.
  std::vector<std::byte> formerr = {std::byte{0}, std::byte{0}, std::byte{0x81}, std::byte{0x81},
                                    std::byte{0}, std::byte{0}, std::byte{0},    std::byte{0},
                                    std::byte{0}, std::byte{0}, std::byte{0},    std::byte{0}};
  store_be16(formerr.data(), id ^ 1);
  EXPECT_EQ(answer(formerr, kT0).code(), StatusCode::not_found);  // not our id
  store_be16(formerr.data(), id);
  ASSERT_TRUE(answer(formerr, kT0 + 1ms).ok());
  EXPECT_FALSE(lookup.done());
  expect_query(kT0 + 1ms, kServerB);
  // Without the question, a NOERROR answer is not accepted.
  formerr[3] = std::byte{0x80};
  EXPECT_EQ(answer(formerr, kT0 + 2ms, kServerB).code(), StatusCode::not_found);
}

TEST_F(DnsLookupTest, TimeoutsGoRoundTheServersThenGiveUp) {
  ASSERT_TRUE(lookup.start("example.com", servers, kT0).ok());
  const std::uint16_t id = expect_query(kT0, kServerA).id;
  EXPECT_FALSE(lookup.poll(kT0 + 2s - 1us, buffer).has_value());
  EXPECT_EQ(expect_query(kT0 + 2s, kServerB).id, id);  // the same question, the same id
  expect_query(kT0 + 4s, kServerA);
  expect_query(kT0 + 6s, kServerB);
  EXPECT_EQ(lookup.poll_at(), kT0 + 8s);
  EXPECT_FALSE(lookup.poll(kT0 + 8s, buffer).has_value());
  ASSERT_TRUE(lookup.done());
  EXPECT_EQ(lookup.result().status().code(), StatusCode::deadline_exceeded);
}

TEST_F(DnsLookupTest, LateAnswerFromTheFirstServerIsStillTaken) {
  ASSERT_TRUE(lookup.start("example.com", servers, kT0).ok());
  const std::uint16_t id = expect_query(kT0, kServerA).id;
  expect_query(kT0 + 2s, kServerB);
  ASSERT_TRUE(answer(response(id, "example.com", {a_record("example.com", kExampleCom, 30)}),
                     kT0 + 2500ms, kServerA)
                  .ok());
  EXPECT_EQ(lookup.result()->address, kExampleCom);
}

TEST_F(DnsLookupTest, TruncatedAnswerIsReported) {
  ASSERT_TRUE(lookup.start("big.test", servers, kT0).ok());
  const std::uint16_t id = expect_query(kT0, kServerA).id;
  std::vector<std::byte> truncated = response(id, "big.test", {});
  truncated[2] |= std::byte{0x02};  // TC
  ASSERT_TRUE(answer(truncated, kT0).ok());
  EXPECT_EQ(lookup.result().status().code(), StatusCode::unimplemented);
}

TEST_F(DnsLookupTest, IgnoresWhatIsNotTheAnswer) {
  ASSERT_TRUE(lookup.start("example.com", servers, kT0).ok());
  EXPECT_EQ(answer(response(1, "example.com", {}), kT0).code(), StatusCode::failed_precondition);
  const std::uint16_t id = expect_query(kT0, kServerA).id;
  const auto good = response(id, "example.com", {a_record("example.com", kExampleCom, 30)});

  EXPECT_EQ(answer(good, kT0, io::Ipv4Address(10, 9, 9, 9)).code(), StatusCode::not_found);
  EXPECT_EQ(answer(response(id ^ 1, "example.com", {a_record("example.com", kExampleCom, 30)}), kT0)
                .code(),
            StatusCode::not_found);
  EXPECT_EQ(
      answer(response(id, "example.org", {a_record("example.org", kExampleCom, 30)}), kT0).code(),
      StatusCode::not_found);
  std::vector<std::byte> query_not_response = good;
  query_not_response[2] &= std::byte{0x7f};
  EXPECT_EQ(answer(query_not_response, kT0).code(), StatusCode::not_found);
  std::vector<std::byte> aaaa_question = good;
  store_be16(aaaa_question.data() + 12 + 13, static_cast<std::uint16_t>(DnsType::aaaa));
  EXPECT_EQ(answer(aaaa_question, kT0).code(), StatusCode::not_found);
  std::vector<std::byte> cut(good.begin(), good.end() - 3);
  EXPECT_EQ(answer(cut, kT0).code(), StatusCode::out_of_range);
  EXPECT_FALSE(lookup.done());

  // RFC 4343: the echoed question may differ in case (DNS 0x20 servers).
  ASSERT_TRUE(
      answer(response(id, "EXAMPLE.Com", {a_record("example.COM", kExampleCom, 30)}), kT0).ok());
  EXPECT_EQ(lookup.result()->address, kExampleCom);
}

TEST_F(DnsLookupTest, RejectsBadNamesAndNoServers) {
  EXPECT_EQ(lookup.start("a..b", servers, kT0).code(), StatusCode::invalid_argument);
  EXPECT_EQ(lookup.start(std::string(64, 'x') + ".com", servers, kT0).code(),
            StatusCode::invalid_argument);
  EXPECT_EQ(lookup.start("example.com", {}, kT0).code(), StatusCode::invalid_argument);
  EXPECT_TRUE(lookup.done());
  EXPECT_EQ(lookup.result().status().code(), StatusCode::failed_precondition);
}

TEST(DnsCacheTest, KeepsAnswersForTheirTtl) {
  DnsCache<2, 16> cache;
  cache.insert("example.com", kExampleCom, 300, kT0);
  EXPECT_EQ(cache.find("Example.COM.", kT0 + 299s), kExampleCom);
  EXPECT_EQ(cache.find("example.com", kT0 + 300s), std::nullopt);
  EXPECT_EQ(cache.size(kT0), 1u);
  // TTL 0: use once, keep never. Names longer than the entries hold: not kept.
  cache.insert("zero.test", kExampleCom, 0, kT0);
  cache.insert("a-rather-long-name.test", kExampleCom, 60, kT0);
  EXPECT_EQ(cache.size(kT0), 1u);
  // A TTL of 2^31 - 1 s is cut to a day.
  cache.insert("long.test", kServerA, 0x7fffffff, kT0);
  EXPECT_EQ(cache.find("long.test", kT0 + 24h - 1us), kServerA);
  EXPECT_EQ(cache.find("long.test", kT0 + 24h), std::nullopt);
}

TEST(DnsCacheTest, FullCacheReplacesTheEntryClosestToExpiry) {
  DnsCache<2, 16> cache;
  cache.insert("a.test", io::Ipv4Address(10, 0, 0, 1), 100, kT0);
  cache.insert("b.test", io::Ipv4Address(10, 0, 0, 2), 50, kT0);
  cache.insert("c.test", io::Ipv4Address(10, 0, 0, 3), 10, kT0);
  EXPECT_TRUE(cache.find("a.test", kT0).has_value());
  EXPECT_FALSE(cache.find("b.test", kT0).has_value());
  EXPECT_TRUE(cache.find("c.test", kT0).has_value());
  // A new answer for a cached name replaces it in place.
  cache.insert("A.TEST", io::Ipv4Address(10, 0, 0, 9), 100, kT0 + 1s);
  EXPECT_EQ(cache.find("a.test", kT0 + 1s), io::Ipv4Address(10, 0, 0, 9));
  EXPECT_TRUE(cache.find("c.test", kT0 + 1s).has_value());
  // Expired entries make room first.
  cache.insert("d.test", io::Ipv4Address(10, 0, 0, 4), 100, kT0 + 20s);
  EXPECT_TRUE(cache.find("a.test", kT0 + 20s).has_value());
  EXPECT_TRUE(cache.find("d.test", kT0 + 20s).has_value());
  cache.clear();
  EXPECT_EQ(cache.size(kT0), 0u);
}

TEST(DnsCacheTest, SameDnsName) {
  EXPECT_TRUE(same_dns_name("Example.COM", "example.com."));
  EXPECT_FALSE(same_dns_name("example.com", "example.co"));
  EXPECT_FALSE(same_dns_name("example.com..", "example.com"));
}

}  // namespace
}  // namespace mote::net
