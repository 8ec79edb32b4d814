#include "mote/broker/scram.hpp"

#include <algorithm>
#include <openssl/rand.h>

#include "mote/base/base64.hpp"
#include "mote/base/hmac_sha1.hpp"
#include "mote/base/log.hpp"
#include "mote/broker/config.hpp"
#include "mote/mqtt/scram.hpp"

namespace mote::broker {
namespace {

constexpr std::string_view kScheme = "SCRAM-SHA-1$";
constexpr std::size_t kNonceBytes = 18;
constexpr std::uint32_t kMadeUpIterations = 4096;

std::string base64(ConstByteSpan data) {
  std::string text(base64_encoded_size(data.size()), '\0');
  static_cast<void>(base64_encode(data, text));
  return text;
}

std::optional<std::vector<std::byte>> unbase64(std::string_view text) {
  std::vector<std::byte> out(base64_max_decoded_size(text.size()));
  const Result<std::size_t> size = base64_decode(text, out);
  if (!size.ok()) return std::nullopt;
  out.resize(*size);
  return out;
}

template <std::size_t N>
bool unbase64_exact(std::string_view text, std::array<std::byte, N>& out) {
  const std::optional<std::vector<std::byte>> bytes = unbase64(text);
  if (!bytes || bytes->size() != N) return false;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return true;
}

// RFC 5802 §5.1 saslname: "=2C" is ',', "=3D" is '='; any other '=' is malformed.
std::optional<std::string> decode_name(std::string_view text) {
  std::string name;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      name += text[i];
      continue;
    }
    const std::string_view escape = text.substr(i, 3);
    if (escape == "=2C") {
      name += ',';
    } else if (escape == "=3D") {
      name += '=';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return name;
}

AuthStep fail() { return {AuthStep::Outcome::failure, {}, {}}; }

std::vector<std::byte> bytes_vector(std::string_view text) {
  const ConstByteSpan bytes = bytes_of(text);
  return {bytes.begin(), bytes.end()};
}

class ScramSha1Exchange final : public AuthExchange {
 public:
  ScramSha1Exchange(std::shared_ptr<const ScramCredentials> credentials,
                    std::vector<std::byte> secret)
      : credentials_(std::move(credentials)), secret_(std::move(secret)) {}

  AuthStep step(ConstByteSpan data) override {
    const std::string_view message = as_string_view(data);
    switch (stage_) {
      case Stage::first: return on_client_first(message);
      case Stage::final: return on_client_final(message);
      case Stage::done: return fail();
    }
    return fail();
  }

 private:
  enum class Stage : std::uint8_t { first, final, done };

  AuthStep on_client_first(std::string_view message) {
    stage_ = Stage::done;
    // gs2-header: "n," or "y," (no channel binding), no authzid.
    if (!(message.starts_with("n,,") || message.starts_with("y,,"))) return fail();
    gs2_header_ = std::string(message.substr(0, 3));
    client_first_bare_ = std::string(message.substr(3));
    if (client_first_bare_.starts_with("m=")) return fail();
    const auto name = mqtt::scram_attribute(client_first_bare_, 'n');
    const auto nonce = mqtt::scram_attribute(client_first_bare_, 'r');
    if (!name || !nonce || nonce->empty() || !client_first_bare_.starts_with("n=")) return fail();
    const std::optional<std::string> user = decode_name(*name);
    if (!user || user->empty()) return fail();
    user_ = *user;
    if (const ScramCredential* credential = credentials_->find(user_)) {
      credential_ = *credential;
      known_ = true;
    } else {
      // A salt that looks real and stays the same for this name.
      const Sha1::Digest salt = HmacSha1::of(secret_, bytes_of(user_));
      credential_.salt.assign(salt.begin(), salt.begin() + 16);
      credential_.iterations = kMadeUpIterations;
    }
    std::array<std::byte, kNonceBytes> server_nonce{};
    if (RAND_bytes(reinterpret_cast<unsigned char*>(server_nonce.data()),
                   static_cast<int>(server_nonce.size())) != 1) {
      return fail();
    }
    nonce_ = std::string(*nonce) + base64(server_nonce);
    server_first_ = "r=" + nonce_ + ",s=" + base64(credential_.salt) +
                    ",i=" + std::to_string(credential_.iterations);
    stage_ = Stage::final;
    return {AuthStep::Outcome::challenge, bytes_vector(server_first_), {}};
  }

