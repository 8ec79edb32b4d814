// Arbitrary bytes as an HTTP request head (parsed by the http module) and
// checked as a WebSocket upgrade, and as a Sec-WebSocket-Extensions value
// walked by ExtensionList and negotiated as permessage-deflate. Properties
// checked: no crash or sanitizer report; an accepted request has a key
// that decodes to 16 bytes and a 101 response can be written for it; an
// extension list the walker accepts is accepted by is_valid_extension_list.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "mote/http/parser.hpp"
#include "mote/websocket/deflate.hpp"
#include "mote/websocket/handshake.hpp"

namespace {

using namespace mote;
using namespace mote::websocket;

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const ConstByteSpan data = bytes_of(std::span(bytes, size));
  const std::string_view text = as_string_view(data);

  std::array<http::Header, 32> fields{};
  http::RequestParser parser(fields);
  Result<std::size_t> head = parser.parse_head(data);
  if (head.ok() && *head != 0) {
    const RequestCheck request = check_upgrade_request(parser.head());
    if (request.error == RequestError::none) {
      check(is_valid_client_key(request.key));
      std::array<std::byte, 512> out{};
      check(write_upgrade_response({request.key, {}, {}}, out).ok());
      PerMessageDeflate deflate;
      Result<std::string_view> answer = deflate.negotiate(parser.head().headers);
      check(answer.ok());
      check(deflate.active() == !answer->empty());
    } else {
      std::array<std::byte, 256> out{};
      check(write_refusal(request.error, out).ok());
    }
  }

  ExtensionList list(text);
  ExtensionOffer offer;
  bool valid = true;
  for (;;) {
    Result<bool> more = list.next(offer);
    if (!more.ok()) {
      valid = false;
      break;
    }
    if (!*more) break;
    check(!offer.name.empty());
    ExtensionParam param;
    while (offer.params.next(param)) check(!param.name.empty());
    (void)parse_deflate_parameters(offer.params, true);
  }
  check(valid == is_valid_extension_list(text));

  const std::vector<http::Header> response = {{"Sec-WebSocket-Extensions", text}};
  PerMessageDeflate client;
  client.client_offer();
  (void)client.accept_response(http::HeaderList(response));
  return 0;
}
