#pragma once
// The MQTT broker on any io::Listener: kernel sockets (KernelTcpListener)
// today, mote's own TCP/IP stack when it has one.
//
//   platform::EpollDriver driver;
//   async::Executor executor(driver);
//   auto listener = platform::KernelTcpListener::listen(driver, config.listen);
//   auto broker = Broker<platform::KernelTcpListener>::open(config, std::move(*listener));
//   MOTE_TRY((*broker)->start(executor));
//   executor.run();
//
// Tasks: one accepting connections, one per connection (a reader and a
// writer joined: serve_connection), one committing the store (group
// commit: every `commit_interval`, or at once when `commit_batch` writes
// are pending), one for housekeeping (expiry, delayed wills, $SYS).

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <list>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/join.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/task.hpp"
#include "mote/async/timeout.hpp"
#include "mote/base/log.hpp"
#include "mote/broker/config.hpp"
#include "mote/broker/connection.hpp"
#include "mote/broker/core.hpp"
#include "mote/broker/store.hpp"
#include "mote/io/concepts.hpp"

namespace mote::broker {

namespace internal {

template <io::Stream S>
async::Task<Result<std::size_t>> read_some(S& stream, ByteSpan buffer) {
  co_return co_await stream.read(buffer);
}

// Frames packets out of the stream and hands them to the connection.
// The read buffer starts small, since an idle connection holds nothing
// else, and doubles while reads fill it (a busy publisher), up to this.
inline constexpr std::size_t kInitialReadBuffer = 256;
inline constexpr std::size_t kGrownReadBuffer = std::size_t{64} * 1024;

template <io::Stream S>
async::Task<void> read_loop(S& stream, Connection& connection) {
  std::vector<std::byte> buffer(kInitialReadBuffer);
  std::size_t used = 0;
  for (;;) {
    std::size_t consumed = 0;
    for (;;) {
      const ConstByteSpan unread(buffer.data() + consumed, used - consumed);
      const mqtt::DecodeResult<mqtt::Frame> frame =
          mqtt::frame_packet(unread, connection.max_packet_size());
      if (!frame.ok()) {
        connection.on_frame_error(frame.error());
        co_return;
      }
      if (frame->size == 0) {
        // Make room for the whole packet once its length is known.
        const std::size_t needed = frame->header_size + frame->remaining_length;
        if (frame->header_size != 0 && needed > buffer.size()) buffer.resize(needed);
        break;
      }
      const bool more = connection.on_packet(unread.first(frame->size));
      consumed += frame->size;
      if (!more) co_return;
    }
    if (consumed != 0) {
      std::memmove(buffer.data(), buffer.data() + consumed, used - consumed);
      used -= consumed;
    }
    if (used == buffer.size()) buffer.resize(buffer.size() * 2);
    // Flow control: a subscriber of what this client publishes is falling
    // behind; give it up to 200 ms to catch up before reading more.
    for (int waits = 0; waits < 100 && connection.congested(); ++waits) {
      co_await async::sleep_for(std::chrono::milliseconds(2));
    }
    while (connection.backlog_full()) {
      // The client does not read what it is sent: stop reading from it too.
      connection.backlog_drained().reset();
      co_await connection.backlog_drained().wait();
      if (connection.closing()) co_return;
    }
    const async::Duration timeout = connection.read_timeout();
    const ByteSpan space(buffer.data() + used, buffer.size() - used);
    Result<std::size_t> n = timeout > async::Duration::zero()
                                ? co_await async::with_timeout(timeout, read_some(stream, space))
                                : co_await read_some(stream, space);
    if (!n.ok() || *n == 0) {
      connection.on_read_end(!n.ok() && n.status().code() == StatusCode::deadline_exceeded);
      co_return;
    }
    used += *n;
    if (*n == space.size() && buffer.size() < kGrownReadBuffer) buffer.resize(buffer.size() * 2);
  }
}

// Writes what the connection has to send; closes the stream at the end,
// which also ends a read waiting in read_loop.
template <io::Stream S>
async::Task<void> write_loop(S& stream, Connection& connection, Core& core) {
  std::vector<std::byte> out;
  for (;;) {
    connection.output_ready().reset();
    const std::uint64_t ticket = connection.take_output(out, std::size_t{64} * 1024);
    if (out.empty()) {
      if (connection.closing()) break;
      co_await connection.output_ready().wait();
      continue;
    }
    if (ticket != 0) {
      // QoS 2 packet ids must be on disk before the PUBLISH is on the wire.
      connection.request_durable(ticket);
      co_await connection.durable().wait();
    }
    const Status written = co_await stream.write(out);
    if (!written.ok()) break;
  }
  (void)core;
  connection.backlog_drained().set();
  (void)stream.shutdown_write();
  stream.close();
}

}  // namespace internal

// Serves one client until its connection ends.
template <io::Stream S>
async::Task<void> serve_connection(S& stream, Connection& connection, Core& core) {
  co_await async::join(internal::read_loop(stream, connection),
                       internal::write_loop(stream, connection, core));
  connection.finish();
}

template <io::Listener L>
class Broker {
 public:
  using Stream = typename L::StreamType;
  // Frame storage per connection (reader, writer, socket operations): 1,536
  // bytes used with gcc 12 at -O2/-O3 (`mote broker -v` logs the high-water
  // mark of each connection that ends). Every connection holds all of it, so
  // it is much of an idle connection's memory: optimized gcc builds keep 1 KiB
  // of margin; unoptimized, sanitized and clang frames are larger.
#if defined(NDEBUG) && defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
  static constexpr std::size_t kConnectionFrames = 2560;
#else
  static constexpr std::size_t kConnectionFrames = 4096;
#endif

