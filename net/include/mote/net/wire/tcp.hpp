#pragma once
// TCP (RFC 9293) segment headers with the options a small stack needs: MSS
// (RFC 9293 §3.7.1), window scale and timestamps (RFC 7323), SACK-permitted
// and SACK blocks (RFC 2018). Other options are skipped by their length.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "mote/base/assert.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/inline_vector.hpp"
#include "mote/base/result.hpp"
#include "mote/net/wire/address.hpp"
#include "mote/net/wire/checksum.hpp"
#include "mote/net/wire/view.hpp"

namespace mote::net::wire {

// The control bits (RFC 9293 §3.1, with ECE and CWR from RFC 3168).
class TcpFlags {
 public:
  static constexpr std::uint8_t kFin = 0x01;
  static constexpr std::uint8_t kSyn = 0x02;
  static constexpr std::uint8_t kRst = 0x04;
  static constexpr std::uint8_t kPsh = 0x08;
  static constexpr std::uint8_t kAck = 0x10;
  static constexpr std::uint8_t kUrg = 0x20;
  static constexpr std::uint8_t kEce = 0x40;
  static constexpr std::uint8_t kCwr = 0x80;

  constexpr TcpFlags() = default;
  constexpr explicit TcpFlags(std::uint8_t bits) : bits_(bits) {}

  [[nodiscard]] constexpr std::uint8_t bits() const { return bits_; }
  [[nodiscard]] constexpr bool has(std::uint8_t flags) const { return (bits_ & flags) == flags; }
  [[nodiscard]] constexpr bool fin() const { return has(kFin); }
  [[nodiscard]] constexpr bool syn() const { return has(kSyn); }
  [[nodiscard]] constexpr bool rst() const { return has(kRst); }
  [[nodiscard]] constexpr bool psh() const { return has(kPsh); }
  [[nodiscard]] constexpr bool ack() const { return has(kAck); }
  [[nodiscard]] constexpr bool urg() const { return has(kUrg); }

  friend constexpr bool operator==(TcpFlags, TcpFlags) = default;

 private:
  std::uint8_t bits_ = 0;
};

// Option kinds (IANA "TCP Option Kind Numbers").
enum class TcpOptionKind : std::uint8_t {
  end_of_list = 0,
  no_operation = 1,
  max_segment_size = 2,
  window_scale = 3,
  sack_permitted = 4,
  sack = 5,
  timestamps = 8,
};

// One option as it appears in the header: its kind and the bytes after the
// kind and length octets (empty for EOL and NOP).
struct TcpOption {
  std::uint8_t kind = 0;
  ConstByteSpan data;
};

// Walks the options of a checked segment; EOL ends the walk.
//   for (TcpOptionReader r(segment.options()); auto option = r.next();) ...
class TcpOptionReader {
 public:
  constexpr explicit TcpOptionReader(ConstByteSpan options) : rest_(options) {}

  // The next option, or nothing at the end of the list. On options that
  // check_tcp_options() accepted this never sees a malformed length.
  constexpr std::optional<TcpOption> next() {
    if (rest_.empty()) return std::nullopt;
    const auto kind = std::to_integer<std::uint8_t>(rest_[0]);
    // RFC 9293 §3.1: "End of Option List ... used at the end of all options".
    if (kind == 0) {
      rest_ = {};
      return std::nullopt;
    }
    if (kind == 1) {
      rest_ = rest_.subspan(1);
      return TcpOption{kind, {}};
    }
    if (rest_.size() < 2) {
      rest_ = {};
      return std::nullopt;
    }
    const auto length = std::to_integer<std::size_t>(rest_[1]);
    if (length < 2 || length > rest_.size()) {
      rest_ = {};
      return std::nullopt;
    }
    TcpOption option{kind, rest_.subspan(2, length - 2)};
    rest_ = rest_.subspan(length);
    return option;
  }

 private:
  ConstByteSpan rest_;
};

// Validates the option list: every option other than EOL and NOP has a
// length octet of at least 2 that fits (out_of_range when it runs past the
// header, invalid_argument when below 2), and the known kinds have the
// length their RFC gives (invalid_argument).
Status check_tcp_options(ConstByteSpan options);

template <PacketBytes Bytes = ConstByteSpan>
class TcpSegment {
 public:
  static constexpr std::size_t kMinHeaderLen = 20;
  static constexpr std::size_t kMaxHeaderLen = 60;
  static constexpr std::uint8_t kProtocol = 6;

