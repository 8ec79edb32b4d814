#pragma once
// Authentication and authorisation files in mosquitto's formats, so an
// existing mosquitto setup works unchanged.
//
// Password file (mosquitto_passwd), one `user:hash` a line:
//   alice:$7$101$<base64 salt>$<base64 PBKDF2-HMAC-SHA512, 64 bytes>
//   bob:$6$<base64 salt>$<base64 SHA-512(password || salt)>   (older files)
// Hashes are computed with OpenSSL and compared in constant time.
//
// ACL file (mosquitto's acl_file):
//   # comment
//   topic [read|write|readwrite|deny] <filter>    before any `user` line:
//                                                 clients without a user name
//   user <name>                                   the following `topic` lines are this user's
//   pattern [read|write|readwrite|deny] <filter>  every client; %c is its client
//                                                 id, %u its user name
// The access word defaults to readwrite. With an ACL file, what no rule
// grants is denied, and a matching deny rule wins over any grant.
// "read" is checked for each message delivered, "write" for each PUBLISH.
//
// Malformed lines are errors naming the file and line (invalid_argument):
// a broker must not start with rules it half understood.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mote/base/result.hpp"

namespace mote::broker {

class PasswordFile {
 public:
  // Errors: not_found / permission_denied (cannot read), invalid_argument
  // (a line that is not `user:hash` with a hash format above; logged).
  static Result<PasswordFile> load(const std::string& path);
  static Result<PasswordFile> parse(std::string_view text, std::string_view name = "passwords");

  [[nodiscard]] bool check(std::string_view user, std::span<const std::uint8_t> password) const;
  [[nodiscard]] std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string user;
    bool pbkdf2 = false;  // $7$; else $6$
    std::uint32_t iterations = 0;
    std::vector<std::uint8_t> salt;
    std::vector<std::uint8_t> hash;
  };
  std::vector<Entry> entries_;
};

enum class Access : std::uint8_t { read = 1, write = 2 };

class AclFile {
 public:
  static Result<AclFile> load(const std::string& path);
  static Result<AclFile> parse(std::string_view text, std::string_view name = "acl");

  // `user` empty: an anonymous client.
  [[nodiscard]] bool allows(std::string_view client_id, std::string_view user,
                            std::string_view topic, Access access) const;
  [[nodiscard]] std::size_t size() const { return rules_.size(); }

 private:
  enum class Kind : std::uint8_t { anonymous, user, pattern };
  struct Rule {
    Kind kind = Kind::anonymous;
    std::string user;         // Kind::user
    std::string filter;       // with %c / %u for patterns
    std::uint8_t access = 3;  // bits of Access; 0: deny
  };
  std::vector<Rule> rules_;
};

// Standard base64 (RFC 4648 §4, with padding); nullopt for anything else.
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text);

}  // namespace mote::broker
