#include "mote/mqtt/scram.hpp"

#include <algorithm>

#include "mote/base/base64.hpp"

namespace mote::mqtt {
namespace {

constexpr std::string_view kGs2Header = "n,,";
constexpr std::string_view kChannelBinding = "biws";  // base64("n,,")
// Beyond this the server is asking a small device for minutes of work.
constexpr std::uint32_t kMaxIterations = 1'000'000;

bool equal_in_constant_time(ConstByteSpan a, ConstByteSpan b) {
  if (a.size() != b.size()) return false;
  std::byte difference{0};
  for (std::size_t i = 0; i < a.size(); ++i) difference |= a[i] ^ b[i];
  return difference == std::byte{0};
}

std::optional<std::uint32_t> parse_count(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value == 0 || value > 0xffffffffu) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

}  // namespace

ScramKeys scram_sha1_keys(const Sha1::Digest& salted_password) {
  ScramKeys keys;
  keys.client_key = HmacSha1::of(salted_password, bytes_of("Client Key"));
  keys.stored_key = Sha1::of(keys.client_key);
  keys.server_key = HmacSha1::of(salted_password, bytes_of("Server Key"));
  return keys;
}

std::optional<std::string_view> scram_attribute(std::string_view message, char name) {
  while (!message.empty()) {
    const std::size_t comma = message.find(',');
    const std::string_view field = message.substr(0, comma);
    if (field.size() >= 2 && field[0] == name && field[1] == '=') return field.substr(2);
    if (comma == std::string_view::npos) break;
    message.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

Status append_scram_name(std::string_view name, char* out, std::size_t capacity,
                         std::size_t& size) {
  for (char c : name) {
    const std::string_view piece = c == '=' ? "=3D" : c == ',' ? "=2C" : std::string_view(&c, 1);
    if (piece.size() > capacity - size) return Status::resource_exhausted();
    for (char p : piece) out[size++] = p;
  }
  return ok_status();
}

Result<ConstByteSpan> ScramSha1Authenticator::start() {
  stage_ = Stage::idle;
  std::array<std::byte, kNonceBytes> nonce{};
  random_(nonce, random_context_);
  std::array<char, base64_encoded_size(kNonceBytes)> nonce_text{};
  MOTE_TRY(base64_encode(nonce, nonce_text));
  std::array<char, 48> name{};
  std::size_t name_size = 0;
  MOTE_TRY(append_scram_name(user_, name.data(), name.size(), name_size));
  client_first_.clear();
  MOTE_TRY(client_first_.append(kGs2Header));
  MOTE_TRY(client_first_.append("n="));
  MOTE_TRY(client_first_.append(std::string_view(name.data(), name_size)));
  MOTE_TRY(client_first_.append(",r="));
  MOTE_TRY(client_first_.append(std::string_view(nonce_text.data(), nonce_text.size())));
  stage_ = Stage::sent_first;
  return bytes_of(client_first_.view());
}

Result<ConstByteSpan> ScramSha1Authenticator::challenge(BinaryData server_data) {
  if (stage_ != Stage::sent_first) return Status::failed_precondition();
  stage_ = Stage::idle;
  const std::string_view server_first = as_string_view(server_data);
  MOTE_TRY(server_first_.assign(server_first));
  // RFC 5802 §5.1: a mandatory extension ("m=") we do not know ends it.
  if (server_first.starts_with("m=")) return Status::unimplemented();
  const std::string_view client_bare = client_first_.view().substr(kGs2Header.size());
  const std::optional<std::string_view> nonce = scram_attribute(server_first, 'r');
  const std::optional<std::string_view> salt_text = scram_attribute(server_first, 's');
  const std::optional<std::string_view> count_text = scram_attribute(server_first, 'i');
  const std::optional<std::string_view> client_nonce = scram_attribute(client_bare, 'r');
  if (!nonce || !salt_text || !count_text || !client_nonce) return Status::invalid_argument();
  // The server's nonce extends ours (§5.1, "r").
  if (nonce->size() <= client_nonce->size() || !nonce->starts_with(*client_nonce)) {
    return Status::invalid_argument();
  }
  const std::optional<std::uint32_t> iterations = parse_count(*count_text);
  if (!iterations || *iterations > kMaxIterations) return Status::invalid_argument();
  std::array<std::byte, 32> salt{};
  MOTE_TRY_ASSIGN(const std::size_t salt_size, base64_decode(*salt_text, salt));
  const ConstByteSpan salt_bytes = ConstByteSpan(salt).first(salt_size);
  if (salt_size == 0) return Status::invalid_argument();

  const bool cached = *iterations == cached_iterations_ && salt_size == cached_salt_size_ &&
                      std::equal(salt_bytes.begin(), salt_bytes.end(), cached_salt_.begin());
  if (!cached) {
    pbkdf2_hmac_sha1(bytes_of(password_), salt_bytes, *iterations, salted_password_);
    std::copy(salt_bytes.begin(), salt_bytes.end(), cached_salt_.begin());
    cached_salt_size_ = salt_size;
    cached_iterations_ = *iterations;
  }
  const ScramKeys keys = scram_sha1_keys(salted_password_);

  client_final_.clear();
  MOTE_TRY(client_final_.append("c="));
  MOTE_TRY(client_final_.append(kChannelBinding));
  MOTE_TRY(client_final_.append(",r="));
  MOTE_TRY(client_final_.append(*nonce));
  // AuthMessage = client-first-message-bare "," server-first-message ","
  //               client-final-message-without-proof (§3).
  const auto auth_message = [&](HmacSha1& mac) {
    mac.update(bytes_of(client_bare));
    mac.update(bytes_of(","));
    mac.update(bytes_of(server_first));
    mac.update(bytes_of(","));
    mac.update(bytes_of(client_final_.view()));
  };
  HmacSha1 client_mac(keys.stored_key);
  auth_message(client_mac);
  const Sha1::Digest client_signature = client_mac.finish();
  HmacSha1 server_mac(keys.server_key);
  auth_message(server_mac);
  server_signature_ = server_mac.finish();
  Sha1::Digest proof{};
  for (std::size_t i = 0; i < proof.size(); ++i)
    proof[i] = keys.client_key[i] ^ client_signature[i];
  std::array<char, base64_encoded_size(Sha1::kDigestSize)> proof_text{};
  MOTE_TRY(base64_encode(proof, proof_text));
  MOTE_TRY(client_final_.append(",p="));
  MOTE_TRY(client_final_.append(std::string_view(proof_text.data(), proof_text.size())));
  stage_ = Stage::sent_final;
  return bytes_of(client_final_.view());
}

Status ScramSha1Authenticator::finish(BinaryData server_data) {
  const bool ready = stage_ == Stage::sent_final;
  stage_ = Stage::idle;
  if (!ready) return Status::unauthenticated();  // accepted before proving itself
  const std::string_view server_final = as_string_view(server_data);
  if (scram_attribute(server_final, 'e')) return Status::unauthenticated();
  const std::optional<std::string_view> verifier = scram_attribute(server_final, 'v');
  if (!verifier) return Status::unauthenticated();
  std::array<std::byte, Sha1::kDigestSize + 2> signature{};
  const Result<std::size_t> size = base64_decode(*verifier, signature);
  if (!size.ok() ||
      !equal_in_constant_time(ConstByteSpan(signature).first(*size), server_signature_)) {
    return Status::unauthenticated();
  }
  return ok_status();
}

}  // namespace mote::mqtt
