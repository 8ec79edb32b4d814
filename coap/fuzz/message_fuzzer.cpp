// Parses arbitrary bytes as a CoAP message. Whatever the bytes, parse()
// accepts or refuses without reading out of bounds (ASan) or undefined
// behaviour (UBSan); when it accepts, the options iterate to the end,
// encoding the view again gives the same bytes (the option encoding is
// canonical) and parsing those agrees field by field.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "mote/coap/block.hpp"
#include "mote/coap/message.hpp"

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "coap message fuzzer: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mote::coap;
  const mote::ConstByteSpan input = mote::bytes_of(std::span(data, size));
  mote::Result<Message> message = Message::parse(input);
  if (!message.ok()) return 0;
  std::size_t count = 0;
  std::uint32_t last = 0;
  for (const Option& option : message->options()) {
    check(option.number >= last, "options out of order");
    last = option.number;
    ++count;
    if (option.number == static_cast<std::uint16_t>(OptionNumber::block2)) {
      if (mote::Result<std::uint32_t> value = option.as_uint(); value.ok()) {
        if (mote::Result<Block> block = Block::from_value(*value); block.ok()) {
          check(block->value() == *value, "Block value does not round-trip");
        }
      }
    }
  }
  static_cast<void>(message->first_unrecognised_critical());
  char path[64];
  static_cast<void>(message->uri_path(path));

  std::vector<std::byte> out(size);
  mote::Result<std::size_t> written = encode_copy(*message, out);
  check(written.ok(), "encode failed");
  check(*written == size, "encoded size differs");
  check(std::equal(out.begin(), out.end(), input.begin()), "encoded bytes differ");
  mote::Result<Message> again = Message::parse(out);
  check(again.ok(), "encoded message does not parse");
  check(again->type() == message->type() && again->code() == message->code() &&
            again->message_id() == message->message_id() &&
            again->token().size() == message->token().size() &&
            again->payload().size() == message->payload().size(),
        "fields differ");
  std::size_t again_count = 0;
  for (const Option& option : again->options()) {
    static_cast<void>(option);
    ++again_count;
  }
  check(again_count == count, "option count differs");
  return 0;
}
