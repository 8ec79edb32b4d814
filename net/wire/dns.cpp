#include "mote/net/wire/dns.hpp"

namespace mote::net::wire {
namespace {

constexpr std::size_t kHeaderLen = DnsPacket<>::kHeaderLen;
// QTYPE and QCLASS (RFC 1035 §4.1.2).
constexpr std::size_t kQuestionFixedLen = 4;
// TYPE, CLASS, TTL and RDLENGTH (RFC 1035 §4.1.3).
constexpr std::size_t kRecordFixedLen = 10;
// RFC 1035 §4.1.4: "The first two bits are ones. This allows a pointer to be
// distinguished from a label, since the label must begin with two zero bits."
constexpr std::uint8_t kLabelTypeMask = 0xc0;
constexpr std::uint8_t kPointer = 0xc0;
constexpr std::size_t kIpv4Len = 4;

constexpr std::uint8_t byte_at(ConstByteSpan bytes, std::size_t offset) {
  return std::to_integer<std::uint8_t>(bytes[offset]);
}

constexpr std::uint8_t ascii_lower(std::uint8_t c) {
  return c >= 'A' && c <= 'Z' ? static_cast<std::uint8_t>(c - 'A' + 'a') : c;
}

// RFC 4343 §3: ASCII letters compare without regard to case; every other
// octet compares exactly.
bool labels_equal(ConstByteSpan a, ConstByteSpan b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(byte_at(a, i)) != ascii_lower(byte_at(b, i))) return false;
  }
  return true;
}

// Where the name at `offset` of a checked message ends in place.
std::size_t skip_name(ConstByteSpan message, std::size_t offset) {
  std::size_t position = offset;
  while (position < message.size()) {
    const std::uint8_t length = byte_at(message, position);
    if ((length & kLabelTypeMask) == kPointer) return position + 2;
    if (length == 0) return position + 1;
    position += 1 + std::size_t{length};
  }
  return message.size();
}

// RFC 2181 §8: "Implementations should treat a TTL value received which has
// the most significant bit set as if the entire value received was zero."
constexpr std::uint32_t normalize_ttl(std::uint32_t ttl) {
  return (ttl & 0x80000000u) != 0 ? 0 : ttl;
}

}  // namespace

Result<std::size_t> check_dns_name(ConstByteSpan message, std::size_t offset) {
  std::size_t position = offset;
  std::size_t run_start = offset;  // where the current run of labels began
  std::size_t wire_len = 0;
  std::optional<std::size_t> in_place_len;
  while (true) {
    if (position >= message.size()) return Status::out_of_range();
    const std::uint8_t length = byte_at(message, position);
    if ((length & kLabelTypeMask) == kPointer) {
      if (position + 1 >= message.size()) return Status::out_of_range();
      const std::size_t target =
          (std::size_t{length & 0x3fu} << 8) | std::size_t{byte_at(message, position + 1)};
      // "a pointer to a prior occurance of the same name": strictly before
      // this run, so every jump goes back and a loop cannot form.
      if (target >= run_start) return Status::invalid_argument();
      if (!in_place_len) in_place_len = position + 2 - offset;
      run_start = target;
      position = target;
      continue;
    }
    // RFC 1035 §4.1.4: "The 10 and 01 combinations are reserved for future
    // use." (RFC 6891 §5 retired the one extended label type.)
    if ((length & kLabelTypeMask) != 0) return Status::invalid_argument();
    if (length == 0) return in_place_len.value_or(position + 1 - offset);
    if (position + 1 + length > message.size()) return Status::out_of_range();
    // RFC 1035 §2.3.4: "labels 63 octets or less" (guaranteed by the two
    // zero bits) and "names 255 octets or less", counting the final zero.
    wire_len += 1 + std::size_t{length};
    if (wire_len + 1 > DnsName::kMaxWireLen) return Status::invalid_argument();
    position += 1 + std::size_t{length};
  }
}

// --- DnsName -----------------------------------------------------------------

Result<DnsName> DnsName::from_text(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  DnsName name;
  name.bytes_ = bytes_of(text);
  if (text.empty()) return name;
  std::size_t wire_len = 1;  // the root's zero
  std::size_t label_len = 0;
  for (char c : text) {
    if (c != '.') {
      if (++label_len > kMaxLabelLen) return Status::invalid_argument();
      continue;
    }
    if (label_len == 0) return Status::invalid_argument();
    wire_len += 1 + label_len;
    label_len = 0;
  }
  if (label_len == 0) return Status::invalid_argument();
  wire_len += 1 + label_len;
  if (wire_len > kMaxWireLen) return Status::invalid_argument();
  return name;
}