  // The fixed header fits (out_of_range); Data Offset is at least 5
  // (invalid_argument) and the header it gives fits (out_of_range); the
  // options are well formed (check_tcp_options). The whole buffer after the
  // header is the payload: pass exactly the IPv4 payload.
  static Result<TcpSegment> checked(Bytes buffer) {
    if (buffer.size() < kMinHeaderLen) return Status::out_of_range();
    TcpSegment segment(buffer);
    // RFC 9293 §3.1: "Data Offset: 4 bits. The number of 32-bit words in the
    // TCP header." The fixed header alone is 5 words.
    if (segment.header_len() < kMinHeaderLen) return Status::invalid_argument();
    if (segment.header_len() > buffer.size()) return Status::out_of_range();
    MOTE_TRY(check_tcp_options(segment.options()));
    return segment;
  }
  static constexpr TcpSegment unchecked(Bytes buffer) {
    MOTE_ASSERT(buffer.size() >= kMinHeaderLen);
    return TcpSegment(buffer);
  }

  [[nodiscard]] constexpr Bytes bytes() const { return buffer_; }
  [[nodiscard]] constexpr std::uint16_t source_port() const { return load_be16(&buffer_[0]); }
  [[nodiscard]] constexpr std::uint16_t destination_port() const { return load_be16(&buffer_[2]); }
  [[nodiscard]] constexpr std::uint32_t seq_number() const { return load_be32(&buffer_[4]); }
  [[nodiscard]] constexpr std::uint32_t ack_number() const { return load_be32(&buffer_[8]); }
  [[nodiscard]] constexpr std::size_t header_len() const {
    return (std::size_t{std::to_integer<std::uint8_t>(buffer_[12])} >> 4) * 4;
  }
  [[nodiscard]] constexpr TcpFlags flags() const {
    return TcpFlags(std::to_integer<std::uint8_t>(buffer_[13]));
  }
  [[nodiscard]] constexpr std::uint16_t window_len() const { return load_be16(&buffer_[14]); }
  [[nodiscard]] constexpr std::uint16_t checksum() const { return load_be16(&buffer_[16]); }
  [[nodiscard]] constexpr std::uint16_t urgent_pointer() const { return load_be16(&buffer_[18]); }
  [[nodiscard]] constexpr Bytes options() const {
    return buffer_.subspan(kMinHeaderLen, header_len() - kMinHeaderLen);
  }
  [[nodiscard]] constexpr Bytes payload() const { return buffer_.subspan(header_len()); }
  // The sequence space the segment occupies: its data, plus one each for
  // SYN and FIN (RFC 9293 §3.4).
  [[nodiscard]] constexpr std::size_t segment_len() const {
    return payload().size() + (flags().syn() ? 1 : 0) + (flags().fin() ? 1 : 0);
  }

  // RFC 9293 §3.1: the checksum covers the pseudo-header, the TCP header and
  // the data. The TCP length is the whole buffer.
  [[nodiscard]] constexpr bool verify_checksum(Ipv4Address source, Ipv4Address destination) const {
    InternetChecksum sum;
    sum.add_ipv4_pseudo_header(source, destination, kProtocol,
                               static_cast<std::uint16_t>(buffer_.size()));
    sum.add(buffer_);
    return sum.verifies();
  }
  // The same, copying the payload to `to` (room for payload().size() bytes,
  // not overlapping) in the same pass over it.
  [[nodiscard]] bool verify_checksum_copying_payload(Ipv4Address source, Ipv4Address destination,
                                                     std::byte* to) const {
    InternetChecksum sum;
    sum.add_ipv4_pseudo_header(source, destination, kProtocol,
                               static_cast<std::uint16_t>(buffer_.size()));
    sum.add(buffer_.first(header_len()));
    sum.add_copy(payload(), to);
    return sum.verifies();
  }

  constexpr void set_source_port(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[0], value);
  }
  constexpr void set_destination_port(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[2], value);
  }
  constexpr void set_seq_number(std::uint32_t value) requires kIsWritable<Bytes> {
    store_be32(&buffer_[4], value);
  }
  constexpr void set_ack_number(std::uint32_t value) requires kIsWritable<Bytes> {
    store_be32(&buffer_[8], value);
  }
  // Also clears the reserved bits.
  constexpr void set_header_len(std::size_t value) requires kIsWritable<Bytes> {
    buffer_[12] = static_cast<std::byte>(((value / 4) & 0x0f) << 4);
  }
  constexpr void set_flags(TcpFlags flags) requires kIsWritable<Bytes> {
    buffer_[13] = std::byte{flags.bits()};
  }
  constexpr void set_window_len(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[14], value);
  }
  constexpr void set_checksum(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[16], value);
  }
  constexpr void set_urgent_pointer(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[18], value);
  }
  // Call once the header, options and payload are in place; the segment is
  // the whole buffer.
  constexpr void fill_checksum(Ipv4Address source,
                               Ipv4Address destination) requires kIsWritable<Bytes> {
    fill_checksum(source, destination, buffer_.size(), InternetChecksum{});
  }
  // The same, with the sum of the bytes from `summed_len` on (the payload,
  // at an even offset) already taken.
  constexpr void fill_checksum(Ipv4Address source, Ipv4Address destination, std::size_t summed_len,
                               const InternetChecksum& rest) requires kIsWritable<Bytes> {
    set_checksum(0);
    InternetChecksum sum;
    sum.add_ipv4_pseudo_header(source, destination, kProtocol,
                               static_cast<std::uint16_t>(buffer_.size()));
    sum.add(buffer_.first(summed_len));
    sum.add_sum(rest);
    set_checksum(sum.checksum());
  }

 private:
  constexpr explicit TcpSegment(Bytes buffer) : buffer_(buffer) {}

  Bytes buffer_;
};

