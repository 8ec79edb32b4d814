#pragma once
// check(ok, what): for firmware self-tests. Logs "check failed: <what>" when
// `ok` is false and returns `ok`, so checks can be chained with &=.

namespace mote::firmware {

bool check(bool ok, const char* what);

}  // namespace mote::firmware
