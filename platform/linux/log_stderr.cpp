#include <cstdio>

#include "mote/base/log.hpp"
#include "mote/platform/log_sink.hpp"

namespace {
mote::platform::LogSink g_sink = nullptr;
void* g_sink_context = nullptr;
}  // namespace

namespace mote::platform {
void set_log_sink(LogSink sink, void* context) {
  g_sink = sink;
  g_sink_context = context;
}
}  // namespace mote::platform

extern "C" void mote_log_write(mote::log::Level level, const char* module, const char* format,
                               va_list args) {
  char message[512];
  std::vsnprintf(message, sizeof message, format, args);
  if (g_sink != nullptr) {
    g_sink(level, module, message, g_sink_context);
    return;
  }
  std::fprintf(stderr, "%-5s %s: %s\n", mote::log::to_string(level), module, message);
}
