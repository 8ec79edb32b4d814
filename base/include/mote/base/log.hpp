#pragma once
// The logging facade. printf-style messages below MOTE_LOG_LEVEL compile to
// nothing (their arguments are not evaluated); the rest go to the one backend
// the platform links in (`mote_log_write`), with a runtime threshold on top.
//
//   #define MOTE_LOG_MODULE "tcp"   // before including, optional
//   MOTE_LOG_INFO("listening on port %u", port);

#include <cstdarg>

namespace mote::log {

enum class Level : unsigned char { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

const char* to_string(Level level);

// Messages below this level are dropped at run time (default: info).
void set_runtime_level(Level level);
Level runtime_level();

void write(Level level, const char* module, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace mote::log

// The backend, provided by exactly one platform library (host: stderr;
// firmware: UART or semihosting; tests may capture). Called only for messages
// at or above the runtime level.
extern "C" void mote_log_write(mote::log::Level level, const char* module, const char* format,
                               va_list args);

#ifndef MOTE_LOG_LEVEL
#define MOTE_LOG_LEVEL 0  // debug and up are compiled in
#endif
#ifndef MOTE_LOG_MODULE
#define MOTE_LOG_MODULE "mote"
#endif

#define MOTE_LOG(level, ...)                                                    \
  do {                                                                          \
    if constexpr ((level) >= static_cast<::mote::log::Level>(MOTE_LOG_LEVEL)) { \
      ::mote::log::write(level, MOTE_LOG_MODULE, __VA_ARGS__);                  \
    }                                                                           \
  } while (0)

#define MOTE_LOG_DEBUG(...) MOTE_LOG(::mote::log::Level::debug, __VA_ARGS__)
#define MOTE_LOG_INFO(...) MOTE_LOG(::mote::log::Level::info, __VA_ARGS__)
#define MOTE_LOG_WARN(...) MOTE_LOG(::mote::log::Level::warn, __VA_ARGS__)
#define MOTE_LOG_ERROR(...) MOTE_LOG(::mote::log::Level::error, __VA_ARGS__)
