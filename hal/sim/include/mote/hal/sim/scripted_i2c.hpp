#pragma once
// ScriptedI2c: an I2cBus that expects an exact sequence of transactions, in
// the manner of Pigweed's pw_i2c initiator mock. Each transaction the code
// under test runs is checked against the next entry of the script: its kind
// (write, read, write_read), address, the bytes written and the size of the
// read. A match completes with the entry's Status and, for reads, its bytes;
// the first mismatch is recorded with a description, and it and every later
// transaction complete with `internal`.
//
//   const I2cTransaction script[] = {
//       expect_write_read(0x76, {0xD0}, {0x60}),   // chip id
//       expect_write(0x76, {0xE0, 0xB6}),          // soft reset
//   };
//   ScriptedI2c i2c(script);
//   ... run the driver ...
//   EXPECT_TRUE(i2c.finished()) << i2c.problem();
//
// No test framework is needed: problem() is a string to print.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/inline_string.hpp"
#include "mote/base/inline_vector.hpp"
#include "mote/base/status.hpp"
#include "mote/hal/i2c.hpp"
#include "mote/hal/sim/immediate.hpp"

namespace mote::hal::sim {

enum class I2cTransactionKind : std::uint8_t { write, read, write_read };

// One expected transaction. Bytes are held inline (up to kMaxBytes each way),
// so a script is a plain array the test declares.
struct I2cTransaction {
  static constexpr std::size_t kMaxBytes = 32;

  I2cTransactionKind kind = I2cTransactionKind::write;
  I2cAddress address = 0;
  InlineVector<std::byte, kMaxBytes> written;   // write / write_read
  InlineVector<std::byte, kMaxBytes> returned;  // read / write_read: its size is the read's
  Status status;                                // what the transaction completes with
};

I2cTransaction expect_write(I2cAddress address, ConstByteSpan written, Status status = {});
I2cTransaction expect_read(I2cAddress address, ConstByteSpan returned, Status status = {});
I2cTransaction expect_write_read(I2cAddress address, ConstByteSpan written, ConstByteSpan returned,
                                 Status status = {});
I2cTransaction expect_write(I2cAddress address, std::initializer_list<std::uint8_t> written,
                            Status status = {});
I2cTransaction expect_read(I2cAddress address, std::initializer_list<std::uint8_t> returned,
                           Status status = {});
I2cTransaction expect_write_read(I2cAddress address, std::initializer_list<std::uint8_t> written,
                                 std::initializer_list<std::uint8_t> returned, Status status = {});

class ScriptedI2c {
 public:
  // The script must outlive the bus.
  explicit ScriptedI2c(std::span<const I2cTransaction> script) : script_(script) {}
  ScriptedI2c(const ScriptedI2c&) = delete;
  ScriptedI2c& operator=(const ScriptedI2c&) = delete;

  // --- I2cBus --------------------------------------------------------------
  auto write(I2cAddress address, ConstByteSpan data) {
    return Immediate(
        [this, address, data] { return transact(I2cTransactionKind::write, address, data, {}); });
  }
  auto read(I2cAddress address, ByteSpan buffer) {
    return Immediate([this, address, buffer] {
      return transact(I2cTransactionKind::read, address, {}, buffer);
    });
  }
  auto write_read(I2cAddress address, ConstByteSpan data, ByteSpan buffer) {
    return Immediate([this, address, data, buffer] {
      return transact(I2cTransactionKind::write_read, address, data, buffer);
    });
  }

  // --- Verdict ---------------------------------------------------------------
  // Transactions matched so far.
  [[nodiscard]] std::size_t consumed() const { return next_; }
  [[nodiscard]] bool all_consumed() const { return next_ == script_.size(); }
  [[nodiscard]] bool mismatched() const { return !mismatch_.empty(); }
  // Every transaction matched and none is left over.
  [[nodiscard]] bool finished() const { return all_consumed() && !mismatched(); }
  // The first mismatch, or which expected transaction never happened; empty
  // when finished().
  std::string_view problem();

 private:
  Status transact(I2cTransactionKind kind, I2cAddress address, ConstByteSpan written,
                  ByteSpan buffer);

  std::span<const I2cTransaction> script_;
  std::size_t next_ = 0;
  InlineString<320> mismatch_;
  InlineString<320> problem_;
};

static_assert(I2cBus<ScriptedI2c>);

}  // namespace mote::hal::sim
