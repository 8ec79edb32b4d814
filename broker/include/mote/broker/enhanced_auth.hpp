#pragma once
// MQTT 5 enhanced authentication (§4.12) on the broker: a mechanism per
// Authentication Method, and one exchange object per CONNECT or
// re-authentication. Connection drives it: the CONNECT's (or AUTH 0x19's)
// Authentication Data is the first step, each AUTH 0x18 from the client the
// next; `challenge` answers with AUTH 0x18, `success` with CONNACK (or AUTH
// 0x00) carrying `data`, `failure` with CONNACK 0x86 (DISCONNECT 0x87 when
// re-authenticating). A method no mechanism has: CONNACK 0x8C.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mote/base/bytes.hpp"

namespace mote::broker {

struct AuthStep {
  enum class Outcome : std::uint8_t { challenge, success, failure };
  Outcome outcome = Outcome::failure;
  std::vector<std::byte> data;  // Authentication Data for the answer (may be empty)
  std::string user;             // success: the identity proven (user name for ACLs)
};

class AuthExchange {
 public:
  virtual ~AuthExchange() = default;
  virtual AuthStep step(ConstByteSpan client_data) = 0;
};

class AuthMechanism {
 public:
  virtual ~AuthMechanism() = default;
  [[nodiscard]] virtual std::string_view method() const = 0;
  [[nodiscard]] virtual std::unique_ptr<AuthExchange> start() const = 0;
};

}  // namespace mote::broker
