// Drives a ByteReader with a sequence of reads chosen by the input and checks
// its contract after each: a read that fits returns exactly the bytes at the
// old position and advances by its size; one that does not returns
// out_of_range and moves nothing; position + remaining never changes.
//
// Input layout: [op count n][n op bytes][the data the reader parses]. Each op
// byte picks a read in its low 4 bits; read_bytes/skip take their length from
// the high 4 bits, scaled so that too-long requests are common.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "mote/base/bytes.hpp"

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "byte_reader_fuzzer: %s\n", what);
    std::abort();
  }
}

template <typename T>
void check_read(mote::ByteReader& reader, mote::ConstByteSpan data, mote::Result<T> result,
                std::size_t before, T (*load)(const std::byte*)) {
  if (sizeof(T) <= data.size() - before) {
    check(result.ok(), "a read that fits failed");
    check(*result == load(data.data() + before), "read the wrong value");
    check(reader.position() == before + sizeof(T), "read advanced by the wrong amount");
  } else {
    check(result.status() == mote::Status::out_of_range(), "short read not out_of_range");
    check(reader.position() == before, "short read consumed input");
  }
}

std::uint8_t load_u8(const std::byte* p) { return std::to_integer<std::uint8_t>(*p); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* input, std::size_t size) {
  if (size == 0) return 0;
  std::size_t op_count = input[0];
  if (op_count > size - 1) op_count = size - 1;
  const std::uint8_t* ops = input + 1;
  mote::ConstByteSpan data = mote::bytes_of(std::span(input + 1 + op_count, size - 1 - op_count));

  mote::ByteReader reader(data);
  for (std::size_t i = 0; i < op_count; ++i) {
    const std::size_t before = reader.position();
    const std::size_t length = static_cast<std::size_t>(ops[i] >> 4) * 3;
    switch (ops[i] & 0x0f) {
      case 0: check_read(reader, data, reader.read_u8(), before, &load_u8); break;
      case 1: check_read(reader, data, reader.read_be16(), before, &mote::load_be16); break;
      case 2: check_read(reader, data, reader.read_be32(), before, &mote::load_be32); break;
      case 3: check_read(reader, data, reader.read_be64(), before, &mote::load_be64); break;
      case 4: check_read(reader, data, reader.read_le16(), before, &mote::load_le16); break;
      case 5: check_read(reader, data, reader.read_le32(), before, &mote::load_le32); break;
      case 6: check_read(reader, data, reader.read_le64(), before, &mote::load_le64); break;
      case 7:
      case 8: {
        mote::Result<mote::ConstByteSpan> bytes = reader.read_bytes(length);
        if (length <= data.size() - before) {
          check(bytes.ok(), "read_bytes that fits failed");
          check(bytes->data() == data.data() + before, "read_bytes is not a view at the position");
          check(bytes->size() == length, "read_bytes returned the wrong size");
          // Touch every byte so ASan sees any view past the end.
          unsigned sum = 0;
          for (std::byte b : *bytes) sum += std::to_integer<unsigned>(b);
          static_cast<void>(sum);
        } else {
          check(bytes.status() == mote::Status::out_of_range(), "long read_bytes not out_of_range");
          check(reader.position() == before, "long read_bytes consumed input");
        }
        break;
      }
      case 9: {
        mote::Status status = reader.skip(length);
        check(status.ok() == (length <= data.size() - before), "skip decided wrongly");
        check(reader.position() == (status.ok() ? before + length : before), "skip moved wrongly");
        break;
      }
      case 10: {
        mote::ConstByteSpan unread = reader.unread();
        check(unread.data() == data.data() + before, "unread does not start at the position");
        check(unread.size() == reader.remaining(), "unread size is not remaining()");
        break;
      }
      default: {
        // A huge length must not wrap around the bounds check.
        const std::size_t huge = SIZE_MAX - static_cast<std::size_t>(ops[i] & 0x03);
        check(!reader.skip(huge).ok(), "huge skip succeeded");
        check(!reader.read_bytes(huge).ok(), "huge read_bytes succeeded");
        check(reader.position() == before, "huge request consumed input");
        break;
      }
    }
    check(reader.position() <= data.size(), "position past the end");
    check(reader.position() + reader.remaining() == data.size(),
          "position + remaining is not the data size");
    check(reader.empty() == (reader.remaining() == 0), "empty() disagrees with remaining()");
  }
  return 0;
}