// RFC 2018 §3: a SACK block, "Left Edge of Block" and "Right Edge of Block".
struct SackBlock {
  std::uint32_t left = 0;
  std::uint32_t right = 0;
  friend constexpr bool operator==(SackBlock, SackBlock) = default;
};

// RFC 7323 §3: TSval and TSecr.
struct TcpTimestamps {
  std::uint32_t value = 0;
  std::uint32_t echo_reply = 0;
  friend constexpr bool operator==(TcpTimestamps, TcpTimestamps) = default;
};

// A TCP segment. parse() points `payload` into the segment; emit() copies
// it after the header unless already in place.
//
// emit() lays the options out as Linux does (tcp_options_write), so a
// segment parsed from Linux re-emits byte for byte: MSS; SACK-permitted and
// timestamps together in 12 bytes (or each NOP-padded); NOP + window scale;
// NOP NOP + SACK blocks.
struct TcpRepr {
  static constexpr std::size_t kMaxOptionsLen = 40;
  // RFC 2018 §3: at most 4 blocks fit, 3 next to timestamps.
  static constexpr std::size_t kMaxSackBlocks = 4;
  // RFC 7323 §2.3: shifts above 14 are treated as 14.
  static constexpr std::uint8_t kMaxWindowScale = 14;

  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t seq_number = 0;
  std::uint32_t ack_number = 0;
  TcpFlags flags;
  std::uint16_t window_len = 0;  // as sent, before window scaling
  std::uint16_t urgent_pointer = 0;
  std::optional<std::uint16_t> max_segment_size;
  std::optional<std::uint8_t> window_scale;
  bool sack_permitted = false;
  InlineVector<SackBlock, kMaxSackBlocks> sack_blocks;
  std::optional<TcpTimestamps> timestamps;
  ConstByteSpan payload;

  // data_loss on a wrong checksum (mode verify). The addresses are the IPv4
  // header's, for the pseudo-header. Unknown options are skipped; a window
  // scale above 14 reads as 14.
  static Result<TcpRepr> parse(const TcpSegment<>& segment, Ipv4Address source,
                               Ipv4Address destination, ChecksumMode mode = ChecksumMode::verify);

  [[nodiscard]] std::size_t options_len() const;
  [[nodiscard]] std::size_t header_len() const { return 20 + options_len(); }
  [[nodiscard]] std::size_t buffer_len() const { return header_len() + payload.size(); }
  // Returns buffer_len(). invalid_argument when the options exceed 40 bytes,
  // the window scale exceeds 14, or the segment exceeds 65535 bytes.
  // With `payload_sum`, `payload` is already in place after the header in
  // `buffer` and this is its sum, taken while it was copied there
  // (InternetChecksum::add_copy): only the header is summed.
  Result<std::size_t> emit(ByteSpan buffer, Ipv4Address source, Ipv4Address destination,
                           const InternetChecksum* payload_sum = nullptr) const;
  // The header alone, in front of `payload_len` bytes of payload already in
  // place after it in `buffer` whose sum is `payload_sum` (`payload` is not
  // used). Returns and fails as emit().
  Result<std::size_t> emit_header(ByteSpan buffer, std::size_t payload_len, Ipv4Address source,
                                  Ipv4Address destination,
                                  const InternetChecksum& payload_sum) const;

  friend bool operator==(const TcpRepr& a, const TcpRepr& b);

 private:
  // emit() and emit_header(): without `payload_sum`, `payload` is copied
  // after the header and summed with it.
  Result<std::size_t> emit_with(ByteSpan buffer, std::size_t payload_len, Ipv4Address source,
                                Ipv4Address destination, const InternetChecksum* payload_sum) const;
  // The options_len() bytes of options at `out`.
  void write_options(std::byte* out) const;
};

}  // namespace mote::net::wire