  // Opens the store (when config.data_directory is set) and loads it.
  static Result<std::unique_ptr<Broker>> open(const BrokerConfig& config, L listener) {
    std::unique_ptr<Broker> broker(new Broker(config, std::move(listener)));
    MOTE_TRY(broker->load());
    return broker;
  }

  ~Broker() { stop(); }
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  Status start(async::Executor& executor) {
    executor_ = &executor;
    // Without an MQTT listener the broker serves only what serve() is given.
    if (config_.listen_mqtt)
      MOTE_TRY(executor.spawn(accept_storage_, accept_loop, std::ref(*this)));
    MOTE_TRY(executor.spawn(commit_storage_, commit_loop, std::ref(*this)));
    return executor.spawn(housekeeping_storage_, housekeeping_loop, std::ref(*this));
  }

  // Cancels every task, drops every connection and commits the store.
  void stop() {
    accept_storage_.cancel();
    commit_storage_.cancel();
    housekeeping_storage_.cancel();
    for (auto& client : clients_) client->storage.cancel();
    clients_.clear();
    if (core_) (void)core_->commit();
  }

  Core& core() { return *core_; }
  L& listener() { return listener_; }
  [[nodiscard]] std::size_t connection_count() const { return clients_.size() + served_; }
  [[nodiscard]] bool connection_limit_reached() const {
    return config_.limits.max_connections != 0 &&
           connection_count() >= config_.limits.max_connections;
  }
  [[nodiscard]] std::size_t max_packet_size() const { return config_.limits.max_packet_size; }

  // Serves one client whose stream arrived another way (MQTT over
  // WebSocket, behind an HTTP server's upgrade hook) in the caller's task,
  // until its connection ends. It counts towards max_connections (a full
  // broker closes the stream at once). stop() does not reach this task:
  // the caller ends it (stops its server) before the broker is destroyed.
  template <io::Stream S>
  async::Task<void> serve(S& stream) {
    if (connection_limit_reached()) {
      MOTE_LOG_WARN("broker: max_connections (%zu) reached; refusing a connection",
                    config_.limits.max_connections);
      stream.close();
      co_return;
    }
    struct Counted {  // also when the task is cancelled
      explicit Counted(std::size_t& counter) : count(counter) { ++count; }
      ~Counted() { --count; }
      Counted(const Counted&) = delete;
      Counted& operator=(const Counted&) = delete;
      std::size_t& count;
    } counted(served_);
    Connection connection(*core_, config_.limits, access_);
    co_await serve_connection(stream, connection, *core_);
  }

 private:
  struct Client {
    Client(Core& core, const Limits& limits, const AccessPolicy& access, Stream s)
        : connection(core, limits, access), stream(std::move(s)) {}
    Connection connection;
    Stream stream;
    async::TaskStorage<kConnectionFrames> storage;
  };

