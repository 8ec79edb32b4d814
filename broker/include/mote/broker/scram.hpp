#pragma once
// SCRAM-SHA-1 (RFC 5802) as a broker AuthMechanism, method "SCRAM-SHA-1"
// (the client's side is mqtt::ScramSha1Authenticator). The broker never
// holds passwords: it stores, per user, the salt, iteration count,
// StoredKey and ServerKey, in RFC 5803's form, one `user:` line each:
//
//   alice:SCRAM-SHA-1$4096:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
//   # comments and blank lines
//
// (config line `scram_file PATH`; scram_sha1_line() writes such a line).
// An unknown user gets a made-up salt and fails at the proof, like a wrong
// password, so the exchange does not tell which user names exist. No
// channel binding: a client asking for it ("p=") fails.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mote/base/result.hpp"
#include "mote/base/sha1.hpp"
#include "mote/broker/enhanced_auth.hpp"

namespace mote::broker {

struct ScramCredential {
  std::uint32_t iterations = 0;
  std::vector<std::byte> salt;
  Sha1::Digest stored_key{};
  Sha1::Digest server_key{};
};

class ScramCredentials {
 public:
  // Errors: not_found (cannot read), invalid_argument (a malformed line; logged).
  static Result<ScramCredentials> load(const std::string& path);
  static Result<ScramCredentials> parse(std::string_view text, std::string_view name = "scram");

  [[nodiscard]] const ScramCredential* find(std::string_view user) const;
  [[nodiscard]] std::size_t size() const { return users_.size(); }

 private:
  std::unordered_map<std::string, ScramCredential> users_;
};

// One line of a SCRAM credentials file (no newline).
std::string scram_sha1_line(std::string_view user, std::string_view password, ConstByteSpan salt,
                            std::uint32_t iterations);

class ScramSha1Mechanism final : public AuthMechanism {
 public:
  explicit ScramSha1Mechanism(std::shared_ptr<const ScramCredentials> credentials);
  [[nodiscard]] std::string_view method() const override;
  [[nodiscard]] std::unique_ptr<AuthExchange> start() const override;

 private:
  std::shared_ptr<const ScramCredentials> credentials_;
  std::vector<std::byte> secret_;  // random: keys the made-up salts of unknown users
};

}  // namespace mote::broker
