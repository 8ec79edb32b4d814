#include "mote/base/bytes.hpp"

#include <array>
#include <cstdint>
#include <gtest/gtest.h>
#include <limits>

namespace mote {
namespace {

constexpr auto kSample = make_bytes(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09);

static_assert(load_be16(kSample.data()) == 0x0102);
static_assert(load_le16(kSample.data()) == 0x0201);
static_assert(load_be32(kSample.data()) == 0x01020304u);
static_assert(load_le32(kSample.data()) == 0x04030201u);
static_assert(load_be64(kSample.data()) == 0x0102030405060708u);
static_assert(load_le64(kSample.data()) == 0x0807060504030201u);

constexpr std::uint32_t parse_at_compile_time() {
  ByteReader reader(kSample);
  auto first = reader.read_be16();
  auto rest = reader.read_le32();
  auto too_far = reader.read_be32();  // 3 bytes left
  return too_far.ok() ? 0 : *first + *rest;
}
static_assert(parse_at_compile_time() == 0x0102 + 0x06050403u);

constexpr std::array<std::byte, 4> build_at_compile_time() {
  std::array<std::byte, 4> buffer{};
  ByteWriter writer(buffer);
  writer.write_be16(0xabcd).ignore_error();
  writer.write_le16(0x1234).ignore_error();
  return buffer;
}
static_assert(build_at_compile_time() == make_bytes(0xab, 0xcd, 0x34, 0x12));

TEST(Bytes, MakeBytes) {
  constexpr auto kBytes = make_bytes(0x00, 0x7f, 0x80, 0xff);
  static_assert(kBytes.size() == 4);
  EXPECT_EQ(kBytes[0], std::byte{0x00});
  EXPECT_EQ(kBytes[1], std::byte{0x7f});
  EXPECT_EQ(kBytes[2], std::byte{0x80});
  EXPECT_EQ(kBytes[3], std::byte{0xff});
}

TEST(Bytes, FromLiteralKeepsEmbeddedNul) {
  constexpr auto kBytes = bytes_from_literal("a\0b");
  static_assert(kBytes.size() == 3);
  EXPECT_EQ(kBytes, make_bytes('a', 0, 'b'));
}

TEST(Bytes, ViewsOverOtherTypes) {
  std::string_view text = "MQTT";
  ConstByteSpan from_text = bytes_of(text);
  EXPECT_EQ(from_text.size(), 4u);
  EXPECT_EQ(static_cast<const void*>(from_text.data()), static_cast<const void*>(text.data()));
  EXPECT_EQ(from_text[3], std::byte{'T'});
  EXPECT_EQ(bytes_of("abc").size(), 3u);  // no NUL

  const std::uint8_t raw[] = {0xde, 0xad};
  ConstByteSpan from_raw = bytes_of(raw);
  EXPECT_EQ(from_raw.size(), 2u);
  EXPECT_EQ(load_be16(from_raw.data()), 0xdead);

  std::uint8_t mutable_raw[2] = {};
  ByteSpan writable = writable_bytes_of(mutable_raw);
  store_be16(writable.data(), 0xbeef);
  EXPECT_EQ(mutable_raw[0], 0xbe);
  EXPECT_EQ(mutable_raw[1], 0xef);

  EXPECT_EQ(as_string_view(bytes_of(text)), "MQTT");
}

TEST(Bytes, StoresPutEachByteInPlace) {
  std::array<std::byte, 8> buffer{};
  store_be16(buffer.data(), 0x0102);
  EXPECT_EQ(buffer[0], std::byte{0x01});
  EXPECT_EQ(buffer[1], std::byte{0x02});
  store_le16(buffer.data(), 0x0102);
  EXPECT_EQ(buffer[0], std::byte{0x02});
  EXPECT_EQ(buffer[1], std::byte{0x01});

  store_be32(buffer.data(), 0x0a0b0c0d);
  EXPECT_EQ(buffer, make_bytes(0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 0));
  store_le32(buffer.data() + 4, 0x0a0b0c0d);
  EXPECT_EQ(buffer, make_bytes(0x0a, 0x0b, 0x0c, 0x0d, 0x0d, 0x0c, 0x0b, 0x0a));
  store_be64(buffer.data(), 0x1122334455667788u);
  EXPECT_EQ(buffer, make_bytes(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88));
  store_le64(buffer.data(), 0x1122334455667788u);
  EXPECT_EQ(buffer, make_bytes(0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11));
}

TEST(Bytes, LoadsAtOddAddresses) {
  // Offset 1 is misaligned for every multi-byte type.
  const std::byte* odd = kSample.data() + 1;
  EXPECT_EQ(load_be16(odd), 0x0203);
  EXPECT_EQ(load_le16(odd), 0x0302);
  EXPECT_EQ(load_be32(odd), 0x02030405u);
  EXPECT_EQ(load_le32(odd), 0x05040302u);
  EXPECT_EQ(load_be64(odd), 0x0203040506070809u);
  EXPECT_EQ(load_le64(odd), 0x0908070605040302u);
}

TEST(Bytes, RoundTripsExtremes) {
  std::array<std::byte, 9> buffer{};
  const std::uint64_t values[] = {0, 1, 0x8000000000000000u,
                                  std::numeric_limits<std::uint64_t>::max()};
  for (std::uint64_t value : values) {
    store_be64(buffer.data() + 1, value);
    EXPECT_EQ(load_be64(buffer.data() + 1), value);
    store_le64(buffer.data() + 1, value);
    EXPECT_EQ(load_le64(buffer.data() + 1), value);
    auto v32 = static_cast<std::uint32_t>(value >> 32);
    store_be32(buffer.data() + 1, v32);
    EXPECT_EQ(load_be32(buffer.data() + 1), v32);
    store_le32(buffer.data() + 1, v32);
    EXPECT_EQ(load_le32(buffer.data() + 1), v32);
    auto v16 = static_cast<std::uint16_t>(value >> 48);
    store_be16(buffer.data() + 1, v16);
    EXPECT_EQ(load_be16(buffer.data() + 1), v16);
    store_le16(buffer.data() + 1, v16);
    EXPECT_EQ(load_le16(buffer.data() + 1), v16);
  }
}

// --- ByteReader ---------------------------------------------------------------

TEST(ByteReader, ReadsInSequence) {
  constexpr auto kData = make_bytes(0x7f,                                            //
                                    0x12, 0x34,                                      //
                                    0x34, 0x12,                                      //
                                    0xde, 0xad, 0xbe, 0xef,                          //
                                    0xef, 0xbe, 0xad, 0xde,                          //
                                    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  //
                                    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01);
  ByteReader reader(kData);
  EXPECT_EQ(reader.remaining(), kData.size());
  EXPECT_EQ(*reader.read_u8(), 0x7f);
  EXPECT_EQ(*reader.read_be16(), 0x1234);
  EXPECT_EQ(*reader.read_le16(), 0x1234);
  EXPECT_EQ(*reader.read_be32(), 0xdeadbeefu);
  EXPECT_EQ(*reader.read_le32(), 0xdeadbeefu);
  EXPECT_EQ(*reader.read_be64(), 0x0102030405060708u);
  EXPECT_EQ(*reader.read_le64(), 0x0102030405060708u);
  EXPECT_EQ(reader.position(), kData.size());
  EXPECT_EQ(reader.remaining(), 0u);
  EXPECT_TRUE(reader.empty());
  EXPECT_EQ(reader.read_u8().status(), Status::out_of_range());
}

TEST(ByteReader, ShortReadConsumesNothing) {
  constexpr auto kData = make_bytes(0xaa, 0xbb, 0xcc);
  ByteReader reader(kData);
  EXPECT_EQ(reader.read_be32().status(), Status::out_of_range());
  EXPECT_EQ(reader.read_le32().status(), Status::out_of_range());
  EXPECT_EQ(reader.read_be64().status(), Status::out_of_range());
  EXPECT_EQ(reader.read_le64().status(), Status::out_of_range());
  EXPECT_EQ(reader.read_bytes(4).status(), Status::out_of_range());
  EXPECT_EQ(reader.skip(4), Status::out_of_range());
  EXPECT_EQ(reader.position(), 0u);
  EXPECT_EQ(reader.remaining(), 3u);
  // What does fit still reads from the start.
  EXPECT_EQ(*reader.read_be16(), 0xaabb);
  EXPECT_EQ(reader.read_be16().status(), Status::out_of_range());
  EXPECT_EQ(reader.read_le16().status(), Status::out_of_range());
  EXPECT_EQ(*reader.read_u8(), 0xcc);
}

TEST(ByteReader, ReadBytesIsAViewNotACopy) {
  constexpr auto kData = make_bytes(1, 2, 3, 4, 5);
  ByteReader reader(kData);
  ASSERT_TRUE(reader.skip(1).ok());
  Result<ConstByteSpan> middle = reader.read_bytes(3);
  ASSERT_TRUE(middle.ok());
  EXPECT_EQ(middle->data(), kData.data() + 1);
  EXPECT_EQ(middle->size(), 3u);
  EXPECT_EQ(reader.position(), 4u);
  EXPECT_EQ(reader.unread().data(), kData.data() + 4);
  EXPECT_EQ(reader.unread().size(), 1u);
  Result<ConstByteSpan> nothing = reader.read_bytes(0);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->empty());
  EXPECT_EQ(reader.position(), 4u);
  ASSERT_TRUE(reader.read_bytes(1).ok());
  EXPECT_TRUE(reader.empty());
  EXPECT_TRUE(reader.read_bytes(0).ok());
}

TEST(ByteReader, HugeCountsDoNotWrap) {
  constexpr auto kData = make_bytes(1, 2);
  ByteReader reader(kData);
  ASSERT_TRUE(reader.skip(1).ok());
  EXPECT_EQ(reader.skip(std::numeric_limits<std::size_t>::max()), Status::out_of_range());
  EXPECT_EQ(reader.read_bytes(std::numeric_limits<std::size_t>::max()).status(),
            Status::out_of_range());
  EXPECT_EQ(reader.position(), 1u);
}

TEST(ByteReader, EmptyReader) {
  ByteReader reader;
  EXPECT_TRUE(reader.empty());
  EXPECT_EQ(reader.read_u8().status(), Status::out_of_range());
  EXPECT_TRUE(reader.skip(0).ok());
}

// --- ByteWriter ---------------------------------------------------------------

TEST(ByteWriter, WritesInSequence) {
  std::array<std::byte, 29> buffer{};
  ByteWriter writer(buffer);
  EXPECT_EQ(writer.capacity(), 29u);
  EXPECT_EQ(writer.write_u8(0x7f), ok_status());
  EXPECT_EQ(writer.write_be16(0x1234), ok_status());
  EXPECT_EQ(writer.write_le16(0x1234), ok_status());
  EXPECT_EQ(writer.write_be32(0xdeadbeef), ok_status());
  EXPECT_EQ(writer.write_le32(0xdeadbeef), ok_status());
  EXPECT_EQ(writer.write_be64(0x0102030405060708u), ok_status());
  EXPECT_EQ(writer.write_le64(0x0102030405060708u), ok_status());
  EXPECT_EQ(writer.size(), 29u);
  EXPECT_EQ(writer.remaining(), 0u);
  EXPECT_EQ(buffer, make_bytes(0x7f, 0x12, 0x34, 0x34, 0x12, 0xde, 0xad, 0xbe, 0xef, 0xef, 0xbe,
                               0xad, 0xde, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x08,
                               0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01));
  EXPECT_EQ(writer.written().data(), buffer.data());
  EXPECT_EQ(writer.written().size(), 29u);
}

TEST(ByteWriter, FullBufferWritesNothing) {
  std::array<std::byte, 5> buffer{};
  buffer.fill(std::byte{0xee});
  ByteWriter writer(buffer);
  ASSERT_EQ(writer.write_be16(0x0102), ok_status());
  EXPECT_EQ(writer.write_be32(0xaabbccdd), Status::resource_exhausted());
  EXPECT_EQ(writer.write_le32(0xaabbccdd), Status::resource_exhausted());
  EXPECT_EQ(writer.write_be64(1), Status::resource_exhausted());
  EXPECT_EQ(writer.write_le64(1), Status::resource_exhausted());
  EXPECT_EQ(writer.write_bytes(make_bytes(1, 2, 3, 4)), Status::resource_exhausted());
  EXPECT_EQ(writer.size(), 2u);
  EXPECT_EQ(buffer, make_bytes(0x01, 0x02, 0xee, 0xee, 0xee));
  EXPECT_EQ(writer.write_bytes(make_bytes(3, 4, 5)), ok_status());
  EXPECT_EQ(writer.write_u8(6), Status::resource_exhausted());
  EXPECT_EQ(writer.write_be16(6), Status::resource_exhausted());
  EXPECT_EQ(writer.write_le16(6), Status::resource_exhausted());
  EXPECT_EQ(writer.write_bytes({}), ok_status());
  EXPECT_EQ(buffer, make_bytes(1, 2, 3, 4, 5));
}

TEST(ByteWriter, WrittenCanBePatchedAndCleared) {
  std::array<std::byte, 8> buffer{};
  ByteWriter writer(buffer);
  ASSERT_EQ(writer.write_be16(0), ok_status());  // length, filled in below
  ASSERT_EQ(writer.write_bytes(bytes_of("abc")), ok_status());
  ByteSpan message = writer.written();
  store_be16(message.data(), static_cast<std::uint16_t>(message.size() - 2));
  EXPECT_EQ(buffer, make_bytes(0, 3, 'a', 'b', 'c', 0, 0, 0));
  writer.clear();
  EXPECT_EQ(writer.size(), 0u);
  EXPECT_EQ(writer.remaining(), 8u);
}

TEST(ByteWriter, RoundTripsThroughTheReader) {
  std::array<std::byte, 16> buffer{};
  ByteWriter writer(buffer);
  ASSERT_EQ(writer.write_u8(3), ok_status());
  ASSERT_EQ(writer.write_bytes(bytes_of("key")), ok_status());
  ASSERT_EQ(writer.write_le32(123456), ok_status());

  ByteReader reader(writer.written());
  Result<std::uint8_t> length = reader.read_u8();
  ASSERT_TRUE(length.ok());
  Result<ConstByteSpan> key = reader.read_bytes(*length);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(as_string_view(*key), "key");
  EXPECT_EQ(*reader.read_le32(), 123456u);
  EXPECT_TRUE(reader.empty());
}

}  // namespace
}  // namespace mote
