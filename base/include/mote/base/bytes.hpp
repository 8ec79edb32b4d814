#pragma once
// Bytes: the project's one byte-view type, endian loads and stores, and
// bounds-checked cursors for parsing (ByteReader) and building (ByteWriter).
//
// Multi-byte values are assembled one byte at a time, never by casting a
// pointer to a wider type: Cortex-M0 faults on unaligned word access, and
// wire data has no alignment to offer.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "mote/base/result.hpp"
#include "mote/base/status.hpp"

namespace mote {

using ByteSpan = std::span<std::byte>;
using ConstByteSpan = std::span<const std::byte>;

// --- Views and constants ----------------------------------------------------

// The characters of `text` (without any terminating NUL).
[[nodiscard]] inline ConstByteSpan bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}
[[nodiscard]] inline ConstByteSpan bytes_of(std::span<const std::uint8_t> data) {
  return {reinterpret_cast<const std::byte*>(data.data()), data.size()};
}
[[nodiscard]] inline ByteSpan writable_bytes_of(std::span<std::uint8_t> data) {
  return {reinterpret_cast<std::byte*>(data.data()), data.size()};
}
// For handing bytes to code that speaks text (parsers of ASCII protocols, logs).
[[nodiscard]] inline std::string_view as_string_view(ConstByteSpan bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A constant byte array from integer literals, for tests and fixed headers:
//   constexpr auto kMagic = make_bytes(0x4d, 0x51, 0x54, 0x54);
template <typename... Values>
[[nodiscard]] constexpr std::array<std::byte, sizeof...(Values)> make_bytes(Values... values) {
  static_assert((std::is_integral_v<Values> && ...), "make_bytes takes integer values");
  return {static_cast<std::byte>(values)...};
}

// A constant byte array holding a string literal's characters, NUL excluded.
// Unlike bytes_of(std::string_view), embedded NULs are kept.
template <std::size_t N>
[[nodiscard]] constexpr std::array<std::byte, N - 1> bytes_from_literal(const char (&text)[N]) {
  std::array<std::byte, N - 1> bytes{};
  for (std::size_t i = 0; i + 1 < N; ++i) bytes[i] = static_cast<std::byte>(text[i]);
  return bytes;
}

// --- Endian loads and stores --------------------------------------------------
// The pointer must have room for the whole value; ByteReader/ByteWriter are
// the checked way in.

namespace internal {

enum class Order : unsigned char { big, little };

template <typename T>
constexpr T load_be(const std::byte* p) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value = static_cast<T>((value << 8) | std::to_integer<T>(p[i]));
  }
  return value;
}

template <typename T>
constexpr T load_le(const std::byte* p) {
  T value = 0;
  for (std::size_t i = sizeof(T); i > 0; --i) {
    value = static_cast<T>((value << 8) | std::to_integer<T>(p[i - 1]));
  }
  return value;
}

template <typename T>
constexpr void store_be(std::byte* p, T value) {
  for (std::size_t i = sizeof(T); i > 0; --i) {
    p[i - 1] = static_cast<std::byte>(value & 0xffu);
    value = static_cast<T>(value >> 8);
  }
}

template <typename T>
constexpr void store_le(std::byte* p, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    p[i] = static_cast<std::byte>(value & 0xffu);
    value = static_cast<T>(value >> 8);
  }
}

}  // namespace internal

[[nodiscard]] constexpr std::uint16_t load_be16(const std::byte* p) {
  return internal::load_be<std::uint16_t>(p);
}
[[nodiscard]] constexpr std::uint32_t load_be32(const std::byte* p) {
  return internal::load_be<std::uint32_t>(p);
}
[[nodiscard]] constexpr std::uint64_t load_be64(const std::byte* p) {
  return internal::load_be<std::uint64_t>(p);
}
[[nodiscard]] constexpr std::uint16_t load_le16(const std::byte* p) {
  return internal::load_le<std::uint16_t>(p);
}
[[nodiscard]] constexpr std::uint32_t load_le32(const std::byte* p) {
  return internal::load_le<std::uint32_t>(p);
}
[[nodiscard]] constexpr std::uint64_t load_le64(const std::byte* p) {
  return internal::load_le<std::uint64_t>(p);
}

constexpr void store_be16(std::byte* p, std::uint16_t value) { internal::store_be(p, value); }
constexpr void store_be32(std::byte* p, std::uint32_t value) { internal::store_be(p, value); }
constexpr void store_be64(std::byte* p, std::uint64_t value) { internal::store_be(p, value); }
constexpr void store_le16(std::byte* p, std::uint16_t value) { internal::store_le(p, value); }
constexpr void store_le32(std::byte* p, std::uint32_t value) { internal::store_le(p, value); }
constexpr void store_le64(std::byte* p, std::uint64_t value) { internal::store_le(p, value); }

// --- ByteReader ---------------------------------------------------------------

// A cursor for parsing. A read that does not fit in what is left returns
// out_of_range and consumes nothing, so a parser can report "need more data"
// and retry once more bytes arrive. The bytes must outlive the reader and
// every span it returns.
class ByteReader {
  using Order = internal::Order;

