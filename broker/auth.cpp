#include "mote/broker/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "mote/base/log.hpp"
#include "mote/broker/config.hpp"
#include "mote/mqtt/topic.hpp"

namespace mote::broker {
namespace {

constexpr std::uint32_t kMaxIterations = 10'000'000;  // far above mosquitto's 101..

Status bad_line(std::string_view name, std::size_t line, const char* why) {
  MOTE_LOG_ERROR("broker: %.*s line %zu: %s", static_cast<int>(name.size()), name.data(), line,
                 why);
  return Status::invalid_argument();
}

// Calls `each(line_number, line)` for every line without its end and
// surrounding blanks; stops at the first error.
template <typename Each>
Status for_each_line(std::string_view text, Each each) {
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    MOTE_TRY(each(number, line));
  }
  return ok_status();
}

std::string_view next_word(std::string_view& line) {
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  std::size_t end = 0;
  while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
  const std::string_view word = line.substr(0, end);
  line.remove_prefix(end);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  return word;
}

std::string substitute(std::string_view filter, std::string_view client_id, std::string_view user) {
  std::string out;
  for (std::size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] == '%' && i + 1 < filter.size() &&
        (filter[i + 1] == 'c' || filter[i + 1] == 'u')) {
      out += filter[i + 1] == 'c' ? client_id : user;
      ++i;
    } else {
      out += filter[i];
    }
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int padding = 0;
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && last && j >= 2 && (j == 3 || text[i + 3] == '=')) {
        ++padding;
        group <<= 6U;
        continue;
      }
      const int v = value(c);
      if (v < 0 || padding > 0) return std::nullopt;
      group = (group << 6U) | static_cast<std::uint32_t>(v);
    }
    out.push_back(static_cast<std::uint8_t>(group >> 16U));
    if (padding < 2) out.push_back(static_cast<std::uint8_t>(group >> 8U));
    if (padding < 1) out.push_back(static_cast<std::uint8_t>(group));
  }
  return out;
}

Result<PasswordFile> PasswordFile::load(const std::string& path) {
  MOTE_TRY_ASSIGN(const std::string text, read_text_file(path));
  return parse(text, path);
}

Result<PasswordFile> PasswordFile::parse(std::string_view text, std::string_view name) {
  PasswordFile file;
  MOTE_TRY(for_each_line(text, [&](std::size_t number, std::string_view line) -> Status {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return bad_line(name, number, "expected user:hash");
    }
    Entry entry;
    entry.user = std::string(line.substr(0, colon));
    std::string_view hash = line.substr(colon + 1);
    std::vector<std::string_view> parts;
    while (!hash.empty()) {
      const std::size_t dollar = hash.find('$');
      parts.push_back(hash.substr(0, dollar));
      hash.remove_prefix(dollar == std::string_view::npos ? hash.size() : dollar + 1);
    }
    // "$7$iterations$salt$hash" splits into "", "7", iterations, salt, hash.
    std::string_view salt;
    std::string_view digest;
    if (parts.size() == 5 && parts[0].empty() && parts[1] == "7") {
      entry.pbkdf2 = true;
      std::uint64_t iterations = 0;
      for (const char c : parts[2]) {
        if (c < '0' || c > '9' || iterations > kMaxIterations) {
          return bad_line(name, number, "bad iteration count");
        }
        iterations = iterations * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (iterations == 0 || iterations > kMaxIterations) {
        return bad_line(name, number, "bad iteration count");
      }
      entry.iterations = static_cast<std::uint32_t>(iterations);
      salt = parts[3];
      digest = parts[4];
    } else if (parts.size() == 4 && parts[0].empty() && parts[1] == "6") {
      salt = parts[2];
      digest = parts[3];
    } else {
      return bad_line(name, number, "unknown hash format (want $6$ or $7$, see mosquitto_passwd)");
    }
    std::optional<std::vector<std::uint8_t>> salt_bytes = decode_base64(salt);
    std::optional<std::vector<std::uint8_t>> hash_bytes = decode_base64(digest);
    if (!salt_bytes || !hash_bytes || salt_bytes->empty() || hash_bytes->size() != 64) {
      return bad_line(name, number, "bad base64 salt or hash");
    }
    entry.salt = std::move(*salt_bytes);
    entry.hash = std::move(*hash_bytes);
    file.entries_.push_back(std::move(entry));
    return ok_status();
  }));
  return file;
}

