#pragma once
// PcapWriter: wraps a device and records every frame it receives and
// transmits in the classic pcap format (the libpcap file format, version
// 2.4, microsecond timestamps), so any run opens in Wireshark or tcpdump.
// Timestamps are the interface's `now`. The bytes go to a sink: anything
// with `write(ConstByteSpan)` — PcapFile on the host (net/linux), a UART or
// a RAM buffer on a board.
//
//   PcapFile file = *PcapFile::create("run.pcap");
//   PcapWriter capture(tap, file);             // then run the stack on `capture`

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "mote/base/bytes.hpp"
#include "mote/net/phy/device.hpp"

namespace mote::net {

template <typename T>
concept PcapSink = requires(T& sink, ConstByteSpan bytes) {
  { sink.write(bytes) } -> std::same_as<void>;
};

// The file header and record headers.
class PcapFormat {
 public:
  static constexpr std::size_t kFileHeaderLen = 24;
  static constexpr std::size_t kRecordHeaderLen = 16;
  // LINKTYPE_ETHERNET and LINKTYPE_RAW (bare IPv4/IPv6) from the tcpdump.org list.
  static constexpr std::uint32_t kLinkTypeEthernet = 1;
  static constexpr std::uint32_t kLinkTypeRaw = 101;

  static std::array<std::byte, kFileHeaderLen> file_header(Medium medium);
  static std::array<std::byte, kRecordHeaderLen> record_header(Instant at, std::size_t len);
};

template <Device Inner, PcapSink Sink>
class PcapWriter {
 public:
  // Writes the file header at once.
  PcapWriter(Inner& inner, Sink& sink) : inner_(inner), sink_(sink) {
    sink_.write(PcapFormat::file_header(inner.capabilities().medium));
  }

  [[nodiscard]] DeviceCapabilities capabilities() const { return inner_.capabilities(); }
  [[nodiscard]] bool can_transmit() const { return inner_.can_transmit(); }

  Result<std::size_t> receive(Instant now, ByteSpan buffer) {
    Result<std::size_t> received = inner_.receive(now, buffer);
    if (received.ok()) record(now, ConstByteSpan(buffer).first(*received));
    return received;
  }
  Status transmit(Instant now, ConstByteSpan frame) {
    record(now, frame);
    return inner_.transmit(now, frame);
  }
  [[nodiscard]] Instant poll_at() const requires TimedDevice<Inner> { return inner_.poll_at(); }
  auto wait_receive() requires AsyncDevice<Inner> { return inner_.wait_receive(); }

  [[nodiscard]] Inner& inner() { return inner_; }

 private:
  void record(Instant at, ConstByteSpan frame) {
    sink_.write(PcapFormat::record_header(at, frame.size()));
    sink_.write(frame);
  }

  Inner& inner_;
  Sink& sink_;
};

}  // namespace mote::net