DnsName::LabelReader DnsName::labels() const {
  LabelReader reader;
  reader.bytes_ = bytes_;
  reader.position_ = offset_;
  reader.in_message_ = in_message_;
  return reader;
}

std::optional<ConstByteSpan> DnsName::LabelReader::next() {
  if (!in_message_) {
    if (position_ >= bytes_.size()) return std::nullopt;
    std::size_t end = position_;
    while (end < bytes_.size() && bytes_[end] != std::byte{'.'}) ++end;
    ConstByteSpan label = bytes_.subspan(position_, end - position_);
    position_ = end + 1;
    return label;
  }
  // The checks were made when the message was; the bounds tests below only
  // keep a misused name (one never checked) from reading out of bounds, and
  // the hop limit from looping.
  for (std::size_t hops = 0; position_ < bytes_.size() && hops <= kMaxWireLen; ++hops) {
    const std::uint8_t length = byte_at(bytes_, position_);
    if ((length & kLabelTypeMask) == kPointer) {
      if (position_ + 1 >= bytes_.size()) break;
      position_ = (std::size_t{length & 0x3fu} << 8) | std::size_t{byte_at(bytes_, position_ + 1)};
      continue;
    }
    if (length == 0 || (length & kLabelTypeMask) != 0 || position_ + 1 + length > bytes_.size()) {
      break;
    }
    ConstByteSpan label = bytes_.subspan(position_ + 1, length);
    position_ += 1 + std::size_t{length};
    return label;
  }
  position_ = bytes_.size();
  return std::nullopt;
}

bool DnsName::is_root() const { return !labels().next().has_value(); }

std::size_t DnsName::wire_len() const {
  std::size_t length = 1;
  for (LabelReader reader = labels(); auto label = reader.next();) length += 1 + label->size();
  return length;
}

std::byte* DnsName::write_to(std::byte* out) const {
  for (LabelReader reader = labels(); auto label = reader.next();) {
    *out++ = static_cast<std::byte>(label->size());
    for (std::byte b : *label) *out++ = b;
  }
  *out++ = std::byte{0};
  return out;
}

Result<std::size_t> DnsName::to_text(std::span<char> out) const {
  std::size_t position = 0;
  for (LabelReader reader = labels(); auto label = reader.next();) {
    const std::size_t needed = label->size() + (position > 0 ? 1 : 0);
    if (out.size() - position < needed) return Status::resource_exhausted();
    if (position > 0) out[position++] = '.';
    for (std::byte b : *label) out[position++] = static_cast<char>(b);
  }
  if (position == 0) {
    if (out.empty()) return Status::resource_exhausted();
    out[position++] = '.';
  }
  return position;
}

bool DnsName::equals(std::string_view text) const {
  Result<DnsName> other = from_text(text);
  return other.ok() && *this == *other;
}

bool operator==(const DnsName& a, const DnsName& b) {
  DnsName::LabelReader left = a.labels();
  DnsName::LabelReader right = b.labels();
  while (true) {
    std::optional<ConstByteSpan> x = left.next();
    std::optional<ConstByteSpan> y = right.next();
    if (!x || !y) return !x && !y;
    if (!labels_equal(*x, *y)) return false;
  }
}

// --- Messages ------------------------------------------------------------------

Status check_dns_message(ConstByteSpan message) {
  if (message.size() < kHeaderLen) return Status::out_of_range();
  const auto packet = DnsPacket<>::unchecked(message);
  std::size_t position = kHeaderLen;
  // Each question takes at least 5 bytes and each record 11, so these loops
  // end at the end of the message whatever the counts claim.
  for (std::uint32_t i = 0; i < packet.question_count(); ++i) {
    MOTE_TRY_ASSIGN(const std::size_t name_len, check_dns_name(message, position));
    position += name_len;
    if (message.size() - position < kQuestionFixedLen) return Status::out_of_range();
    position += kQuestionFixedLen;
  }
  const std::uint32_t records =
      std::uint32_t{packet.answer_count()} + packet.authority_count() + packet.additional_count();
  for (std::uint32_t i = 0; i < records; ++i) {
    MOTE_TRY_ASSIGN(const std::size_t name_len, check_dns_name(message, position));
    position += name_len;
    if (message.size() - position < kRecordFixedLen) return Status::out_of_range();
    const std::uint16_t type = load_be16(&message[position]);
    const std::uint16_t rclass = load_be16(&message[position + 2]);
    const std::size_t data_len = load_be16(&message[position + 8]);
    position += kRecordFixedLen;
    if (message.size() - position < data_len) return Status::out_of_range();
    // RFC 1035 §3.4.1: "A 32 bit Internet address" for class IN.
    if (type == static_cast<std::uint16_t>(DnsType::a) && rclass == kDnsClassIn &&
        data_len != kIpv4Len) {
      return Status::invalid_argument();
    }
    // §3.3.1: CNAME RDATA is "A <domain-name>", and nothing else.
    if (type == static_cast<std::uint16_t>(DnsType::cname)) {
      MOTE_TRY_ASSIGN(const std::size_t target_len, check_dns_name(message, position));
      if (target_len != data_len) return Status::invalid_argument();
    }
    position += data_len;
  }
  return ok_status();
}

