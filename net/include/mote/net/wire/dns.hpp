#pragma once
// DNS messages (RFC 1035 §4): the header, questions and resource records,
// names with compression (§4.1.4) read in place, A and CNAME answers parsed,
// queries emitted.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "mote/base/assert.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/inline_vector.hpp"
#include "mote/base/result.hpp"
#include "mote/net/wire/address.hpp"
#include "mote/net/wire/view.hpp"

namespace mote::net::wire {

// RFC 1035 §4.1.1 OPCODE (RFC 1996 NOTIFY, RFC 2136 UPDATE).
enum class DnsOpcode : std::uint8_t {
  query = 0,
  inverse_query = 1,
  status = 2,
  notify = 4,
  update = 5
};
// RFC 1035 §4.1.1 RCODE.
enum class DnsRcode : std::uint8_t {
  no_error = 0,
  format_error = 1,
  server_failure = 2,
  name_error = 3,
  not_implemented = 4,
  refused = 5,
};
// RFC 1035 §3.2.2 TYPE values (AAAA: RFC 3596, SRV: RFC 2782, OPT: RFC 6891).
enum class DnsType : std::uint16_t {
  a = 1,
  ns = 2,
  cname = 5,
  soa = 6,
  ptr = 12,
  mx = 15,
  txt = 16,
  aaaa = 28,
  srv = 33,
  opt = 41,
  any = 255,
};
// RFC 1035 §3.2.4: the Internet class.
inline constexpr std::uint16_t kDnsClassIn = 1;

// Checks the name at `offset` of `message` and returns how many bytes it
// occupies there (up to and including its terminating zero or its first
// pointer). RFC 1035 rules: labels of at most 63 octets (§2.3.4), at most
// 255 octets in all once expanded, label types 00 and 11 only (§4.1.4);
// a pointer must point to "a prior occurrence of the same name" (§4.1.4),
// taken strictly: before the start of the name or of the label run it
// interrupts, which also makes loops impossible. out_of_range when the name
// runs past the message, invalid_argument when it breaks a rule.
Result<std::size_t> check_dns_name(ConstByteSpan message, std::size_t offset);

// A domain name, either as dotted text or in place in a message (possibly
// compressed). Compares and copies without allocating.
class DnsName {
 public:
  static constexpr std::size_t kMaxLabelLen = 63;
  static constexpr std::size_t kMaxWireLen = 255;
  // The longest dotted text: 255 wire octets hold at most 253 characters.
  static constexpr std::size_t kMaxTextLen = 253;

  // The root.
  constexpr DnsName() = default;

  // Dotted text; one trailing dot is allowed, "" and "." are the root. No
  // escapes. invalid_argument for an empty label ("a..b"), a label longer
  // than 63 octets, or more than 255 octets on the wire.
  static Result<DnsName> from_text(std::string_view text);
  // The name at `offset` of `message`, which check_dns_name() accepted (as
  // DnsPacket::checked() does for every name in the message). The message
  // must outlive the name.
  static constexpr DnsName in_message(ConstByteSpan message, std::size_t offset) {
    DnsName name;
    name.bytes_ = message;
    name.offset_ = offset;
    name.in_message_ = true;
    return name;
  }

  // The labels from the leftmost, without length octets:
  //   for (auto labels = name.labels(); auto label = labels.next();) ...
  class LabelReader {
   public:
    std::optional<ConstByteSpan> next();

   private:
    friend class DnsName;
    ConstByteSpan bytes_;
    std::size_t position_ = 0;
    bool in_message_ = false;
  };
  [[nodiscard]] LabelReader labels() const;

  [[nodiscard]] bool is_root() const;
  // Octets on the wire without compression: length octets, labels, the final zero.
  [[nodiscard]] std::size_t wire_len() const;
  // Writes the uncompressed wire form (wire_len() bytes) and returns the
  // byte after it.
  std::byte* write_to(std::byte* out) const;

