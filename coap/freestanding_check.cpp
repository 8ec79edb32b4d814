// Compiled by every preset, the cross ones included: instantiates the client
// and the server over a minimal freestanding datagram socket, so a Cortex-M
// build proves the templates compile there (-ffreestanding -fno-exceptions
// -fno-rtti, no heap).

#include "mote/async/signal.hpp"
#include "mote/coap/client.hpp"
#include "mote/coap/server.hpp"

namespace mote::coap {
namespace freestanding_check {

// Sends nowhere and receives nothing: enough to instantiate every member
// (external linkage, so the code is emitted and can be sized).
class InertSocket {
 public:
  async::Task<Status> send_to(ConstByteSpan, io::Endpoint) { co_return ok_status(); }
  async::Task<Result<io::Datagram>> receive_from(ByteSpan) {
    co_await never_.wait();
    co_return Status::cancelled();
  }
  [[nodiscard]] Result<io::Endpoint> local_endpoint() const { return io::Endpoint{}; }

 private:
  async::Signal<> never_;
};

}  // namespace freestanding_check

template class Client<freestanding_check::InertSocket, 2>;
template class Server<freestanding_check::InertSocket, 512, 4, 2>;

}  // namespace mote::coap
