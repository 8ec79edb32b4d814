#include "mote/websocket/handshake.hpp"

#include "mote/base/base64.hpp"
#include "mote/base/sha1.hpp"
#include "mote/base/text.hpp"
#include "mote/http/message_writer.hpp"

namespace mote::websocket {
namespace {

using http::is_token;
using http::is_token_char;

constexpr bool is_ows(char c) { return c == ' ' || c == '\t'; }

constexpr std::string_view trim(std::string_view text) {
  while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
  return text;
}

// The length of the token at the start of `text`.
constexpr std::size_t token_length(std::string_view text) {
  std::size_t size = 0;
  while (size < text.size() && is_token_char(text[size])) ++size;
  return size;
}

// The head `head` wrote, as a size.
Result<std::size_t> finish(http::HeadWriter& head) {
  MOTE_TRY_ASSIGN(ConstByteSpan bytes, head.finish());
  return bytes.size();
}

}  // namespace

ClientKey client_key_from_nonce(const std::array<std::byte, 16>& nonce) {
  std::array<char, 24> text{};
  base64_encode(nonce, text).status().ignore_error();  // 24 characters always fit
  ClientKey key;
  key.assign(std::string_view(text.data(), text.size())).ignore_error();
  return key;
}

bool is_valid_client_key(std::string_view key) {
  if (key.size() != 24) return false;
  std::array<std::byte, 18> nonce{};
  Result<std::size_t> size = base64_decode(key, nonce);
  return size.ok() && *size == 16;
}

AcceptKey compute_accept_key(std::string_view client_key) {
  Sha1 sha1;
  sha1.update(bytes_of(client_key));
  sha1.update(bytes_of(kHandshakeGuid));
  const Sha1::Digest digest = sha1.finish();
  std::array<char, 28> text{};
  base64_encode(digest, text).status().ignore_error();  // 28 characters always fit
  AcceptKey accept;
  accept.assign(std::string_view(text.data(), text.size())).ignore_error();
  return accept;
}

Result<std::string_view> find_single_header(const http::HeaderList& headers,
                                            std::string_view name) {
  const std::size_t count = headers.count(name);
  if (count == 0) return Status::not_found();
  if (count > 1) return Status::invalid_argument();
  return *headers.get(name);
}

// --- Extensions ------------------------------------------------------------------

namespace {

// Reads a token or quoted-string parameter value at the start of `text`.
// Returns the value's length on the wire (quotes included) or 0 when bad.
std::size_t scan_param_value(std::string_view text, std::string_view& value) {
  if (!text.empty() && text.front() == '"') {
    const std::size_t close = text.find('"', 1);
    if (close == std::string_view::npos) return 0;
    value = slice(text, 1, close - 1);
    // §9.1: a quoted value must itself be a token once unquoted.
    if (!is_token(value)) return 0;
    return close + 1;
  }
  const std::size_t size = token_length(text);
  value = slice(text, 0, size);
  return size;
}

// Checks the parameters part of one extension: *( OWS ";" OWS param ).
bool is_valid_params(std::string_view text) {
  ExtensionParam param;
  text = trim(text);
  while (!text.empty()) {
    if (text.front() != ';') return false;
    text = trim(slice(text, 1));
    const std::size_t size = token_length(text);
    if (size == 0) return false;
    text = trim(slice(text, size));
    if (!text.empty() && text.front() == '=') {
      text = trim(slice(text, 1));
      const std::size_t value_size = scan_param_value(text, param.value);
      if (value_size == 0) return false;
      text = trim(slice(text, value_size));
    }
  }
  return true;
}

}  // namespace

bool ExtensionParams::next(ExtensionParam& param) {
  text_ = trim(text_);
  if (text_.empty() || text_.front() != ';') return false;
  text_ = trim(slice(text_, 1));
  const std::size_t size = token_length(text_);
  param = ExtensionParam{slice(text_, 0, size), {}, false};
  text_ = trim(slice(text_, size));
  if (!text_.empty() && text_.front() == '=') {
    text_ = trim(slice(text_, 1));
    const std::size_t value_size = scan_param_value(text_, param.value);
    param.has_value = true;
    text_ = slice(text_, value_size);
  }
  return !param.name.empty();
}

Result<bool> ExtensionList::next(ExtensionOffer& offer) {
  if (position_ == http::TokenList::iterator()) return false;
  const std::string_view extension = *position_;
  ++position_;
  const std::size_t size = token_length(extension);
  const std::string_view params = slice(extension, size);
  if (size == 0 || !is_valid_params(params)) {
    position_ = {};
    return Status::invalid_argument();
  }
  offer = ExtensionOffer{slice(extension, 0, size), ExtensionParams(params)};
  return true;
}

bool is_valid_extension_list(std::string_view value) {
  ExtensionList list(value);
  ExtensionOffer offer;
  for (;;) {
    Result<bool> more = list.next(offer);
    if (!more.ok()) return false;
    if (!*more) return true;
  }
}

// --- Server ----------------------------------------------------------------------

const char* to_string(RequestError error) {
  switch (error) {
    case RequestError::none: return "none";
    case RequestError::not_get: return "method is not GET";
    case RequestError::old_http: return "HTTP version below 1.1";
    case RequestError::no_host: return "no Host header";
    case RequestError::not_upgrade: return "not a WebSocket upgrade";
    case RequestError::bad_key: return "missing or malformed Sec-WebSocket-Key";
    case RequestError::bad_version: return "Sec-WebSocket-Version is not 13";
    case RequestError::bad_extensions: return "malformed Sec-WebSocket-Extensions";
  }
  return "unknown";
}

unsigned http_status_for(RequestError error) {
  switch (error) {
    case RequestError::none: return 101;
    case RequestError::not_get: return 405;
    case RequestError::not_upgrade:
    case RequestError::bad_version: return 426;
    default: return 400;
  }
}

RequestCheck check_upgrade_request(const http::RequestHead& request) {
  RequestCheck check;
  auto fail = [&check](RequestError error) {
    check.error = error;
    return check;
  };
  if (request.method != http::Method::get) return fail(RequestError::not_get);
  if (request.version.major < 1 || (request.version.major == 1 && request.version.minor < 1)) {
    return fail(RequestError::old_http);
  }
  if (!find_single_header(request.headers, "Host").ok()) return fail(RequestError::no_host);
  if (!request.headers.has_token("Upgrade", "websocket") ||
      !request.headers.has_token("Connection", "Upgrade")) {
    return fail(RequestError::not_upgrade);
  }
  Result<std::string_view> version = find_single_header(request.headers, "Sec-WebSocket-Version");
  if (!version.ok() || *version != kVersion) return fail(RequestError::bad_version);
  Result<std::string_view> key = find_single_header(request.headers, "Sec-WebSocket-Key");
  if (!key.ok() || !is_valid_client_key(*key)) return fail(RequestError::bad_key);
  for (std::string_view value : request.headers.values("Sec-WebSocket-Extensions")) {
    if (!is_valid_extension_list(value)) return fail(RequestError::bad_extensions);
  }
  check.key = *key;
  return check;
}

std::string_view select_subprotocol(const http::HeaderList& headers,
                                    std::span<const std::string_view> supported) {
  for (std::string_view value : headers.values("Sec-WebSocket-Protocol")) {
    for (std::string_view offered : http::TokenList(value)) {
      for (std::string_view mine : supported) {
        if (offered == mine) return mine;
      }
    }
  }
  return {};
}

Result<std::size_t> write_upgrade_response(const UpgradeAnswer& answer, ByteSpan out) {
  if (!is_valid_client_key(answer.client_key)) return Status::invalid_argument();
  const AcceptKey accept = compute_accept_key(answer.client_key);
  // http::HeadWriter refuses values with CR, LF or controls (no header injection).
  http::HeadWriter head(out);
  MOTE_TRY(head.status_line(101));
  MOTE_TRY(head.field("Upgrade", "websocket"));
  MOTE_TRY(head.field("Connection", "Upgrade"));
  MOTE_TRY(head.field("Sec-WebSocket-Accept", accept.view()));
  if (!answer.subprotocol.empty())
    MOTE_TRY(head.field("Sec-WebSocket-Protocol", answer.subprotocol));
  if (!answer.extensions.empty())
    MOTE_TRY(head.field("Sec-WebSocket-Extensions", answer.extensions));
  return finish(head);
}

Result<std::size_t> write_refusal(RequestError error, ByteSpan out) {
  const auto status = static_cast<std::uint16_t>(http_status_for(error));
  http::HeadWriter head(out);
  MOTE_TRY(head.status_line(status));
  if (status == 405) MOTE_TRY(head.field("Allow", "GET"));
  if (status == 426) {
    MOTE_TRY(head.field("Upgrade", "websocket"));
    MOTE_TRY(head.field("Sec-WebSocket-Version", kVersion));
  }
  MOTE_TRY(head.field("Content-Length", "0"));
  MOTE_TRY(head.field("Connection", "close"));
  return finish(head);
}

// --- Client ----------------------------------------------------------------------

Result<std::size_t> write_upgrade_request(const UpgradeOffer& offer, ByteSpan out) {
  if (offer.host.empty() || offer.target.empty() || offer.target.front() != '/' ||
      !is_valid_client_key(offer.key)) {
    return Status::invalid_argument();
  }
  http::HeadWriter head(out);
  MOTE_TRY(head.request_line("GET", offer.target));
  MOTE_TRY(head.field("Host", offer.host));
  MOTE_TRY(head.field("Upgrade", "websocket"));
  MOTE_TRY(head.field("Connection", "Upgrade"));
  MOTE_TRY(head.field("Sec-WebSocket-Key", offer.key));
  MOTE_TRY(head.field("Sec-WebSocket-Version", kVersion));
  if (!offer.subprotocols.empty())
    MOTE_TRY(head.field("Sec-WebSocket-Protocol", offer.subprotocols));
  if (!offer.extensions.empty()) MOTE_TRY(head.field("Sec-WebSocket-Extensions", offer.extensions));
  if (!offer.origin.empty()) MOTE_TRY(head.field("Origin", offer.origin));
  return finish(head);
}

const char* to_string(ResponseError error) {
  switch (error) {
    case ResponseError::none: return "none";
    case ResponseError::not_switching: return "status is not 101";
    case ResponseError::not_upgrade: return "missing Upgrade: websocket or Connection: Upgrade";
    case ResponseError::bad_accept: return "wrong Sec-WebSocket-Accept";
    case ResponseError::unexpected_protocol: return "subprotocol the client did not offer";
    case ResponseError::bad_extensions: return "malformed Sec-WebSocket-Extensions";
  }
  return "unknown";
}

ResponseCheck check_upgrade_response(const http::ResponseHead& response, std::string_view key,
                                     std::string_view offered_subprotocols) {
  ResponseCheck check;
  auto fail = [&check](ResponseError error) {
    check.error = error;
    return check;
  };
  if (response.status != 101) return fail(ResponseError::not_switching);
  if (!response.headers.has_token("Upgrade", "websocket") ||
      !response.headers.has_token("Connection", "Upgrade")) {
    return fail(ResponseError::not_upgrade);
  }
  Result<std::string_view> accept = find_single_header(response.headers, "Sec-WebSocket-Accept");
  if (!accept.ok() || *accept != compute_accept_key(key).view()) {
    return fail(ResponseError::bad_accept);
  }
  Result<std::string_view> protocol =
      find_single_header(response.headers, "Sec-WebSocket-Protocol");
  if (protocol.status() == Status::invalid_argument()) {
    return fail(ResponseError::unexpected_protocol);
  }
  if (protocol.ok()) {
    bool offered = false;
    for (std::string_view element : http::TokenList(offered_subprotocols)) {
      offered = offered || element == *protocol;
    }
    if (!offered) return fail(ResponseError::unexpected_protocol);
    check.subprotocol = *protocol;
  }
  for (std::string_view value : response.headers.values("Sec-WebSocket-Extensions")) {
    if (!is_valid_extension_list(value)) return fail(ResponseError::bad_extensions);
  }
  return check;
}

}  // namespace mote::websocket
