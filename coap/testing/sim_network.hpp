#pragma once
// An in-memory UDP network for tests of the CoAP client and server under
// SimDriver's virtual clock: sockets are endpoints on one SimNetwork, a
// datagram is delivered at once unless the test's drop rule says otherwise.
// Host only (std::deque, std::function).

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <vector>

#include "mote/async/signal.hpp"
#include "mote/async/task.hpp"
#include "mote/io/concepts.hpp"

namespace mote::coap::testing {

class SimSocket;

class SimNetwork {
 public:
  // Called for every datagram; true drops it.
  std::function<bool(const io::Endpoint& from, const io::Endpoint& to, ConstByteSpan bytes)> drop;
  std::size_t delivered = 0;
  std::size_t dropped = 0;

 private:
  friend class SimSocket;
  std::map<std::uint16_t, SimSocket*> sockets_;
};

class SimSocket {
 public:
  SimSocket(SimNetwork& network, std::uint16_t port)
      : network_(network), local_{io::Ipv4Address(10, 0, 0, 1), port} {
    network_.sockets_[port] = this;
  }
  ~SimSocket() { network_.sockets_.erase(local_.port); }
  SimSocket(const SimSocket&) = delete;
  SimSocket& operator=(const SimSocket&) = delete;

  async::Task<Status> send_to(ConstByteSpan data, io::Endpoint to) {
    if (network_.drop && network_.drop(local_, to, data)) {
      ++network_.dropped;
      co_return ok_status();
    }
    auto found = network_.sockets_.find(to.port);
    if (found == network_.sockets_.end()) co_return ok_status();
    found->second->inbox_.push_back({local_, std::vector<std::byte>(data.begin(), data.end())});
    ++network_.delivered;
    found->second->arrived_.signal();
    co_return ok_status();
  }

  async::Task<Result<io::Datagram>> receive_from(ByteSpan buffer) {
    while (inbox_.empty()) co_await arrived_.wait();
    arrived_.reset();
    Queued queued = std::move(inbox_.front());
    inbox_.pop_front();
    const std::size_t size = std::min(buffer.size(), queued.bytes.size());
    std::copy_n(queued.bytes.begin(), size, buffer.begin());
    co_return io::Datagram{size, queued.from, size < queued.bytes.size()};
  }

  [[nodiscard]] Result<io::Endpoint> local_endpoint() const { return local_; }
  [[nodiscard]] io::Endpoint endpoint() const { return local_; }

 private:
  struct Queued {
    io::Endpoint from;
    std::vector<std::byte> bytes;
  };
  SimNetwork& network_;
  io::Endpoint local_;
  std::deque<Queued> inbox_;
  async::Signal<> arrived_;
};

static_assert(io::DatagramSocket<SimSocket>);

}  // namespace mote::coap::testing