  // Dotted text without a trailing dot ("." for the root). Label bytes are
  // copied as they are. resource_exhausted if `out` is too small.
  Result<std::size_t> to_text(std::span<char> out) const;
  // RFC 4343 §3: names compare without regard to ASCII case.
  [[nodiscard]] bool equals(std::string_view text) const;
  friend bool operator==(const DnsName& a, const DnsName& b);

 private:
  // Text: the dotted text without a trailing dot. In a message: all of it.
  ConstByteSpan bytes_;
  std::size_t offset_ = 0;
  bool in_message_ = false;
};

enum class DnsSection : std::uint8_t { answer, authority, additional };

struct DnsQuestion {
  DnsName name;
  DnsType type = DnsType::a;
  std::uint16_t qclass = kDnsClassIn;
  friend bool operator==(const DnsQuestion&, const DnsQuestion&) = default;
};

// A resource record as it is in the message.
struct DnsRecord {
  DnsSection section = DnsSection::answer;
  DnsName name;
  DnsType type = DnsType::a;
  std::uint16_t rclass = kDnsClassIn;
  std::uint32_t ttl = 0;
  ConstByteSpan data;
  // RDATA as an A record's address: set when type is A, class IN (the
  // check made sure RDATA is 4 bytes).
  [[nodiscard]] std::optional<Ipv4Address> address() const;
  // RDATA as a CNAME's target: set when type is CNAME (the check made sure
  // RDATA is exactly one valid name).
  [[nodiscard]] std::optional<DnsName> canonical_name() const;

 private:
  friend class DnsReader;
  ConstByteSpan message_;
  std::size_t data_offset_ = 0;
};

// Checks a whole message: the header fits; every question and resource
// record the counts announce fits (out_of_range), with valid names
// (check_dns_name), and the RDATA of A/IN (4 bytes) and CNAME (one name
// filling it) is well formed (invalid_argument). Bytes after the last
// record are allowed.
Status check_dns_message(ConstByteSpan message);

template <PacketBytes Bytes = ConstByteSpan>
class DnsPacket {
 public:
  static constexpr std::size_t kHeaderLen = 12;

  static Result<DnsPacket> checked(Bytes buffer) {
    MOTE_TRY(check_dns_message(buffer));
    return DnsPacket(buffer);
  }
  static constexpr DnsPacket unchecked(Bytes buffer) {
    MOTE_ASSERT(buffer.size() >= kHeaderLen);
    return DnsPacket(buffer);
  }

  [[nodiscard]] constexpr Bytes bytes() const { return buffer_; }
  [[nodiscard]] constexpr std::uint16_t id() const { return load_be16(&buffer_[0]); }
  [[nodiscard]] constexpr std::uint16_t flags() const { return load_be16(&buffer_[2]); }
  // RFC 1035 §4.1.1: QR, Opcode, AA, TC, RD, RA, Z, RCODE; RFC 4035 §3.2: AD, CD.
  [[nodiscard]] constexpr bool is_response() const { return (flags() & 0x8000u) != 0; }
  [[nodiscard]] constexpr DnsOpcode opcode() const {
    return static_cast<DnsOpcode>((flags() >> 11) & 0x0fu);
  }
  [[nodiscard]] constexpr bool authoritative() const { return (flags() & 0x0400u) != 0; }
  [[nodiscard]] constexpr bool truncated() const { return (flags() & 0x0200u) != 0; }
  [[nodiscard]] constexpr bool recursion_desired() const { return (flags() & 0x0100u) != 0; }
  [[nodiscard]] constexpr bool recursion_available() const { return (flags() & 0x0080u) != 0; }
  [[nodiscard]] constexpr bool authentic_data() const { return (flags() & 0x0020u) != 0; }
  [[nodiscard]] constexpr bool checking_disabled() const { return (flags() & 0x0010u) != 0; }
  [[nodiscard]] constexpr DnsRcode rcode() const { return static_cast<DnsRcode>(flags() & 0x0fu); }
  [[nodiscard]] constexpr std::uint16_t question_count() const { return load_be16(&buffer_[4]); }
  [[nodiscard]] constexpr std::uint16_t answer_count() const { return load_be16(&buffer_[6]); }
  [[nodiscard]] constexpr std::uint16_t authority_count() const { return load_be16(&buffer_[8]); }
  [[nodiscard]] constexpr std::uint16_t additional_count() const { return load_be16(&buffer_[10]); }

