// Feeds arbitrary bytes to a broker connection as a client's stream would
// (framed with the codec's frame_packet), with a second, well-behaved
// client subscribed to everything: no crash, no leak, and the output the
// broker produces always decodes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "mote/broker/connection.hpp"
#include "mote/broker/scram.hpp"

namespace {

using mote::broker::AccessPolicy;
using mote::broker::Connection;
using mote::broker::Core;
using mote::broker::Limits;

void check_output(Connection& connection, mote::mqtt::ProtocolVersion version) {
  std::vector<std::byte> out;
  connection.take_output(out, 1 << 20);
  mote::ConstByteSpan rest(out);
  while (!rest.empty()) {
    const auto frame = mote::mqtt::frame_packet(rest);
    if (!frame.ok() || frame->size == 0) std::abort();
    if (!mote::mqtt::decode_packet(rest.first(frame->size), version).ok()) std::abort();
    rest = rest.subspan(frame->size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Core core({});
  Limits limits;
  limits.max_packet_size = 4096;
  // Enhanced authentication: SCRAM-SHA-1 for alice (password "wonderland").
  static const auto scram = std::make_shared<mote::broker::ScramSha1Mechanism>(
      std::make_shared<const mote::broker::ScramCredentials>(
          mote::broker::ScramCredentials::parse(
              "alice:SCRAM-SHA-1$4096:AQIDBAUGBwgJCgsMDQ4PEA==$WhDJkzK6M3mlySHdmiBk3noXUKk=:"
              "XOS58i1/YaUJIoQZbn4VmNQqTZY=")
              .value()));
  AccessPolicy access;
  access.auth_mechanisms.push_back(scram);
  Connection watcher(core, limits, access);
  {
    // CONNECT (MQTT 5, client id "w"), SUBSCRIBE "#" at QoS 2.
    const std::uint8_t connect[] = {0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0, 0, 1, 'w'};
    const std::uint8_t subscribe[] = {0x82, 7, 0, 1, 0, 0, 1, '#', 2};
    watcher.on_packet(mote::bytes_of(std::span<const std::uint8_t>(connect)));
    watcher.on_packet(mote::bytes_of(std::span<const std::uint8_t>(subscribe)));
  }
  Connection connection(core, limits, access);
  mote::ConstByteSpan rest = mote::bytes_of(std::span<const std::uint8_t>(data, size));
  while (!rest.empty()) {
    const auto frame = mote::mqtt::frame_packet(rest, limits.max_packet_size);
    if (!frame.ok()) {
      connection.on_frame_error(frame.error());
      break;
    }
    if (frame->size == 0) break;
    const bool more = connection.on_packet(rest.first(frame->size));
    rest = rest.subspan(frame->size);
    if (!more) break;
  }
  check_output(connection, connection.version());
  check_output(watcher, mote::mqtt::ProtocolVersion::v5);
  connection.finish();
  return 0;
}
