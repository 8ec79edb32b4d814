#include "mote/net/dns/dns_lookup.hpp"

#include <algorithm>
#include <array>
#include <limits>

#define MOTE_LOG_MODULE "dns"
#include "mote/base/log.hpp"

namespace mote::net {
namespace {

using wire::DnsName;
using wire::DnsPacket;
using wire::DnsRcode;
using wire::DnsReader;
using wire::DnsRecord;
using wire::DnsSection;
using wire::DnsType;

// RFC 2181 §8: "Implementations should treat a TTL value received which has
// the most significant bit set as if the entire value received was zero."
std::uint32_t ttl_of(const DnsRecord& record) {
  return (record.ttl & 0x80000000u) != 0 ? 0 : record.ttl;
}

}  // namespace

DnsLookup::DnsLookup(RandomSource& random, const DnsLookupConfig& config)
    : random_(&random), config_(config) {
  config_.rounds = std::max<std::uint8_t>(config_.rounds, 1);
}

Status DnsLookup::start(std::string_view name, std::span<const io::Ipv4Address> servers,
                        Instant now) {
  MOTE_TRY(DnsName::from_text(name));
  if (servers.empty()) return Status::invalid_argument();
  servers_.clear();
  for (io::Ipv4Address server : servers.first(std::min(servers.size(), kMaxServers))) {
    servers_.push_back(server);
  }
  server_index_ = 0;
  round_ = 0;
  hops_ = 0;
  server_failed_ = false;
  chain_ttl_ = std::numeric_limits<std::uint32_t>::max();
  done_ = false;
  status_ = Status::failed_precondition();
  ask(name, now);
  return ok_status();
}

void DnsLookup::ask(std::string_view name, Instant now) {
  // The name was checked (from_text) and fits: kMaxTextLen is its bound.
  name_.assign(name).ignore_error();
  // RFC 5452 §9.2: the id must be unpredictable; a new one for every name asked.
  id_ = static_cast<std::uint16_t>(random_->next_u32());
  sent_ = false;
  next_event_ = now;
}

void DnsLookup::finish(Status status, DnsAddress answer) {
  done_ = true;
  sent_ = false;
  next_event_ = async::kNever;
  status_ = status;
  answer_ = answer;
}

void DnsLookup::next_server(Instant now) {
  sent_ = false;
  next_event_ = now;
  if (++server_index_ < servers_.size()) return;
  server_index_ = 0;
  if (++round_ < config_.rounds) return;
  finish(server_failed_ ? Status::unavailable() : Status::deadline_exceeded());
}

void DnsLookup::skip_failed_server(io::Ipv4Address from, Instant now) {
  // SERVFAIL, REFUSED, NOTIMP, FORMERR: this server cannot help; RFC 1035
  // §7.2 suggests going on with the next one at once. A late error from a
  // server asked before does not cut short the wait for the current one.
  server_failed_ = true;
  if (from == servers_[server_index_]) next_server(now);
}

std::optional<DnsQueryTransmit> DnsLookup::poll(Instant now, ByteSpan buffer) {
  if (done_ || now < next_event_) return std::nullopt;
  if (sent_) {
    next_server(now);  // no answer in time
    if (done_) return std::nullopt;
  }
  Result<wire::DnsRepr> query = wire::DnsRepr::query(id_, name_.view());
  MOTE_ASSERT(query.ok());  // the name was checked when it was taken
  Result<std::size_t> size = query->emit(buffer);
  MOTE_ASSERT(size.ok() && "poll() needs a buffer of DnsLookup::kMaxQueryLen bytes");
  sent_ = true;
  next_event_ = now + config_.timeout;
  return DnsQueryTransmit{*size, servers_[server_index_]};
}

Instant DnsLookup::poll_at() const { return next_event_; }

Status DnsLookup::handle(ConstByteSpan message, io::Ipv4Address from, Instant now) {
  if (done_ || !sent_) return Status::failed_precondition();
  if (std::find(servers_.begin(), servers_.end(), from) == servers_.end()) {
    return Status::not_found();
  }
  MOTE_TRY_ASSIGN(const auto packet, DnsPacket<>::checked(message));
  if (!packet.is_response() || packet.id() != id_ || packet.opcode() != wire::DnsOpcode::query) {
    return Status::not_found();
  }
  const DnsRcode rcode = packet.rcode();
  const bool server_error = rcode != DnsRcode::no_error && rcode != DnsRcode::name_error;
  // A server that could not read or will not answer the query may send it
  // back without the question (FORMERR, RFC 6891 §7). Such an error only
  // moves the lookup to the next server; it carries nothing to use.
  if (packet.question_count() == 0 && server_error) {
    skip_failed_server(from, now);
    return ok_status();
  }
  // RFC 5452 §9.1: accept a response only if it matches the query's id and
  // question (name, type, class).
  if (packet.question_count() != 1) return Status::not_found();
  DnsReader reader(packet);
  const std::optional<wire::DnsQuestion> question = reader.next_question();
  if (!question || question->type != DnsType::a || question->qclass != wire::kDnsClassIn ||
      !question->name.equals(name_.view())) {
    return Status::not_found();
  }

  if (packet.truncated()) {
    // RFC 2181 §9: a response with TC set is to be retried over TCP, not used.
    MOTE_LOG_WARN("answer for %.*s truncated (TC): needs DNS over TCP, which is not supported",
                  static_cast<int>(name_.size()), name_.view().data());
    finish(Status::unimplemented());
    return ok_status();
  }
  if (rcode == DnsRcode::name_error) {
    finish(Status::not_found());
    return ok_status();
  }
  if (server_error) {
    skip_failed_server(from, now);
    return ok_status();
  }
  return use_answer(packet, now);
}

Status DnsLookup::use_answer(const DnsPacket<>& packet, Instant now) {
  // Follow the chain from the name asked: its A record ends it, a CNAME
  // moves it on (RFC 1034 §3.6.2, §5.3.3). Records may come in any order,
  // so each step reads the answer section again.
  Result<DnsName> wanted = DnsName::from_text(name_.view());
  MOTE_ASSERT(wanted.ok());
  DnsName current = *wanted;
  for (;;) {
    std::optional<DnsName> next;
    DnsReader reader(packet);
    while (std::optional<DnsRecord> record = reader.next_record()) {
      if (record->section != DnsSection::answer) break;
      if (record->rclass != wire::kDnsClassIn || !(record->name == current)) continue;
      if (std::optional<io::Ipv4Address> address = record->address()) {
        finish(ok_status(), DnsAddress{*address, std::min(chain_ttl_, ttl_of(*record))});
        return ok_status();
      }
      if (std::optional<DnsName> target = record->canonical_name(); target && !next) {
        chain_ttl_ = std::min(chain_ttl_, ttl_of(*record));
        next = target;
      }
    }
    if (!next) break;
    if (++hops_ > config_.max_cname_hops) {
      MOTE_LOG_WARN("CNAME chain from %.*s longer than %u names", static_cast<int>(name_.size()),
                    name_.view().data(), unsigned{config_.max_cname_hops});
      finish(Status::unavailable());
      return ok_status();
    }
    current = *next;
  }
  if (current == *wanted) {
    finish(Status::not_found());  // NOERROR without an address: no data
    return ok_status();
  }
  // The chain ends at a name the server did not resolve: ask for it.
  std::array<char, DnsName::kMaxTextLen> text{};
  Result<std::size_t> length = current.to_text(text);
  if (!length.ok() || !DnsName::from_text(std::string_view(text.data(), *length)).ok()) {
    finish(Status::unavailable());  // a target that is not a name we can ask for
    return ok_status();
  }
  ask(std::string_view(text.data(), *length), now);
  return ok_status();
}

}  // namespace mote::net
