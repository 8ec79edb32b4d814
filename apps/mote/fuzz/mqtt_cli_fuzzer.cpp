// Fuzzes the two text parsers of `mote pub` / `mote sub`: the -F output
// format and the -D property groups. First byte: which one.
//   -F: a format check_message_format() accepts formats any message without
//       a crash, and text without % or \ comes out unchanged.
//   -D: the rest is groups of 3-4 words (a word ends at '\0', a group at
//       '\n'); whatever PropertySets::build() accepts is a property block the
//       codec accepts for its packet.

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mqtt_cli.hpp"
#include "mqtt_message_format.hpp"

namespace {

using namespace mote;

void fuzz_format(std::string_view format) {
  std::string error;
  if (!cli::check_message_format(format, error)) {
    if (error.empty()) std::abort();
    return;
  }
  std::array<std::byte, 128> storage{};
  mqtt::PropertyBuilder builder(storage);
  builder.add_string(mqtt::PropertyId::content_type, "text/plain")
      .add_user_property("k", "v")
      .add_integer(mqtt::PropertyId::subscription_identifier, 7)
      .add_binary(mqtt::PropertyId::correlation_data, cli::bytes_of_text("c"));
  mqtt::Message message;
  message.topic = "a/b";
  message.payload = mqtt::BinaryData(cli::bytes_of_text(std::string_view("p\0q", 3)));
  message.qos = mqtt::QoS::at_least_once;
  message.packet_id = 9;
  message.properties = *builder.properties();
  std::string out;
  cli::format_message(format, message, {0, 0}, out);
  if (format.find_first_of("%\\") == std::string_view::npos && out != format) std::abort();
}

void fuzz_properties(std::string_view text) {
  std::vector<std::vector<std::string>> groups(1);
  std::string word;
  for (const char c : text) {
    if (c == '\0' || c == '\n') {
      groups.back().push_back(word);
      word.clear();
      if (c == '\n') groups.emplace_back();
    } else {
      word += c;
    }
  }
  groups.back().push_back(word);
  for (const auto& group : groups) {
    if (group.size() < 3 || group.size() > 4) return;  // the command line refuses these
  }
  cli::PropertySets sets;
  std::string error;
  if (!sets.build(groups,
                  {cli::PropertyPacket::connect, cli::PropertyPacket::publish,
                   cli::PropertyPacket::subscribe, cli::PropertyPacket::disconnect,
                   cli::PropertyPacket::will},
                  error)) {
    if (error.empty()) std::abort();
    return;
  }
  using C = mqtt::PropertyContext;
  const std::pair<cli::PropertyPacket, C> packets[] = {
      {cli::PropertyPacket::connect, C::connect},
      {cli::PropertyPacket::publish, C::publish},
      {cli::PropertyPacket::subscribe, C::subscribe},
      {cli::PropertyPacket::disconnect, C::disconnect},
      {cli::PropertyPacket::will, C::will}};
  for (const auto& [packet, context] : packets) {
    if (mqtt::check_properties(sets.of(packet).bytes(), context)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    fuzz_properties(rest);
  } else {
    fuzz_format(rest);
  }
  return 0;
}