std::optional<Ipv4Address> DnsRecord::address() const {
  if (type != DnsType::a || rclass != kDnsClassIn || data.size() != kIpv4Len) return std::nullopt;
  return Ipv4Address::from_bytes(data.data());
}

std::optional<DnsName> DnsRecord::canonical_name() const {
  if (type != DnsType::cname || message_.empty()) return std::nullopt;
  return DnsName::in_message(message_, data_offset_);
}

DnsReader::DnsReader(const DnsPacket<>& packet)
    : message_(packet.bytes()),
      questions_left_(packet.question_count()),
      answers_left_(packet.answer_count()),
      authorities_left_(packet.authority_count()),
      additionals_left_(packet.additional_count()) {}

std::optional<DnsQuestion> DnsReader::next_question() {
  if (questions_left_ == 0) return std::nullopt;
  DnsQuestion question;
  question.name = DnsName::in_message(message_, position_);
  const std::size_t fixed = skip_name(message_, position_);
  if (message_.size() - fixed < kQuestionFixedLen) {  // only if never checked
    questions_left_ = 0;
    return std::nullopt;
  }
  question.type = DnsType{load_be16(&message_[fixed])};
  question.qclass = load_be16(&message_[fixed + 2]);
  position_ = fixed + kQuestionFixedLen;
  --questions_left_;
  return question;
}

std::optional<DnsRecord> DnsReader::next_record() {
  while (next_question()) {
  }
  DnsRecord record;
  if (answers_left_ > 0) {
    record.section = DnsSection::answer;
    --answers_left_;
  } else if (authorities_left_ > 0) {
    record.section = DnsSection::authority;
    --authorities_left_;
  } else if (additionals_left_ > 0) {
    record.section = DnsSection::additional;
    --additionals_left_;
  } else {
    return std::nullopt;
  }
  record.name = DnsName::in_message(message_, position_);
  const std::size_t fixed = skip_name(message_, position_);
  if (message_.size() - fixed < kRecordFixedLen ||
      message_.size() - fixed - kRecordFixedLen < load_be16(&message_[fixed + 8])) {
    answers_left_ = authorities_left_ = additionals_left_ = 0;  // only if never checked
    return std::nullopt;
  }
  record.type = DnsType{load_be16(&message_[fixed])};
  record.rclass = load_be16(&message_[fixed + 2]);
  record.ttl = load_be32(&message_[fixed + 4]);
  record.message_ = message_;
  record.data_offset_ = fixed + kRecordFixedLen;
  record.data = message_.subspan(record.data_offset_, load_be16(&message_[fixed + 8]));
  position_ = record.data_offset_ + record.data.size();
  return record;
}

// --- DnsRepr -------------------------------------------------------------------

Result<DnsRepr> DnsRepr::query(std::uint16_t id, std::string_view name, DnsType type) {
  MOTE_TRY_ASSIGN(DnsName qname, DnsName::from_text(name));
  DnsRepr repr;
  repr.id = id;
  // RFC 1035 §4.1.1: "Recursion Desired - this bit may be set in a query".
  repr.recursion_desired = true;
  repr.question = DnsQuestion{qname, type, kDnsClassIn};
  return repr;
}

