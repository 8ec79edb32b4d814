// Fuzzes SHT3x measurement parsing: any bytes are refused unless they are six
// bytes whose two words carry their CRCs, and what is accepted lies in the
// sensor's range (-45..130 °C, 0..100 %RH).

#include <cstdint>
#include <cstdlib>

#include "mote/drivers/sht3x.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sht3x = mote::drivers::sht3x;
  const mote::ConstByteSpan bytes(reinterpret_cast<const std::byte*>(data), size);
  mote::Result<sht3x::Reading> reading = sht3x::parse_measurement(bytes);
  const bool well_formed = size == 6 && sht3x::crc8(bytes.first(2)) == data[2] &&
                           sht3x::crc8(bytes.subspan(3, 2)) == data[5];
  if (reading.ok() != well_formed) std::abort();
  if (!reading.ok()) return 0;
  if (reading->temperature.value < -45000 || reading->temperature.value > 130000 ||
      reading->humidity.value < 0 || reading->humidity.value > 100000) {
    std::abort();
  }
  return 0;
}