bool PasswordFile::check(std::string_view user, std::span<const std::uint8_t> password) const {
  for (const Entry& entry : entries_) {
    if (entry.user != user) continue;
    std::uint8_t computed[64];
    if (entry.pbkdf2) {
      if (PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password.data()),
                            static_cast<int>(password.size()), entry.salt.data(),
                            static_cast<int>(entry.salt.size()), static_cast<int>(entry.iterations),
                            EVP_sha512(), sizeof computed, computed) != 1) {
        return false;
      }
    } else {
      unsigned int length = 0;
      EVP_MD_CTX* context = EVP_MD_CTX_new();
      const bool ok = context != nullptr &&
                      EVP_DigestInit_ex(context, EVP_sha512(), nullptr) == 1 &&
                      EVP_DigestUpdate(context, password.data(), password.size()) == 1 &&
                      EVP_DigestUpdate(context, entry.salt.data(), entry.salt.size()) == 1 &&
                      EVP_DigestFinal_ex(context, computed, &length) == 1 && length == 64;
      EVP_MD_CTX_free(context);
      if (!ok) return false;
    }
    return CRYPTO_memcmp(computed, entry.hash.data(), sizeof computed) == 0;
  }
  return false;
}

Result<AclFile> AclFile::load(const std::string& path) {
  MOTE_TRY_ASSIGN(const std::string text, read_text_file(path));
  return parse(text, path);
}

Result<AclFile> AclFile::parse(std::string_view text, std::string_view name) {
  AclFile file;
  std::optional<std::string> user;
  MOTE_TRY(for_each_line(text, [&](std::size_t number, std::string_view line) -> Status {
    const std::string_view keyword = next_word(line);
    if (keyword == "user") {
      if (line.empty()) return bad_line(name, number, "user without a name");
      user = std::string(line);
      return ok_status();
    }
    if (keyword != "topic" && keyword != "pattern") {
      return bad_line(name, number, "expected user, topic or pattern");
    }
    Rule rule;
    rule.kind = keyword == "pattern" ? Kind::pattern : (user ? Kind::user : Kind::anonymous);
    if (rule.kind == Kind::user) rule.user = *user;
    std::string_view rest = line;
    const std::string_view first = next_word(rest);
    if (first == "read" || first == "write" || first == "readwrite" || first == "deny") {
      rule.access = first == "read"    ? static_cast<std::uint8_t>(Access::read)
                    : first == "write" ? static_cast<std::uint8_t>(Access::write)
                    : first == "deny"  ? std::uint8_t{0}
                                       : std::uint8_t{3};
      line = rest;
    }
    // The filter is the rest of the line (mosquitto allows spaces in it).
    if (line.empty()) return bad_line(name, number, "rule without a topic");
    // Patterns are checked after substitution; %c / %u are not wildcards.
    const std::string checked =
        rule.kind == Kind::pattern ? substitute(line, "c", "u") : std::string(line);
    if (!mqtt::is_valid_topic_filter(checked, false)) {
      return bad_line(name, number, "invalid topic filter");
    }
    rule.filter = std::string(line);
    file.rules_.push_back(std::move(rule));
    return ok_status();
  }));
  return file;
}

bool AclFile::allows(std::string_view client_id, std::string_view user, std::string_view topic,
                     Access access) const {
  bool granted = false;
  for (const Rule& rule : rules_) {
    std::string pattern_filter;
    std::string_view filter = rule.filter;
    switch (rule.kind) {
      case Kind::anonymous:
        if (!user.empty()) continue;
        break;
      case Kind::user:
        if (user.empty() || rule.user != user) continue;
        break;
      case Kind::pattern:
        // A pattern naming the user name does not apply to anonymous clients.
        if (user.empty() && rule.filter.find("%u") != std::string::npos) continue;
        // Wildcards or levels in an id or name would widen the rule: skip it.
        if (client_id.find_first_of("+#/") != std::string_view::npos ||
            user.find_first_of("+#/") != std::string_view::npos) {
          continue;
        }
        pattern_filter = substitute(rule.filter, client_id, user);
        filter = pattern_filter;
        break;
    }
    if (!mqtt::topic_matches(filter, topic)) continue;
    if (rule.access == 0) return false;  // deny wins
    if ((rule.access & static_cast<std::uint8_t>(access)) != 0) granted = true;
  }
  return granted;
}

}  // namespace mote::broker
