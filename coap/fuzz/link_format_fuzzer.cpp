// Reads arbitrary text as a link-format document: every link and parameter
// lookup stays inside the input, and the reader always ends.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mote/coap/link_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mote::coap::LinkFormatReader reader(std::string_view(reinterpret_cast<const char*>(data), size));
  for (std::size_t i = 0; i <= size; ++i) {
    mote::Result<std::optional<mote::coap::Link>> link = reader.next();
    if (!link.ok() || !link->has_value()) break;
    for (std::string_view name : {"rt", "if", "ct", "obs", "title"}) {
      static_cast<void>((*link)->parameter(name));
    }
  }
  return 0;
}