  constexpr void set_id(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[0], value);
  }
  constexpr void set_flags(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[2], value);
  }
  constexpr void set_counts(std::uint16_t questions, std::uint16_t answers,
                            std::uint16_t authorities,
                            std::uint16_t additionals) requires kIsWritable<Bytes> {
    store_be16(&buffer_[4], questions);
    store_be16(&buffer_[6], answers);
    store_be16(&buffer_[8], authorities);
    store_be16(&buffer_[10], additionals);
  }

 private:
  constexpr explicit DnsPacket(Bytes buffer) : buffer_(buffer) {}

  Bytes buffer_;
};

// Reads the questions, then the records of a checked message in order.
class DnsReader {
 public:
  explicit DnsReader(const DnsPacket<>& packet);

  // The next question; nothing once all were read.
  std::optional<DnsQuestion> next_question();
  // The next record (answers, then authority, then additional); nothing
  // once all were read. Skips any questions not yet read.
  std::optional<DnsRecord> next_record();

 private:
  ConstByteSpan message_;
  std::size_t position_ = DnsPacket<>::kHeaderLen;
  std::uint32_t questions_left_ = 0;
  std::uint32_t answers_left_ = 0;
  std::uint32_t authorities_left_ = 0;
  std::uint32_t additionals_left_ = 0;
};

// An A or CNAME answer.
struct DnsAnswer {
  DnsName name;
  DnsType type = DnsType::a;
  // RFC 2181 §8: a TTL with the top bit set is read as zero.
  std::uint32_t ttl = 0;
  Ipv4Address address;     // type A
  DnsName canonical_name;  // type CNAME

  friend bool operator==(const DnsAnswer& a, const DnsAnswer& b);
};

// A query or a response with at most one question, as a resolver sends and
// reads them. parse() keeps the first kMaxAnswers A/IN and CNAME/IN answers
// in order and skips every other record (other types, authority and
// additional sections, EDNS). Names point into the parsed message.
//
// emit() writes the question and answers with names uncompressed, RFC 1035
// §4.1.4: "Programs are free to avoid using pointers in messages they
// generate" -- so buffer_len() is exact and needs no trial run.
struct DnsRepr {
  static constexpr std::size_t kMaxAnswers = 4;

  std::uint16_t id = 0;
  bool response = false;
  DnsOpcode opcode = DnsOpcode::query;
  bool authoritative = false;
  bool truncated = false;
  bool recursion_desired = false;
  bool recursion_available = false;
  bool authentic_data = false;
  bool checking_disabled = false;
  DnsRcode rcode = DnsRcode::no_error;
  std::optional<DnsQuestion> question;
  InlineVector<DnsAnswer, kMaxAnswers> answers;

  // A recursive query for `name` (RD set, RFC 1035 §4.1.1); the name text
  // must outlive the Repr. invalid_argument for a bad name.
  static Result<DnsRepr> query(std::uint16_t id, std::string_view name, DnsType type = DnsType::a);

  // unimplemented for more than one question (RFC 9619: QDCOUNT is at most 1).
  static Result<DnsRepr> parse(const DnsPacket<>& packet);
  [[nodiscard]] std::size_t buffer_len() const;
  // Returns buffer_len(). invalid_argument for an answer whose type is
  // neither A nor CNAME.
  Result<std::size_t> emit(ByteSpan buffer) const;

  friend bool operator==(const DnsRepr& a, const DnsRepr& b);
};

}  // namespace mote::net::wire