  // Defined ahead of the public members that call it: clang 14 cannot
  // constant-evaluate a member template defined later in its class.
  template <typename T, Order kByteOrder>
  constexpr Result<T> read() {
    if (sizeof(T) > remaining()) return Status::out_of_range();
    const std::byte* p = data_.data() + position_;
    position_ += sizeof(T);
    if constexpr (kByteOrder == Order::big) {
      return internal::load_be<T>(p);
    } else {
      return internal::load_le<T>(p);
    }
  }

 public:
  constexpr ByteReader() = default;
  constexpr explicit ByteReader(ConstByteSpan data) : data_(data) {}

  [[nodiscard]] constexpr std::size_t position() const { return position_; }
  [[nodiscard]] constexpr std::size_t remaining() const { return data_.size() - position_; }
  [[nodiscard]] constexpr bool empty() const { return remaining() == 0; }
  // The bytes not yet read.
  [[nodiscard]] constexpr ConstByteSpan unread() const { return data_.subspan(position_); }

  constexpr Result<std::uint8_t> read_u8() { return read<std::uint8_t, Order::big>(); }
  constexpr Result<std::uint16_t> read_be16() { return read<std::uint16_t, Order::big>(); }
  constexpr Result<std::uint32_t> read_be32() { return read<std::uint32_t, Order::big>(); }
  constexpr Result<std::uint64_t> read_be64() { return read<std::uint64_t, Order::big>(); }
  constexpr Result<std::uint16_t> read_le16() { return read<std::uint16_t, Order::little>(); }
  constexpr Result<std::uint32_t> read_le32() { return read<std::uint32_t, Order::little>(); }
  constexpr Result<std::uint64_t> read_le64() { return read<std::uint64_t, Order::little>(); }

  // The next `count` bytes as a view into the underlying data (no copy).
  constexpr Result<ConstByteSpan> read_bytes(std::size_t count) {
    if (count > remaining()) return Status::out_of_range();
    ConstByteSpan bytes = data_.subspan(position_, count);
    position_ += count;
    return bytes;
  }

  constexpr Status skip(std::size_t count) {
    if (count > remaining()) return Status::out_of_range();
    position_ += count;
    return ok_status();
  }

 private:
  ConstByteSpan data_;
  std::size_t position_ = 0;
};

// --- ByteWriter ---------------------------------------------------------------

// A cursor for building messages in a caller-owned buffer. A write that does
// not fit returns resource_exhausted and writes nothing, so the buffer never
// holds half a field.
class ByteWriter {
  using Order = internal::Order;

  // Defined ahead of the public members that call it: clang 14 cannot
  // constant-evaluate a member template defined later in its class.
  template <Order kByteOrder, typename T>
  constexpr Status write(T value) {
    if (sizeof(T) > remaining()) return Status::resource_exhausted();
    std::byte* p = buffer_.data() + size_;
    if constexpr (kByteOrder == Order::big) {
      internal::store_be(p, value);
    } else {
      internal::store_le(p, value);
    }
    size_ += sizeof(T);
    return ok_status();
  }

 public:
  constexpr ByteWriter() = default;
  constexpr explicit ByteWriter(ByteSpan buffer) : buffer_(buffer) {}

  [[nodiscard]] constexpr std::size_t size() const { return size_; }
  [[nodiscard]] constexpr std::size_t capacity() const { return buffer_.size(); }
  [[nodiscard]] constexpr std::size_t remaining() const { return buffer_.size() - size_; }
  // Mutable so a length or checksum field can be patched once the rest is known.
  [[nodiscard]] constexpr ByteSpan written() const { return buffer_.first(size_); }

  constexpr Status write_u8(std::uint8_t value) { return write<Order::big>(value); }
  constexpr Status write_be16(std::uint16_t value) { return write<Order::big>(value); }
  constexpr Status write_be32(std::uint32_t value) { return write<Order::big>(value); }
  constexpr Status write_be64(std::uint64_t value) { return write<Order::big>(value); }
  constexpr Status write_le16(std::uint16_t value) { return write<Order::little>(value); }
  constexpr Status write_le32(std::uint32_t value) { return write<Order::little>(value); }
  constexpr Status write_le64(std::uint64_t value) { return write<Order::little>(value); }

  constexpr Status write_bytes(ConstByteSpan bytes) {
    if (bytes.size() > remaining()) return Status::resource_exhausted();
    // std::copy, not a loop of byte stores: those may alias size_ and
    // buffer_, so the compiler reloads both per byte instead of calling memcpy.
    std::copy(bytes.begin(), bytes.end(), buffer_.begin() + static_cast<std::ptrdiff_t>(size_));
    size_ += bytes.size();
    return ok_status();
  }

  // Forgets what was written, keeping the buffer.
  constexpr void clear() { size_ = 0; }

 private:
  ByteSpan buffer_;
  std::size_t size_ = 0;
};

}  // namespace mote