  AuthStep on_client_final(std::string_view message) {
    stage_ = Stage::done;
    const std::size_t proof_at = message.rfind(",p=");
    if (proof_at == std::string_view::npos) return fail();
    const std::string_view without_proof = message.substr(0, proof_at);
    const auto binding = mqtt::scram_attribute(without_proof, 'c');
    const auto nonce = mqtt::scram_attribute(without_proof, 'r');
    Sha1::Digest proof{};
    if (!binding || !nonce || *binding != base64(bytes_of(gs2_header_)) || *nonce != nonce_ ||
        !unbase64_exact(message.substr(proof_at + 3), proof)) {
      return fail();
    }
    const std::string auth_message =
        client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
    // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must be StoredKey.
    const Sha1::Digest signature = HmacSha1::of(credential_.stored_key, bytes_of(auth_message));
    Sha1::Digest client_key{};
    for (std::size_t i = 0; i < client_key.size(); ++i) client_key[i] = proof[i] ^ signature[i];
    const Sha1::Digest stored = Sha1::of(client_key);
    std::byte difference{0};
    for (std::size_t i = 0; i < stored.size(); ++i) {
      difference |= stored[i] ^ credential_.stored_key[i];
    }
    if (!known_ || difference != std::byte{0}) return fail();
    const Sha1::Digest server_signature =
        HmacSha1::of(credential_.server_key, bytes_of(auth_message));
    return {AuthStep::Outcome::success, bytes_vector("v=" + base64(server_signature)), user_};
  }

  std::shared_ptr<const ScramCredentials> credentials_;
  std::vector<std::byte> secret_;
  Stage stage_ = Stage::first;
  bool known_ = false;
  ScramCredential credential_;
  std::string user_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
};

Status bad(std::string_view name, std::size_t line, const char* why) {
  MOTE_LOG_ERROR("broker: %.*s line %zu: %s", static_cast<int>(name.size()), name.data(), line,
                 why);
  return Status::invalid_argument();
}

}  // namespace

Result<ScramCredentials> ScramCredentials::load(const std::string& path) {
  MOTE_TRY_ASSIGN(const std::string text, read_text_file(path));
  return parse(text, path);
}

Result<ScramCredentials> ScramCredentials::parse(std::string_view text, std::string_view name) {
  ScramCredentials credentials;
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    // user:SCRAM-SHA-1$iterations:salt$StoredKey:ServerKey
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return bad(name, number, "want user:...");
    const std::string_view user = line.substr(0, colon);
    std::string_view rest = line.substr(colon + 1);
    if (!rest.starts_with(kScheme)) return bad(name, number, "want SCRAM-SHA-1$");
    rest.remove_prefix(kScheme.size());
    const std::size_t dollar = rest.find('$');
    if (dollar == std::string_view::npos) return bad(name, number, "want iterations:salt$keys");
    const std::string_view counts = rest.substr(0, dollar);
    const std::string_view keys = rest.substr(dollar + 1);
    const std::size_t counts_colon = counts.find(':');
    const std::size_t keys_colon = keys.find(':');
    if (counts_colon == std::string_view::npos || keys_colon == std::string_view::npos) {
      return bad(name, number, "want iterations:salt$StoredKey:ServerKey");
    }
    ScramCredential credential;
    const std::string_view iterations = counts.substr(0, counts_colon);
    std::uint64_t value = 0;
    for (char c : iterations) {
      if (c < '0' || c > '9' || value > 0xffffffffu) return bad(name, number, "bad iterations");
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (iterations.empty() || value == 0 || value > 0xffffffffu) {
      return bad(name, number, "bad iterations");
    }
    credential.iterations = static_cast<std::uint32_t>(value);
    const std::optional<std::vector<std::byte>> salt = unbase64(counts.substr(counts_colon + 1));
    if (!salt || salt->empty() || salt->size() > 32) return bad(name, number, "bad salt");
    credential.salt = *salt;
    if (!unbase64_exact(keys.substr(0, keys_colon), credential.stored_key) ||
        !unbase64_exact(keys.substr(keys_colon + 1), credential.server_key)) {
      return bad(name, number, "bad StoredKey or ServerKey (base64 of 20 bytes)");
    }
    credentials.users_[std::string(user)] = std::move(credential);
  }
  return credentials;
}

const ScramCredential* ScramCredentials::find(std::string_view user) const {
  const auto it = users_.find(std::string(user));
  return it == users_.end() ? nullptr : &it->second;
}

std::string scram_sha1_line(std::string_view user, std::string_view password, ConstByteSpan salt,
                            std::uint32_t iterations) {
  Sha1::Digest salted{};
  pbkdf2_hmac_sha1(bytes_of(password), salt, iterations, salted);
  const mqtt::ScramKeys keys = mqtt::scram_sha1_keys(salted);
  return std::string(user) + ":" + std::string(kScheme) + std::to_string(iterations) + ":" +
         base64(salt) + "$" + base64(keys.stored_key) + ":" + base64(keys.server_key);
}

ScramSha1Mechanism::ScramSha1Mechanism(std::shared_ptr<const ScramCredentials> credentials)
    : credentials_(std::move(credentials)), secret_(32) {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret_.data()),
                 static_cast<int>(secret_.size())) != 1) {
    MOTE_LOG_WARN("broker: no random bytes for SCRAM's made-up salts");
  }
}

std::string_view ScramSha1Mechanism::method() const { return mqtt::kScramSha1; }

std::unique_ptr<AuthExchange> ScramSha1Mechanism::start() const {
  return std::make_unique<ScramSha1Exchange>(credentials_, secret_);
}

}  // namespace mote::broker
