#pragma once
// SCRAM-SHA-1 (RFC 5802) for MQTT 5 enhanced authentication, method name
// "SCRAM-SHA-1", without channel binding (GS2 header "n,,"). Each client
// and server message is one AUTH / CONNECT / CONNACK's Authentication Data:
//
//   CONNECT   client-first   n,,n=user,r=client-nonce
//   AUTH 0x18 server-first   r=client-nonce+server-nonce,s=salt,i=iterations
//   AUTH 0x18 client-final   c=biws,r=nonce,p=ClientProof
//   CONNACK   server-final   v=ServerSignature   (AUTH 0x00 when re-authenticating)
//
// Freestanding, no heap: ScramSha1Authenticator keeps its messages in
// fixed arrays (about 560 bytes) and caches the salted password, so a
// reconnect to the same server does not repeat PBKDF2.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/hmac_sha1.hpp"
#include "mote/base/inline_string.hpp"
#include "mote/base/result.hpp"
#include "mote/mqtt/authenticator.hpp"

namespace mote::mqtt {

inline constexpr std::string_view kScramSha1 = "SCRAM-SHA-1";

// The keys of RFC 5802 §3 derived from SaltedPassword = Hi(password, salt, i).
struct ScramKeys {
  Sha1::Digest client_key;
  Sha1::Digest stored_key;  // H(ClientKey): what a server stores
  Sha1::Digest server_key;
};
ScramKeys scram_sha1_keys(const Sha1::Digest& salted_password);

// The value of attribute `name` (one letter) in a SCRAM message
// "a=...,b=...", or nullopt.
std::optional<std::string_view> scram_attribute(std::string_view message, char name);

// Writes `name` as a SCRAM saslname (RFC 5802 §5.1: '=' → "=3D", ',' → "=2C").
Status append_scram_name(std::string_view name, char* out, std::size_t capacity, std::size_t& size);

class ScramSha1Authenticator final : public Authenticator {
 public:
  // Fills `out` with random bytes (a hardware RNG on a device); called once
  // per exchange for the client nonce.
  using RandomSource = void (*)(ByteSpan out, void* context);

  // `user` (at most 32 bytes once escaped) and `password` must outlive the
  // authenticator.
  ScramSha1Authenticator(std::string_view user, std::string_view password, RandomSource random,
                         void* random_context = nullptr)
      : user_(user), password_(password), random_(random), random_context_(random_context) {}

  [[nodiscard]] std::string_view method() const override { return kScramSha1; }
  Result<ConstByteSpan> start() override;
  Result<ConstByteSpan> challenge(BinaryData server_data) override;
  Status finish(BinaryData server_data) override;

 private:
  static constexpr std::size_t kNonceBytes = 18;  // 24 base64 characters

  enum class Stage : std::uint8_t { idle, sent_first, sent_final };

  std::string_view user_;
  std::string_view password_;
  RandomSource random_;
  void* random_context_;
  Stage stage_ = Stage::idle;
  InlineString<112> client_first_;  // "n,," + client-first-message-bare
  InlineString<192> server_first_;
  InlineString<192> client_final_;
  Sha1::Digest server_signature_{};
  // The salted password of the last salt and count seen.
  std::array<std::byte, 32> cached_salt_{};
  std::size_t cached_salt_size_ = 0;
  std::uint32_t cached_iterations_ = 0;
  Sha1::Digest salted_password_{};
};

}  // namespace mote::mqtt
