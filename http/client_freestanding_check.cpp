// Instantiates Client over a minimal io::Stream, so the firmware build
// compiles the client template freestanding (no heap, exceptions or RTTI)
// and scripts can size it. Not linked into anything.

#include <array>

#include "mote/http/client.hpp"

namespace mote::http::freestanding_check {

class NullStream {
 public:
  async::Task<Result<std::size_t>> read(ByteSpan) { co_return std::size_t{0}; }
  async::Task<Status> write(ConstByteSpan) { co_return ok_status(); }
  Status shutdown_write() { return ok_status(); }
  void close() {}
  Result<io::Endpoint> remote_endpoint() { return Status::failed_precondition(); }
};
static_assert(io::Stream<NullStream>);

async::Task<Status> fetch_for_size_check(NullStream& stream, ByteSpan buffer,
                                         std::span<Header> fields) {
  Client<NullStream> client(stream, buffer, fields);
  MOTE_CO_TRY_ASSIGN(const ResponseHead* head, co_await client.send({.host = "mote"}));
  static_cast<void>(head);
  for (;;) {
    MOTE_CO_TRY_ASSIGN(ConstByteSpan piece, co_await client.read_body());
    if (piece.empty()) co_return ok_status();
  }
}

}  // namespace mote::http::freestanding_check
