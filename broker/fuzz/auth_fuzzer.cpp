// Parses arbitrary text as a password file, an ACL file, a SCRAM credentials
// file and a broker config:
// no crash, no hang, and an ACL that parses answers queries.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mote/broker/auth.hpp"
#include "mote/broker/config.hpp"
#include "mote/broker/scram.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)mote::broker::PasswordFile::parse(text);
  const auto scram = mote::broker::ScramCredentials::parse(text);
  if (scram.ok()) (void)scram->find("alice");
  mote::broker::BrokerConfig config;
  (void)mote::broker::parse_config(text, config);
  const auto acl = mote::broker::AclFile::parse(text);
  if (acl.ok()) {
    (void)acl->allows("client", "user", "a/b/c", mote::broker::Access::read);
    (void)acl->allows("client", "", "$SYS/x", mote::broker::Access::write);
  }
  (void)mote::broker::decode_base64(text);
  return 0;
}
