#pragma once
// An in-memory io::Stream pair and io::Connector for tests of protocol code
// under the SimDriver: bytes written on one end are readable on the other
// at once, without any real I/O. Host only (it allocates).
//
//   MemoryConnector connector;
//   // client code: co_await connector.connect(endpoint) -> the client's end
//   // test code:   co_await connector.accept()          -> the server's end
//
// Each end: read() waits for bytes or the peer's shutdown (0) / close
// (aborted); write() waits only when the pipe has a capacity and is full.
// close() on either end resets the link and wakes both.

#include <algorithm>
#include <cstddef>
#include <deque>
#include <memory>

#include "mote/async/event.hpp"
#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/io/address.hpp"
#include "mote/io/concepts.hpp"

namespace mote::mqtt::test_support {

struct MemoryPipe {
  std::deque<std::byte> bytes;
  bool shut = false;  // the writer sent its FIN
  // Bytes the pipe holds before a write waits for the reader (a full socket
  // buffer); unlimited by default.
  std::size_t capacity = static_cast<std::size_t>(-1);
  async::Event readable;
  async::Event writable;
};

struct MemoryLink {
  MemoryPipe to_server;
  MemoryPipe to_client;
  bool reset = false;
  std::size_t client_bytes_written = 0;
};

class MemoryStream {
 public:
  MemoryStream() = default;
  MemoryStream(std::shared_ptr<MemoryLink> link, bool client_side)
      : link_(std::move(link)), client_side_(client_side) {}
  MemoryStream(MemoryStream&&) noexcept = default;
  MemoryStream& operator=(MemoryStream&& other) noexcept {
    if (this != &other) {
      close();
      link_ = std::move(other.link_);
      client_side_ = other.client_side_;
    }
    return *this;
  }
  ~MemoryStream() { close(); }

  async::Task<Result<std::size_t>> read(ByteSpan buffer) {
    if (!link_) co_return Status::failed_precondition();
    std::shared_ptr<MemoryLink> link = link_;  // the stream may be closed while we wait
    MemoryPipe& in = client_side_ ? link->to_client : link->to_server;
    while (in.bytes.empty()) {
      if (link->reset) co_return Status::aborted();
      if (in.shut) co_return std::size_t{0};
      in.readable.reset();
      co_await in.readable.wait();
    }
    const std::size_t n = std::min(buffer.size(), in.bytes.size());
    std::copy_n(in.bytes.begin(), n, buffer.begin());
    in.bytes.erase(in.bytes.begin(), in.bytes.begin() + static_cast<std::ptrdiff_t>(n));
    in.writable.set();
    co_return n;
  }

  async::Task<Status> write(ConstByteSpan data) {
    if (!link_) co_return Status::failed_precondition();
    std::shared_ptr<MemoryLink> link = link_;  // the stream may be closed while we wait
    MemoryPipe& out = client_side_ ? link->to_server : link->to_client;
    for (;;) {
      if (link->reset) co_return Status::aborted();
      if (out.shut) co_return Status::failed_precondition();
      if (out.bytes.size() + data.size() <= out.capacity) break;
      out.writable.reset();
      co_await out.writable.wait();
    }
    out.bytes.insert(out.bytes.end(), data.begin(), data.end());
    if (client_side_) link->client_bytes_written += data.size();
    out.readable.set();
    co_return ok_status();
  }

  Status shutdown_write() {
    if (!link_) return Status::failed_precondition();
    MemoryPipe& out = client_side_ ? link_->to_server : link_->to_client;
    out.shut = true;
    out.readable.set();
    return ok_status();
  }

  void close() {
    if (!link_) return;
    link_->reset = true;
    for (MemoryPipe* pipe : {&link_->to_server, &link_->to_client}) {
      pipe->readable.set();
      pipe->writable.set();
    }
    link_.reset();
  }

  // The link, for tests that shape it (MemoryPipe::capacity).
  [[nodiscard]] MemoryLink* link() const { return link_.get(); }

  [[nodiscard]] Result<io::Endpoint> remote_endpoint() const {
    if (!link_) return Status::failed_precondition();
    return io::Endpoint::parse("192.0.2.1:1883");
  }
  [[nodiscard]] bool is_open() const { return link_ != nullptr && !link_->reset; }

 private:
  std::shared_ptr<MemoryLink> link_;
  bool client_side_ = true;
};

class MemoryConnector {
 public:
  using StreamType = MemoryStream;

  async::Task<Result<MemoryStream>> connect(io::Endpoint /*remote*/) {
    ++attempts_;
    if (refuse_) co_return Status::unavailable();
    auto link = std::make_shared<MemoryLink>();
    accepted_.emplace_back(link, false);
    incoming_.set();
    co_return MemoryStream(link, true);
  }

  // The server's end of the next connection.
  async::Task<MemoryStream> accept() {
    while (accepted_.empty()) {
      incoming_.reset();
      co_await incoming_.wait();
    }
    MemoryStream stream = std::move(accepted_.front());
    accepted_.pop_front();
    co_return stream;
  }

  // While set, connect() fails with unavailable (connection refused).
  void set_refuse(bool refuse) { refuse_ = refuse; }
  [[nodiscard]] int attempts() const { return attempts_; }

 private:
  std::deque<MemoryStream> accepted_;
  async::Event incoming_;
  bool refuse_ = false;
  int attempts_ = 0;
};

static_assert(io::Stream<MemoryStream>);
static_assert(io::Connector<MemoryConnector>);

}  // namespace mote::mqtt::test_support
