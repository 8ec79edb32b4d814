#pragma once
// The host log backend writes "LEVEL module: message" lines to stderr. Tests
// and programs can redirect them.

#include "mote/base/log.hpp"

namespace mote::platform {

using LogSink = void (*)(log::Level level, const char* module, const char* message, void* context);

// Sends every log line to `sink` instead of stderr; nullptr restores stderr.
void set_log_sink(LogSink sink, void* context);

}  // namespace mote::platform
