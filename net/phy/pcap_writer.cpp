#include "mote/net/phy/pcap_writer.hpp"

namespace mote::net {

std::array<std::byte, PcapFormat::kFileHeaderLen> PcapFormat::file_header(Medium medium) {
  // Little-endian fields; readers tell the byte order from the magic.
  std::array<std::byte, kFileHeaderLen> header{};
  store_le32(&header[0], 0xa1b2c3d4u);  // magic: microsecond timestamps
  store_le16(&header[4], 2);            // version 2.4
  store_le16(&header[6], 4);
  store_le32(&header[8], 0);       // thiszone: UTC
  store_le32(&header[12], 0);      // sigfigs
  store_le32(&header[16], 65535);  // snaplen
  store_le32(&header[20], medium == Medium::ethernet ? kLinkTypeEthernet : kLinkTypeRaw);
  return header;
}

std::array<std::byte, PcapFormat::kRecordHeaderLen> PcapFormat::record_header(Instant at,
                                                                              std::size_t len) {
  const auto micros = static_cast<std::uint64_t>(at.time_since_epoch().count());
  std::array<std::byte, kRecordHeaderLen> header{};
  store_le32(&header[0], static_cast<std::uint32_t>(micros / 1000000u));
  store_le32(&header[4], static_cast<std::uint32_t>(micros % 1000000u));
  store_le32(&header[8], static_cast<std::uint32_t>(len));   // captured
  store_le32(&header[12], static_cast<std::uint32_t>(len));  // on the wire
  return header;
}

}  // namespace mote::net
