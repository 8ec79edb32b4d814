#pragma once
// The opening handshake (RFC 6455 §4): keys, Sec-WebSocket-Accept, the
// checks on an upgrade request and its response, and writing both heads.
// Freestanding: heads are written into caller buffers; received heads come
// from the http module's parsers (http::RequestHead, http::ResponseHead).

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/inline_string.hpp"
#include "mote/base/result.hpp"
#include "mote/http/headers.hpp"
#include "mote/http/parser.hpp"

namespace mote::websocket {

// §1.3: appended to the client's key before hashing.
inline constexpr std::string_view kHandshakeGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
// §4.1: the only version this implementation (and the RFC) speaks.
inline constexpr std::string_view kVersion = "13";

// Sec-WebSocket-Key: base64 of 16 random bytes (24 characters).
using ClientKey = InlineString<24>;
// Sec-WebSocket-Accept: base64 of a SHA-1 digest (28 characters).
using AcceptKey = InlineString<28>;

// The key for a 16-byte nonce.
[[nodiscard]] ClientKey client_key_from_nonce(const std::array<std::byte, 16>& nonce);

// A fresh key from a caller's random source, `fill(ByteSpan)` filling the
// bytes it is given. §4.1: the nonce "MUST be selected randomly for each
// connection" (use the platform's CSPRNG where there is one).
template <typename Fill>
requires std::invocable<Fill&, ByteSpan>
[[nodiscard]] ClientKey generate_client_key(Fill&& fill) {
  std::array<std::byte, 16> nonce{};
  fill(ByteSpan(nonce));
  return client_key_from_nonce(nonce);
}

// §4.2.1 item 5: the key decodes to exactly 16 bytes.
[[nodiscard]] bool is_valid_client_key(std::string_view key);

// §4.2.2 item 5.4: base64(SHA-1(key + GUID)).
[[nodiscard]] AcceptKey compute_accept_key(std::string_view client_key);

// The value of the only field line called `name`; not_found when there is
// none, invalid_argument when there are several (§4.2.1: one key, one
// version; §4.1: one accept).
Result<std::string_view> find_single_header(const http::HeaderList& headers, std::string_view name);

// --- Sec-WebSocket-Extensions (§9.1) -------------------------------------------
//   extension-list = 1#extension
//   extension      = extension-token *( ";" extension-param )
//   extension-param = token [ "=" (token | quoted-string) ]
// Quoted strings are accepted when they hold no backslash escape (values
// are then tokens by §9.1 and views into the header, unescaped).

struct ExtensionParam {
  std::string_view name;
  std::string_view value;  // without quotes
  bool has_value = false;
};

// Walks the parameters of one extension (the text after its name).
class ExtensionParams {
 public:
  constexpr ExtensionParams() = default;
  explicit constexpr ExtensionParams(std::string_view text) : text_(text) {}
  // The next parameter; false at the end. Input comes from ExtensionList,
  // which validated it.
  bool next(ExtensionParam& param);

 private:
  std::string_view text_;
};

struct ExtensionOffer {
  std::string_view name;
  ExtensionParams params;
};

// Walks one Sec-WebSocket-Extensions value, extension by extension.
class ExtensionList {
 public:
  explicit ExtensionList(std::string_view value) : position_(http::TokenList(value).begin()) {}
  // The next extension: true and `offer` set, false at the end, or
  // invalid_argument when the value breaks the grammar (the walk ends).
  Result<bool> next(ExtensionOffer& offer);

 private:
  http::TokenList::iterator position_;
};

// The whole value follows the grammar.
[[nodiscard]] bool is_valid_extension_list(std::string_view value);

// --- The server's side ----------------------------------------------------------

// Why an upgrade request was refused, and the status to answer with.
enum class RequestError : std::uint8_t {
  none,
  not_get,         // 405 (RFC 9110 §15.5.6)
  old_http,        // HTTP/1.0: 400
  no_host,         // 400
  not_upgrade,     // no "Upgrade: websocket" or no "Connection: Upgrade": 426
  bad_key,         // missing, repeated or not 16 bytes: 400
  bad_version,     // not 13: 426 with "Sec-WebSocket-Version: 13" (§4.4)
  bad_extensions,  // Sec-WebSocket-Extensions breaks the grammar: 400
};
[[nodiscard]] const char* to_string(RequestError error);
[[nodiscard]] unsigned http_status_for(RequestError error);

// §4.2.1: checks a client's opening handshake. On success `key` is the
// client's key (a view into the request).
struct RequestCheck {
  RequestError error = RequestError::none;
  std::string_view key;
};
[[nodiscard]] RequestCheck check_upgrade_request(const http::RequestHead& request);

// The first subprotocol of the client's Sec-WebSocket-Protocol lists that
// `supported` (tried in the client's order, §4.2.2 item 5.3) also names;
// empty when none.
[[nodiscard]] std::string_view select_subprotocol(const http::HeaderList& headers,
                                                  std::span<const std::string_view> supported);

struct UpgradeAnswer {
  std::string_view client_key;
  std::string_view subprotocol;  // empty: no Sec-WebSocket-Protocol line
  std::string_view extensions;   // empty: no Sec-WebSocket-Extensions line
};

// Writes "HTTP/1.1 101 Switching Protocols" and its headers (§4.2.2).
Result<std::size_t> write_upgrade_response(const UpgradeAnswer& answer, ByteSpan out);

// Writes the refusal for `error` (status line, Sec-WebSocket-Version for a
// version mismatch, Connection: close, no body).
Result<std::size_t> write_refusal(RequestError error, ByteSpan out);

// --- The client's side ----------------------------------------------------------

struct UpgradeOffer {
  std::string_view host;          // Host header, with ":port" when not the default
  std::string_view target = "/";  // request-target (path and query)
  std::string_view key;           // from generate_client_key
  std::string_view subprotocols;  // comma-separated; empty: none offered
  std::string_view extensions;    // Sec-WebSocket-Extensions offer; empty: none
  std::string_view origin;        // empty: no Origin header
};

// Writes the GET request with its upgrade headers (§4.1).
Result<std::size_t> write_upgrade_request(const UpgradeOffer& offer, ByteSpan out);

enum class ResponseError : std::uint8_t {
  none,
  not_switching,        // status other than 101
  not_upgrade,          // Upgrade/Connection headers missing or wrong
  bad_accept,           // Sec-WebSocket-Accept missing or not the expected one
  unexpected_protocol,  // a subprotocol the client did not offer
  bad_extensions,       // Sec-WebSocket-Extensions breaks the grammar
};
[[nodiscard]] const char* to_string(ResponseError error);

struct ResponseCheck {
  ResponseError error = ResponseError::none;
  std::string_view subprotocol;  // the server's choice; empty: none
};

// §4.1, the client's checks on the server's answer: 101, Upgrade and
// Connection, the accept key, a subprotocol from the offer. Extensions are
// only checked for grammar: the negotiating extension judges their content
// (a client without extensions must fail on any, §4.1 item 5).
[[nodiscard]] ResponseCheck check_upgrade_response(const http::ResponseHead& response,
                                                   std::string_view key,
                                                   std::string_view offered_subprotocols);

}  // namespace mote::websocket