  Broker(BrokerConfig config, L listener)
      : config_(std::move(config)), listener_(std::move(listener)) {}

  Status load() {
    std::function<bool(const Session&, std::string_view)> may_receive;
    MOTE_TRY(load_access(config_, access_, may_receive));
    if (!config_.data_directory.empty()) {
      std::error_code error;
      std::filesystem::create_directories(config_.data_directory, error);
      if (error) {
        MOTE_LOG_ERROR("broker: cannot create %s: %s", config_.data_directory.c_str(),
                       error.message().c_str());
        return Status::permission_denied();
      }
      MOTE_TRY_ASSIGN(store_, BrokerStore::open(config_.data_directory + "/mote-broker.db"));
    }
    CoreOptions options;
    options.max_queued_messages = config_.limits.max_queued_messages;
    options.commit_batch = config_.commit_batch;
    options.store = store_.get();
    options.may_receive = std::move(may_receive);
    core_ = std::make_unique<Core>(std::move(options));
    return core_->load();
  }

  void reap() {
    clients_.remove_if([](const std::unique_ptr<Client>& client) {
      if (client->storage.state() != async::TaskState::finished) return false;
      if (client->storage.exit_status().code() == StatusCode::resource_exhausted) {
        MOTE_LOG_ERROR("broker: '%s' dropped: its task needs %zu frame bytes, has %zu",
                       client->connection.client_id().c_str(), client->storage.bytes_needed(),
                       client->storage.capacity());
      }
      MOTE_LOG_DEBUG("broker: '%s' gone (task %s, %zu of %zu frame bytes used)",
                     client->connection.client_id().c_str(), client->storage.exit_status().str(),
                     client->storage.high_water_mark(), client->storage.capacity());
      return true;
    });
  }

  static async::Task<void> run_client(Client& client, Core& core) {
    co_await serve_connection(client.stream, client.connection, core);
  }

  static async::Task<void> accept_loop(Broker& self) {
    for (;;) {
      Result<Stream> stream = co_await self.listener_.accept();
      if (!stream.ok()) {
        MOTE_LOG_WARN("broker: accept failed: %s", stream.status().str());
        co_await async::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      self.reap();
      if (self.connection_limit_reached()) {
        MOTE_LOG_WARN("broker: max_connections (%zu) reached; refusing a connection",
                      self.config_.limits.max_connections);
        stream->close();
        continue;
      }
      auto client = std::make_unique<Client>(*self.core_, self.config_.limits, self.access_,
                                             std::move(*stream));
      Client& added = *client;
      self.clients_.push_back(std::move(client));
      const Status spawned =
          self.executor_->spawn(added.storage, run_client, std::ref(added), std::ref(*self.core_));
      if (!spawned.ok()) self.clients_.pop_back();
    }
  }

  static async::Task<void> commit_loop(Broker& self) {
    Core& core = *self.core_;
    for (;;) {
      co_await core.commit_requested().wait();
      // Group commit: what arrives in the next interval joins this commit.
      co_await async::sleep_for(self.config_.commit_interval);
      core.commit_requested().reset();
      if (core.commit_due()) (void)core.commit();
    }
  }

  static async::Task<void> housekeeping_loop(Broker& self) {
    const auto started = std::chrono::steady_clock::now();
    auto next_sys = started;
    for (;;) {
      self.core_->tick();
      self.reap();
      const auto now = std::chrono::steady_clock::now();
      if (self.config_.sys_interval.count() > 0 && now >= next_sys) {
        next_sys = now + self.config_.sys_interval;
        self.core_->publish_sys(std::chrono::duration_cast<std::chrono::seconds>(now - started));
      }
      co_await async::sleep_for(std::chrono::seconds(1));
    }
  }

  BrokerConfig config_;
  L listener_;
  std::unique_ptr<BrokerStore> store_;  // before core_: the core writes to it until it goes
  std::unique_ptr<Core> core_;
  AccessPolicy access_;
  std::list<std::unique_ptr<Client>> clients_;
  std::size_t served_ = 0;  // connections in serve()
  async::Executor* executor_ = nullptr;
  async::TaskStorage<4096> accept_storage_;
  async::TaskStorage<1024> commit_storage_;
  async::TaskStorage<2048> housekeeping_storage_;
};

}  // namespace mote::broker
