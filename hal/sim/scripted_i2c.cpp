#include "mote/hal/sim/scripted_i2c.hpp"

#include <algorithm>

namespace mote::hal::sim {
namespace {

InlineVector<std::byte, I2cTransaction::kMaxBytes> copy_bytes(ConstByteSpan bytes) {
  MOTE_ASSERT(bytes.size() <= I2cTransaction::kMaxBytes && "script entry too long");
  InlineVector<std::byte, I2cTransaction::kMaxBytes> out;
  for (std::byte b : bytes) out.push_back(b);
  return out;
}

InlineVector<std::byte, I2cTransaction::kMaxBytes> copy_bytes(
    std::initializer_list<std::uint8_t> bytes) {
  MOTE_ASSERT(bytes.size() <= I2cTransaction::kMaxBytes && "script entry too long");
  InlineVector<std::byte, I2cTransaction::kMaxBytes> out;
  for (std::uint8_t b : bytes) out.push_back(static_cast<std::byte>(b));
  return out;
}

I2cTransaction make(I2cTransactionKind kind, I2cAddress address,
                    InlineVector<std::byte, I2cTransaction::kMaxBytes> written,
                    InlineVector<std::byte, I2cTransaction::kMaxBytes> returned, Status status) {
  I2cTransaction t;
  t.kind = kind;
  t.address = address;
  t.written = std::move(written);
  t.returned = std::move(returned);
  t.status = status;
  return t;
}

// Appends to a diagnostic text; what does not fit is dropped (a description
// cut short still names the transaction).
template <std::size_t N>
void put(InlineString<N>& out, std::string_view text) {
  out.append(text.substr(0, N - out.size())).ignore_error();
}

template <std::size_t N>
void put_hex(InlineString<N>& out, unsigned value) {
  constexpr char kDigits[] = "0123456789abcdef";
  const char text[] = {kDigits[(value >> 4) & 0xFu], kDigits[value & 0xFu]};
  put(out, std::string_view(text, 2));
}

template <std::size_t N>
void put_number(InlineString<N>& out, std::size_t value) {
  char text[20];
  std::size_t length = 0;
  do {
    text[length++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && length < sizeof(text));
  std::reverse(text, text + length);
  put(out, std::string_view(text, length));
}

template <std::size_t N>
void put_transaction(InlineString<N>& out, I2cTransactionKind kind, I2cAddress address,
                     ConstByteSpan written, std::size_t read_size) {
  switch (kind) {
    case I2cTransactionKind::write: put(out, "write(0x"); break;
    case I2cTransactionKind::read: put(out, "read(0x"); break;
    case I2cTransactionKind::write_read: put(out, "write_read(0x"); break;
  }
  put_hex(out, address);
  if (kind != I2cTransactionKind::read) {
    put(out, ", [");
    for (std::size_t i = 0; i < written.size(); ++i) {
      if (i != 0) put(out, " ");
      put_hex(out, std::to_integer<unsigned>(written[i]));
    }
    put(out, "]");
  }
  if (kind != I2cTransactionKind::write) {
    put(out, ", read ");
    put_number(out, read_size);
  }
  put(out, ")");
}

template <std::size_t N>
void put_expected(InlineString<N>& out, const I2cTransaction& t) {
  put_transaction(out, t.kind, t.address, {t.written.data(), t.written.size()}, t.returned.size());
}

bool same_bytes(ConstByteSpan a, ConstByteSpan b) { return std::ranges::equal(a, b); }

}  // namespace

I2cTransaction expect_write(I2cAddress address, ConstByteSpan written, Status status) {
  return make(I2cTransactionKind::write, address, copy_bytes(written), {}, status);
}
I2cTransaction expect_read(I2cAddress address, ConstByteSpan returned, Status status) {
  return make(I2cTransactionKind::read, address, {}, copy_bytes(returned), status);
}
I2cTransaction expect_write_read(I2cAddress address, ConstByteSpan written, ConstByteSpan returned,
                                 Status status) {
  return make(I2cTransactionKind::write_read, address, copy_bytes(written), copy_bytes(returned),
              status);
}
I2cTransaction expect_write(I2cAddress address, std::initializer_list<std::uint8_t> written,
                            Status status) {
  return make(I2cTransactionKind::write, address, copy_bytes(written), {}, status);
}
I2cTransaction expect_read(I2cAddress address, std::initializer_list<std::uint8_t> returned,
                           Status status) {
  return make(I2cTransactionKind::read, address, {}, copy_bytes(returned), status);
}
I2cTransaction expect_write_read(I2cAddress address, std::initializer_list<std::uint8_t> written,
                                 std::initializer_list<std::uint8_t> returned, Status status) {
  return make(I2cTransactionKind::write_read, address, copy_bytes(written), copy_bytes(returned),
              status);
}

Status ScriptedI2c::transact(I2cTransactionKind kind, I2cAddress address, ConstByteSpan written,
                             ByteSpan buffer) {
  if (mismatched()) return Status::internal();
  const std::size_t index = next_;
  auto fail = [&](std::string_view why) {
    put(mismatch_, "transaction ");
    put_number(mismatch_, index + 1);
    put(mismatch_, " of ");
    put_number(mismatch_, script_.size());
    put(mismatch_, ": ");
    put(mismatch_, why);
    put(mismatch_, ": got ");
    put_transaction(mismatch_, kind, address, written, buffer.size());
    if (index < script_.size()) {
      put(mismatch_, ", expected ");
      put_expected(mismatch_, script_[index]);
    }
    return Status::internal();
  };
  if (index >= script_.size()) return fail("the script has ended");
  const I2cTransaction& expected = script_[index];
  if (kind != expected.kind) return fail("wrong kind");
  if (address != expected.address) return fail("wrong address");
  if (kind != I2cTransactionKind::read &&
      !same_bytes(written, {expected.written.data(), expected.written.size()})) {
    return fail("wrong bytes written");
  }
  if (kind != I2cTransactionKind::write && buffer.size() != expected.returned.size()) {
    return fail("wrong read size");
  }
  ++next_;
  if (!expected.status.ok()) return expected.status;
  std::copy(expected.returned.begin(), expected.returned.end(), buffer.begin());
  return ok_status();
}

std::string_view ScriptedI2c::problem() {
  if (mismatched()) return mismatch_;
  if (all_consumed()) return {};
  problem_.clear();
  put(problem_, "transaction ");
  put_number(problem_, next_ + 1);
  put(problem_, " of ");
  put_number(problem_, script_.size());
  put(problem_, " never happened: expected ");
  put_expected(problem_, script_[next_]);
  return problem_;
}

}  // namespace mote::hal::sim
