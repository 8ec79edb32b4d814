#pragma once
// The client's side of MQTT 5 enhanced authentication (§4.12): a method
// name and the steps of its challenge / response exchange. The Client
// drives it: start() for CONNECT (or a re-authentication AUTH, §4.12.1),
// challenge() for each AUTH Continue Authentication (0x18) from the server,
// finish() with the Authentication Data of the accepting CONNACK or AUTH
// Success (SCRAM: the server's signature, so the client knows the server
// holds its credentials).
//
// The returned data views stay valid until the next call. Called on the
// task running Client::run() (start() of a re-authentication on the caller
// of reauthenticate()); never two calls at once.

#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/mqtt/types.hpp"

namespace mote::mqtt {

class Authenticator {
 public:
  // The Authentication Method, e.g. "SCRAM-SHA-1".
  [[nodiscard]] virtual std::string_view method() const = 0;
  // A new exchange: the Authentication Data for CONNECT / AUTH 0x19 (empty: none).
  virtual Result<ConstByteSpan> start() = 0;
  // The server's data from AUTH 0x18; the client's answer. An error ends
  // the exchange (the client disconnects).
  virtual Result<ConstByteSpan> challenge(BinaryData server_data) = 0;
  // The server accepted; `server_data` is its final Authentication Data.
  // An error (the server could not prove itself) ends the connection.
  virtual Status finish(BinaryData server_data) = 0;

 protected:
  Authenticator() = default;
  Authenticator(const Authenticator&) = default;
  Authenticator& operator=(const Authenticator&) = default;
  ~Authenticator() = default;
};

}  // namespace mote::mqtt
