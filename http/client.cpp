#include "mote/http/client.hpp"

namespace mote::http {

Result<ConstByteSpan> write_request_head(ByteSpan buffer, const ClientRequest& request) {
  HeadWriter head(buffer);
  MOTE_TRY(head.request_line(request.method, request.target));
  MOTE_TRY(head.field("Host", request.host));
  for (const Header& field : request.headers) MOTE_TRY(head.field(field.name, field.value));
  // "A user agent SHOULD send Content-Length in a request when the method
  // defines a meaning for enclosed content" (RFC 9110 §8.6).
  const Method method = method_from(request.method);
  if (!request.body.empty() || method == Method::post || method == Method::put ||
      method == Method::patch) {
    MOTE_TRY(head.field("Content-Length", static_cast<std::uint64_t>(request.body.size())));
  }
  return head.finish();
}

}  // namespace mote::http
