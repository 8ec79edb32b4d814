#include "mote/firmware/check.hpp"

#define MOTE_LOG_MODULE "check"
#include "mote/base/log.hpp"

namespace mote::firmware {

bool check(bool ok, const char* what) {
  if (!ok) MOTE_LOG_ERROR("check failed: %s", what);
  return ok;
}

}  // namespace mote::firmware
