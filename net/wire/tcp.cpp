#include "mote/net/wire/tcp.hpp"

namespace mote::net::wire {
namespace {

// The lengths RFC 9293 §3.2 (MSS), RFC 7323 §2.2/§3.2 (window scale,
// timestamps) and RFC 2018 §2/§3 (SACK-permitted, SACK) give their options.
constexpr std::size_t kMssLen = 4;
constexpr std::size_t kWindowScaleLen = 3;
constexpr std::size_t kSackPermittedLen = 2;
constexpr std::size_t kTimestampsLen = 10;
constexpr std::size_t kSackBlockLen = 8;

constexpr std::uint8_t kNop = 1;

bool has_valid_length(std::uint8_t kind, std::size_t length) {
  switch (TcpOptionKind{kind}) {
    case TcpOptionKind::max_segment_size: return length == kMssLen;
    case TcpOptionKind::window_scale: return length == kWindowScaleLen;
    case TcpOptionKind::sack_permitted: return length == kSackPermittedLen;
    case TcpOptionKind::timestamps: return length == kTimestampsLen;
    case TcpOptionKind::sack:
      // RFC 2018 §3: "Length: Variable", 2 + 8n octets for n blocks; at
      // most 4 blocks fit in the 40 bytes of option space.
      return length >= 2 + kSackBlockLen && length <= 2 + TcpRepr::kMaxSackBlocks * kSackBlockLen &&
             (length - 2) % kSackBlockLen == 0;
    default: return true;
  }
}

// RFC 7323 Appendix A's layout, "NOP, NOP, TSopt", which every segment of
// a connection with timestamps and no SACK blocks carries from mote, Linux
// and lwIP: the option words in one comparison instead of the option loop.
constexpr std::uint32_t kAlignedTimestamps = 0x0101080a;
bool is_aligned_timestamps(ConstByteSpan options) {
  return options.size() == 2 + kTimestampsLen && load_be32(options.data()) == kAlignedTimestamps;
}

}  // namespace

Status check_tcp_options(ConstByteSpan options) {
  if (is_aligned_timestamps(options)) return ok_status();
  std::size_t position = 0;
  while (position < options.size()) {
    const auto kind = std::to_integer<std::uint8_t>(options[position]);
    if (kind == static_cast<std::uint8_t>(TcpOptionKind::end_of_list)) break;
    if (kind == static_cast<std::uint8_t>(TcpOptionKind::no_operation)) {
      ++position;
      continue;
    }
    // RFC 9293 §3.1: every other option is "an octet of option-kind, an
    // octet of option-length, and the actual option-data octets. The
    // option-length counts the two octets of option-kind and option-length."
    if (position + 1 >= options.size()) return Status::out_of_range();
    const auto length = std::to_integer<std::size_t>(options[position + 1]);
    if (length < 2) return Status::invalid_argument();
    if (position + length > options.size()) return Status::out_of_range();
    if (!has_valid_length(kind, length)) return Status::invalid_argument();
    position += length;
  }
  return ok_status();
}

Result<TcpRepr> TcpRepr::parse(const TcpSegment<>& segment, Ipv4Address source,
                               Ipv4Address destination, ChecksumMode mode) {
  // Built in the Result itself, and every return returns it, so that it is
  // constructed in the caller's (NRVO): GCC otherwise moves it out with
  // 16-byte loads of fields just stored a few bytes at a time, which the CPU
  // cannot forward from those stores (perf put a third of parse()'s samples
  // on that copy).
  Result<TcpRepr> result(std::in_place);
  if (mode == ChecksumMode::verify && !segment.verify_checksum(source, destination)) {
    result = Status::data_loss();
    return result;
  }
  TcpRepr& repr = *result;
  repr.source_port = segment.source_port();
  repr.destination_port = segment.destination_port();
  repr.seq_number = segment.seq_number();
  repr.ack_number = segment.ack_number();
  repr.flags = segment.flags();
  repr.window_len = segment.window_len();
  repr.urgent_pointer = segment.urgent_pointer();
  repr.payload = segment.payload();

  const ConstByteSpan options = segment.options();
  if (is_aligned_timestamps(options)) {
    repr.timestamps = TcpTimestamps{load_be32(options.data() + 4), load_be32(options.data() + 8)};
    return result;
  }
  TcpOptionReader reader(options);
  while (std::optional<TcpOption> option = reader.next()) {
    const ConstByteSpan data = option->data;
    switch (TcpOptionKind{option->kind}) {
      case TcpOptionKind::max_segment_size: repr.max_segment_size = load_be16(data.data()); break;
      case TcpOptionKind::window_scale: {
        // RFC 7323 §2.3: "If a Window Scale option is received with a
        // shift.cnt value larger than 14, the TCP SHOULD log the error but
        // MUST use 14 instead of the specified value."
        const auto shift = std::to_integer<std::uint8_t>(data[0]);
        repr.window_scale = shift > kMaxWindowScale ? kMaxWindowScale : shift;
        break;
      }
      case TcpOptionKind::sack_permitted: repr.sack_permitted = true; break;
      case TcpOptionKind::sack:
        repr.sack_blocks.clear();
        for (std::size_t i = 0; i + kSackBlockLen <= data.size(); i += kSackBlockLen) {
          repr.sack_blocks.push_back(
              SackBlock{load_be32(data.data() + i), load_be32(data.data() + i + 4)});
        }
        break;
      case TcpOptionKind::timestamps:
        repr.timestamps = TcpTimestamps{load_be32(data.data()), load_be32(data.data() + 4)};
        break;
      default:
        // RFC 9293 §3.2: "A TCP implementation MUST ignore without error any
        // TCP option it does not implement, assuming that the option has a
        // length field."
        break;
    }
  }
  return result;
}

std::size_t TcpRepr::options_len() const {
  std::size_t length = 0;
  if (max_segment_size) length += kMssLen;
  if (timestamps) {
    length += 2 + kTimestampsLen;  // SACK-permitted or two NOPs, then timestamps
  } else if (sack_permitted) {
    length += 2 + kSackPermittedLen;
  }
  if (window_scale) length += 1 + kWindowScaleLen;
  if (!sack_blocks.empty()) length += 4 + sack_blocks.size() * kSackBlockLen;
  return length;
}

// Linux's layout (tcp_options_write), every option 4-byte aligned, so the
// header needs no padding (RFC 9293 §3.1: "The TCP header padding is used
// to ensure that the TCP header ends ... on a 32-bit boundary").
void TcpRepr::write_options(std::byte* out) const {
  [[maybe_unused]] const std::byte* const end = out + options_len();
  auto put = [&out](std::uint8_t value) { *out++ = std::byte{value}; };
  auto put32 = [&out](std::uint32_t value) {
    store_be32(out, value);
    out += 4;
  };
  if (max_segment_size) {
    put(static_cast<std::uint8_t>(TcpOptionKind::max_segment_size));
    put(kMssLen);
    store_be16(out, *max_segment_size);
    out += 2;
  }
  if (timestamps) {
    if (sack_permitted) {
      put(static_cast<std::uint8_t>(TcpOptionKind::sack_permitted));
      put(kSackPermittedLen);
    } else {
      put(kNop);
      put(kNop);
    }
    put(static_cast<std::uint8_t>(TcpOptionKind::timestamps));
    put(kTimestampsLen);
    put32(timestamps->value);
    put32(timestamps->echo_reply);
  } else if (sack_permitted) {
    put(kNop);
    put(kNop);
    put(static_cast<std::uint8_t>(TcpOptionKind::sack_permitted));
    put(kSackPermittedLen);
  }
  if (window_scale) {
    put(kNop);
    put(static_cast<std::uint8_t>(TcpOptionKind::window_scale));
    put(kWindowScaleLen);
    put(*window_scale);
  }
  if (!sack_blocks.empty()) {
    put(kNop);
    put(kNop);
    put(static_cast<std::uint8_t>(TcpOptionKind::sack));
    put(static_cast<std::uint8_t>(2 + sack_blocks.size() * kSackBlockLen));
    for (const SackBlock& block : sack_blocks) {
      put32(block.left);
      put32(block.right);
    }
  }
  MOTE_ASSERT(out == end);
}

Result<std::size_t> TcpRepr::emit(ByteSpan buffer, Ipv4Address source, Ipv4Address destination,
                                  const InternetChecksum* payload_sum) const {
  return emit_with(buffer, payload.size(), source, destination, payload_sum);
}

Result<std::size_t> TcpRepr::emit_header(ByteSpan buffer, std::size_t payload_len,
                                         Ipv4Address source, Ipv4Address destination,
                                         const InternetChecksum& payload_sum) const {
  return emit_with(buffer, payload_len, source, destination, &payload_sum);
}

Result<std::size_t> TcpRepr::emit_with(ByteSpan buffer, std::size_t payload_len, Ipv4Address source,
                                       Ipv4Address destination,
                                       const InternetChecksum* payload_sum) const {
  const std::size_t options_length = options_len();
  const std::size_t header_length = 20 + options_length;
  const std::size_t total = header_length + payload_len;
  // RFC 9293 §3.1: Data Offset is 4 bits, so the options get at most 40 bytes.
  if (options_length > kMaxOptionsLen || (window_scale && *window_scale > kMaxWindowScale) ||
      total > 0xffff) {
    return Status::invalid_argument();
  }
  if (buffer.size() < total) return Status::resource_exhausted();
  if (payload_sum == nullptr) copy_bytes(payload, buffer.data() + header_length);

  auto segment = TcpSegment<ByteSpan>::unchecked(buffer.first(total));
  segment.set_source_port(source_port);
  segment.set_destination_port(destination_port);
  segment.set_seq_number(seq_number);
  segment.set_ack_number(ack_number);
  segment.set_header_len(header_length);
  segment.set_flags(flags);
  segment.set_window_len(window_len);
  segment.set_urgent_pointer(urgent_pointer);

  // RFC 9293 §3.1's checksum: the pseudo-header and the fixed header's
  // words from the values (not read back from the bytes just stored: a
  // load over several narrower stores waits for them to retire).
  InternetChecksum sum;
  sum.add_ipv4_pseudo_header(source, destination, TcpSegment<>::kProtocol,
                             static_cast<std::uint16_t>(total));
  std::uint32_t words = std::uint32_t{source_port} + destination_port + (seq_number >> 16) +
                        (seq_number & 0xffffu) + (ack_number >> 16) + (ack_number & 0xffffu) +
                        (static_cast<std::uint32_t>(header_length / 4) << 12 | flags.bits()) +
                        window_len + urgent_pointer;
  std::byte* out = buffer.data() + 20;
  if (timestamps && options_length == 2 + kTimestampsLen && !sack_permitted) {
    // RFC 7323 Appendix A's NOP, NOP, TSopt, the options of nearly every
    // segment of a connection with timestamps: stored a word at a time and
    // summed from the values too.
    store_be32(out, kAlignedTimestamps);
    store_be32(out + 4, timestamps->value);
    store_be32(out + 8, timestamps->echo_reply);
    words += (kAlignedTimestamps >> 16) + (kAlignedTimestamps & 0xffffu) +
             (timestamps->value >> 16) + (timestamps->value & 0xffffu) +
             (timestamps->echo_reply >> 16) + (timestamps->echo_reply & 0xffffu);
  } else {
    write_options(out);
    sum.add(ConstByteSpan(out, options_length));
  }
  sum.add_u32(words);
  if (payload_sum != nullptr) {
    sum.add_sum(*payload_sum);
  } else {
    sum.add(ConstByteSpan(buffer.data() + header_length, payload_len));
  }
  segment.set_checksum(sum.checksum());
  return total;
}

bool operator==(const TcpRepr& a, const TcpRepr& b) {
  return a.source_port == b.source_port && a.destination_port == b.destination_port &&
         a.seq_number == b.seq_number && a.ack_number == b.ack_number && a.flags == b.flags &&
         a.window_len == b.window_len && a.urgent_pointer == b.urgent_pointer &&
         a.max_segment_size == b.max_segment_size && a.window_scale == b.window_scale &&
         a.sack_permitted == b.sack_permitted && a.sack_blocks == b.sack_blocks &&
         a.timestamps == b.timestamps && same_bytes(a.payload, b.payload);
}

}  // namespace mote::net::wire
