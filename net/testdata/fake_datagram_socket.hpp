#pragma once
// An in-memory io::DatagramSocket for tests on the SimDriver: what is sent
// is recorded (with the virtual time it was sent at), and the test delivers
// datagrams by hand, so every exchange happens at a time the test chose.

#include <deque>
#include <vector>

#include "mote/async/event.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/task.hpp"
#include "mote/io/concepts.hpp"

namespace mote::net::testdata {

class FakeDatagramSocket {
 public:
  struct Sent {
    std::vector<std::byte> data;
    io::Endpoint to;
    async::Instant at;
  };

  explicit FakeDatagramSocket(io::Endpoint local) : local_(local) {}

  async::Task<Status> send_to(ConstByteSpan data, io::Endpoint to) {
    if (closed) co_return Status::failed_precondition();
    sent.push_back(Sent{std::vector<std::byte>(data.begin(), data.end()), to, async::now()});
    co_return ok_status();
  }

  async::Task<Result<io::Datagram>> receive_from(ByteSpan buffer) {
    while (inbox_.empty()) {
      if (closed) co_return Status::failed_precondition();
      arrived_.reset();
      co_await arrived_.wait();
    }
    const Incoming incoming = std::move(inbox_.front());
    inbox_.pop_front();
    const std::size_t size = std::min(buffer.size(), incoming.data.size());
    std::copy_n(incoming.data.begin(), size, buffer.begin());
    co_return io::Datagram{size, incoming.from, size < incoming.data.size()};
  }

  [[nodiscard]] Result<io::Endpoint> local_endpoint() const { return local_; }

  // Queues a datagram and wakes a waiting receive.
  void deliver(ConstByteSpan data, io::Endpoint from) {
    inbox_.push_back(Incoming{std::vector<std::byte>(data.begin(), data.end()), from});
    arrived_.set();
  }
  // Ends a waiting receive with failed_precondition.
  void close() {
    closed = true;
    arrived_.set();
  }

  std::vector<Sent> sent;
  bool closed = false;

 private:
  struct Incoming {
    std::vector<std::byte> data;
    io::Endpoint from;
  };
  io::Endpoint local_;
  std::deque<Incoming> inbox_;
  async::Event arrived_;
};

static_assert(io::DatagramSocket<FakeDatagramSocket>);

}  // namespace mote::net::testdata
