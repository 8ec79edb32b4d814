#include "mote/base/log.hpp"

namespace mote::log {
namespace {
Level g_runtime_level = Level::info;
}  // namespace

const char* to_string(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
    case Level::off: return "off";
  }
  return "?";
}

void set_runtime_level(Level level) { g_runtime_level = level; }
Level runtime_level() { return g_runtime_level; }

void write(Level level, const char* module, const char* format, ...) {
  if (level < g_runtime_level) return;
  va_list args;
  va_start(args, format);
  mote_log_write(level, module, format, args);
  va_end(args);
}

}  // namespace mote::log
