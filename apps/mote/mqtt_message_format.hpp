#pragma once
// How `mote sub` prints a message: the payload (mosquitto_sub's default),
// "topic payload" (-v), or a -F format with mosquitto_sub's % fields and
// backslash escapes (docs/cli.md has the table).

#include <ctime>
#include <string>
#include <string_view>

#include "mote/mqtt/client.hpp"

namespace mote::cli {

// Checks a -F format; on a bad one says why in `error`.
bool check_message_format(std::string_view format, std::string& error);

// When the message arrived, for %I and %U.
struct ArrivalTime {
  std::time_t seconds = 0;
  long nanoseconds = 0;
};

// Appends `message` as a checked -F `format` prints it (no end of line).
void format_message(std::string_view format, const mqtt::Message& message, ArrivalTime time,
                    std::string& out);

// Appends `message` as mosquitto_sub prints it without -F: the payload;
// with `verbose` "topic payload", or "topic (null)" for an empty payload.
// Returns false when nothing is printed at all (an empty payload, not
// verbose), so no end of line follows either.
bool format_message_plain(const mqtt::Message& message, bool verbose, std::string& out);

}  // namespace mote::cli
