// Fuzzes the decoding of GPIO line events (what read() on a line fd hands
// back): any bytes are either refused with data_loss or decode to exactly the
// fields the kernel's struct holds, and only 48-byte rising/falling events
// decode.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <linux/gpio.h>

#include "mote/platform/gpio_chip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mote::ConstByteSpan bytes(reinterpret_cast<const std::byte*>(data), size);
  mote::Result<mote::platform::GpioLineEvent> event = mote::platform::decode_gpio_line_event(bytes);
  gpio_v2_line_event raw{};
  const bool well_formed =
      size == sizeof raw && (std::memcpy(&raw, data, sizeof raw), true) &&
      (raw.id == GPIO_V2_LINE_EVENT_RISING_EDGE || raw.id == GPIO_V2_LINE_EVENT_FALLING_EDGE);
  if (event.ok() != well_formed) std::abort();
  if (!event.ok()) {
    if (event.status() != mote::Status::data_loss()) std::abort();
    return 0;
  }
  if (event->timestamp_ns != raw.timestamp_ns || event->offset != raw.offset ||
      event->seqno != raw.seqno || event->line_seqno != raw.line_seqno ||
      event->rising != (raw.id == GPIO_V2_LINE_EVENT_RISING_EDGE)) {
    std::abort();
  }
  return 0;
}
