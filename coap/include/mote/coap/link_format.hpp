#pragma once
// CoRE Link Format (RFC 6690): writing /.well-known/core and reading links
// from it. Freestanding, zero-copy.
//
//   </sensors/temp>;rt="temperature-c";if="sensor";ct=0;obs,</led>
//
// The reader accepts the RFC 6690 §2 grammar as servers send it: links
// separated by ',', each "<URI-Reference>" followed by ';'-separated
// parameters, a parameter value a token or a quoted string (with '\'
// escapes). Anything else is data_loss.

#include <cstddef>
#include <optional>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"

namespace mote::coap {

// The attributes mote's server publishes for a resource (RFC 6690 §3,
// RFC 7641 §6 for obs). Empty strings and a missing content format are left out.
struct LinkAttributes {
  std::string_view resource_type{};               // rt
  std::string_view interface {};                  // if
  std::optional<std::uint16_t> content_format{};  // ct
  bool observable = false;                        // obs
  std::string_view title{};                       // title
};

// Appends links to a caller's buffer. Errors stick; finish() returns the size.
class LinkFormatWriter {
 public:
  explicit LinkFormatWriter(ByteSpan buffer) : writer_(buffer) {}
  // `path` without the leading '/'. invalid_argument for a '>' in the path
  // or a '"' or '\' in an attribute (nothing here needs escaping).
  LinkFormatWriter& add(std::string_view path, const LinkAttributes& attributes);
  Result<std::size_t> finish() const;

 private:
  void text(std::string_view s);
  void quoted(std::string_view name, std::string_view value);
  ByteWriter writer_;
  Status status_;
  bool first_ = true;
};

struct Link {
  std::string_view target;      // between '<' and '>'
  std::string_view parameters;  // everything after '>' up to the next link, ';' first
  // The value of parameter `name` (quotes removed; escapes left as sent),
  // "" for a parameter without value, nullopt when absent.
  [[nodiscard]] std::optional<std::string_view> parameter(std::string_view name) const;
};

class LinkFormatReader {
 public:
  explicit LinkFormatReader(std::string_view text) : rest_(text) {}
  // The next link; nullopt at the end; data_loss for text outside the grammar.
  Result<std::optional<Link>> next();

 private:
  std::string_view rest_;
  bool first_ = true;
};

}  // namespace mote::coap
