// Decodes arbitrary bytes as a stored message record; whatever decodes must
// encode back to the same bytes (the format has one encoding per message).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "mote/broker/message_record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const mote::Result<mote::broker::Message> message = mote::broker::decode_message_record(input);
  if (!message.ok()) return 0;
  const std::vector<std::uint8_t> again = mote::broker::encode_message_record(*message);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  return 0;
}