Result<DnsRepr> DnsRepr::parse(const DnsPacket<>& packet) {
  if (packet.question_count() > 1) return Status::unimplemented();
  DnsRepr repr;
  repr.id = packet.id();
  repr.response = packet.is_response();
  repr.opcode = packet.opcode();
  repr.authoritative = packet.authoritative();
  repr.truncated = packet.truncated();
  repr.recursion_desired = packet.recursion_desired();
  repr.recursion_available = packet.recursion_available();
  repr.authentic_data = packet.authentic_data();
  repr.checking_disabled = packet.checking_disabled();
  repr.rcode = packet.rcode();

  DnsReader reader(packet);
  if (std::optional<DnsQuestion> question = reader.next_question()) repr.question = *question;
  while (std::optional<DnsRecord> record = reader.next_record()) {
    if (record->section != DnsSection::answer || repr.answers.full()) break;
    if (record->rclass != kDnsClassIn) continue;
    DnsAnswer answer;
    answer.name = record->name;
    answer.type = record->type;
    answer.ttl = normalize_ttl(record->ttl);
    if (std::optional<Ipv4Address> address = record->address()) {
      answer.address = *address;
    } else if (std::optional<DnsName> target = record->canonical_name()) {
      answer.canonical_name = *target;
    } else {
      continue;  // a type the Repr does not carry
    }
    repr.answers.push_back(answer);
  }
  return repr;
}

std::size_t DnsRepr::buffer_len() const {
  std::size_t length = kHeaderLen;
  if (question) length += question->name.wire_len() + kQuestionFixedLen;
  for (const DnsAnswer& answer : answers) {
    length += answer.name.wire_len() + kRecordFixedLen +
              (answer.type == DnsType::cname ? answer.canonical_name.wire_len() : kIpv4Len);
  }
  return length;
}

Result<std::size_t> DnsRepr::emit(ByteSpan buffer) const {
  for (const DnsAnswer& answer : answers) {
    if (answer.type != DnsType::a && answer.type != DnsType::cname) {
      return Status::invalid_argument();
    }
  }
  const std::size_t length = buffer_len();
  if (buffer.size() < length) return Status::resource_exhausted();

  auto packet = DnsPacket<ByteSpan>::unchecked(buffer);
  packet.set_id(id);
  // RFC 1035 §4.1.1; Z (0x0040) "Must be zero in all queries and responses."
  const auto flag = [](bool set, unsigned bit) { return set ? bit : 0u; };
  packet.set_flags(static_cast<std::uint16_t>(
      flag(response, 0x8000u) | ((static_cast<unsigned>(opcode) & 0x0fu) << 11) |
      flag(authoritative, 0x0400u) | flag(truncated, 0x0200u) | flag(recursion_desired, 0x0100u) |
      flag(recursion_available, 0x0080u) | flag(authentic_data, 0x0020u) |
      flag(checking_disabled, 0x0010u) | (static_cast<unsigned>(rcode) & 0x0fu)));
  packet.set_counts(question ? 1 : 0, static_cast<std::uint16_t>(answers.size()), 0, 0);

  std::byte* out = buffer.data() + kHeaderLen;
  if (question) {
    out = question->name.write_to(out);
    store_be16(out, static_cast<std::uint16_t>(question->type));
    store_be16(out + 2, question->qclass);
    out += kQuestionFixedLen;
  }
  for (const DnsAnswer& answer : answers) {
    out = answer.name.write_to(out);
    const bool is_cname = answer.type == DnsType::cname;
    const std::size_t data_len = is_cname ? answer.canonical_name.wire_len() : kIpv4Len;
    store_be16(out, static_cast<std::uint16_t>(answer.type));
    store_be16(out + 2, kDnsClassIn);
    store_be32(out + 4, answer.ttl);
    store_be16(out + 8, static_cast<std::uint16_t>(data_len));
    out += kRecordFixedLen;
    if (is_cname) {
      out = answer.canonical_name.write_to(out);
    } else {
      answer.address.write_to(out);
      out += kIpv4Len;
    }
  }
  MOTE_ASSERT(out == buffer.data() + length);
  return length;
}

bool operator==(const DnsAnswer& a, const DnsAnswer& b) {
  if (a.name != b.name || a.type != b.type || a.ttl != b.ttl) return false;
  return a.type == DnsType::cname ? a.canonical_name == b.canonical_name : a.address == b.address;
}

bool operator==(const DnsRepr& a, const DnsRepr& b) {
  return a.id == b.id && a.response == b.response && a.opcode == b.opcode &&
         a.authoritative == b.authoritative && a.truncated == b.truncated &&
         a.recursion_desired == b.recursion_desired &&
         a.recursion_available == b.recursion_available && a.authentic_data == b.authentic_data &&
         a.checking_disabled == b.checking_disabled && a.rcode == b.rcode &&
         a.question == b.question && a.answers == b.answers;
}

}  // namespace mote::net::wire
