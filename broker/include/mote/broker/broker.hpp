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
// Tasks: one accepting connections, one committing the store (group
// commit: every `commit_interval`, or at once when `commit_batch` writes
// are pending), one for housekeeping (expiry, delayed wills, $SYS, the
// read deadlines of idle connections), and one per busy connection: a
// reader and a writer joined, in task storage from a pool. On streams that
// are io::ReadinessStream (kernel sockets) a connection with nothing to
// read or write returns its storage and waits as a plain object,
// registered for readability and as its Connection's observer; the next
// bytes or output start a task for it again. Other streams, and serve(),
// keep one task per connection (serve_connection).

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

// The bytes read from a client and not handled yet, framed into packets
// for its connection. Starts small, since an idle connection holds
// nothing else, and doubles while reads fill it (a busy publisher), up to
// kGrown; empty, it can be released (an idle connection then holds none).
class ReadBuffer {
 public:
  static constexpr std::size_t kInitial = 256;
  static constexpr std::size_t kGrown = std::size_t{64} * 1024;

  // Hands every whole packet to the connection. false: reading ends (a
  // malformed frame, or on_packet said stop).
  bool dispatch(Connection& connection) {
    std::size_t consumed = 0;
    bool more = true;
    for (;;) {
      const ConstByteSpan unread(bytes_.get() + consumed, used_ - consumed);
      const mqtt::DecodeResult<mqtt::Frame> frame =
          mqtt::frame_packet(unread, connection.max_packet_size());
      if (!frame.ok()) {
        connection.on_frame_error(frame.error());
        more = false;
        break;
      }
      if (frame->size == 0) {
        // Make room for the whole packet once its length is known.
        const std::size_t needed = frame->header_size + frame->remaining_length;
        if (frame->header_size != 0 && needed > size_) resize(needed);
        break;
      }
      more = connection.on_packet(unread.first(frame->size));
      consumed += frame->size;
      if (!more) break;
    }
    if (consumed != 0) {
      std::memmove(bytes_.get(), bytes_.get() + consumed, used_ - consumed);
      used_ -= static_cast<std::uint32_t>(consumed);
    }
    return more;
  }

  // Where the next read goes (never empty).
  ByteSpan space() {
    if (size_ == 0) resize(kInitial);
    if (used_ == size_) resize(std::size_t{size_} * 2);
    return {bytes_.get() + used_, size_ - used_};
  }
  // A read put `n` bytes into space().
  void filled(std::size_t n) {
    const bool full = n == size_ - used_;
    used_ += static_cast<std::uint32_t>(n);
    if (full && size_ < kGrown) resize(std::size_t{size_} * 2);
  }
  // Frees the storage when nothing half-read is in it.
  void release_if_empty() {
    if (used_ != 0) return;
    bytes_.reset();
    size_ = 0;
  }

 private:
  // Keeps the bytes in use (a packet is at most 256 MiB: sizes fit 32 bits).
  void resize(std::size_t size) {
    auto grown = std::make_unique_for_overwrite<std::byte[]>(size);
    if (used_ != 0) std::memcpy(grown.get(), bytes_.get(), used_);
    bytes_ = std::move(grown);
    size_ = static_cast<std::uint32_t>(size);
  }

  std::unique_ptr<std::byte[]> bytes_;
  std::uint32_t size_ = 0;
  std::uint32_t used_ = 0;
};

// Flow control before the next read. A subscriber of what this client
// publishes is falling behind: give it up to 200 ms to catch up. The client
// does not read what it is sent: stop reading from it too. false: the
// connection closed meanwhile.
inline async::Task<bool> wait_for_room(Connection& connection) {
  for (int waits = 0; waits < 100 && connection.congested(); ++waits) {
    co_await async::sleep_for(std::chrono::milliseconds(2));
  }
  while (connection.backlog_full()) {
    connection.backlog_drained().reset();
    co_await connection.backlog_drained().wait();
    if (connection.closing()) co_return false;
  }
  co_return true;
}

template <io::Stream S>
async::Task<void> read_loop(S& stream, Connection& connection) {
  ReadBuffer buffer;
  for (;;) {
    if (!buffer.dispatch(connection)) co_return;
    if (connection.congested() || connection.backlog_full()) {
      if (!co_await wait_for_room(connection)) co_return;
    }
    const async::Duration timeout = connection.read_timeout();
    const ByteSpan space = buffer.space();
    Result<std::size_t> n = timeout > async::Duration::zero()
                                ? co_await async::with_timeout(timeout, read_some(stream, space))
                                : co_await read_some(stream, space);
    if (!n.ok() || *n == 0) {
      connection.on_read_end(!n.ok() && n.status().code() == StatusCode::deadline_exceeded);
      co_return;
    }
    buffer.filled(*n);
  }
}

// After the writer: the backlog can no longer drain, and the stream goes
// (which also ends a read waiting on it).
template <io::Stream S>
void close_stream(S& stream, Connection& connection) {
  connection.backlog_drained().set();
  (void)stream.shutdown_write();
  stream.close();
}

// Writes what the connection has to send; closes the stream at the end,
// which also ends a read waiting in read_loop.
template <io::Stream S>
async::Task<void> write_loop(S& stream, Connection& connection) {
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
  close_stream(stream, connection);
}

// The signals of a connection served by one task, in that task's frame
// (detached also when the task is cancelled).
class AttachedSignals {
 public:
  explicit AttachedSignals(Connection& connection) : connection_(connection) {
    connection_.attach(&signals_);
  }
  ~AttachedSignals() { connection_.attach(nullptr); }
  AttachedSignals(const AttachedSignals&) = delete;
  AttachedSignals& operator=(const AttachedSignals&) = delete;

 private:
  Connection& connection_;
  ConnectionSignals signals_;
};

}  // namespace internal

// Serves one client until its connection ends, in the caller's task: a
// reader and a writer joined, holding their frames all along. The broker's
// own listener keeps idle connections without frames instead (Broker).
template <io::Stream S>
async::Task<void> serve_connection(S& stream, Connection& connection, Core& core) {
  (void)core;
  internal::AttachedSignals signals(connection);
  co_await async::join(internal::read_loop(stream, connection),
                       internal::write_loop(stream, connection));
  connection.finish();
}

template <io::Listener L>
class Broker {
 public:
  using Stream = typename L::StreamType;
  // Frame storage of a connection's task while it handles packets or writes
  // (reader, writer, socket operations): 1,536 bytes used with gcc 12 at
  // -O2/-O3 (`mote broker -v` logs the high-water mark as each task ends).
  // An idle connection on a listener whose streams are io::ReadinessStream
  // holds none: busy connections take it from a pool, so it has room to
  // spare. Other streams hold it for the whole connection.
#if defined(NDEBUG) && defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
  static constexpr std::size_t kConnectionFrames = 4096;
#else
  static constexpr std::size_t kConnectionFrames = 8192;
#endif
  // Pooled task storage kept for connections that turn busy later; beyond
  // this many, storage is freed when its connection goes idle.
  static constexpr std::size_t kSpareSlots = 64;

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
    stopping_ = true;
    accept_storage_.cancel();
    commit_storage_.cancel();
    housekeeping_storage_.cancel();
    // Ended first: a connection that goes (its will published) wakes no other.
    for (Client& client : clients_) client.ended = true;
    for (Client& client : clients_) {
      if (client.slot) client.slot->storage.cancel();
    }
    clients_.clear();
    ended_.clear();
    if (core_) (void)core_->commit();
    stopping_ = false;
  }

  Core& core() { return *core_; }
  L& listener() { return listener_; }
  [[nodiscard]] std::size_t connection_count() const { return clients_.size() + served_; }
  [[nodiscard]] bool connection_limit_reached() const {
    return config_.limits.max_connections != 0 &&
           connection_count() >= config_.limits.max_connections;
  }
  [[nodiscard]] std::size_t max_packet_size() const { return config_.limits.max_packet_size; }
  // Connections on the listener holding task storage right now (the rest
  // are idle and hold none), and the pooled storage not in use.
  [[nodiscard]] std::size_t busy_connections() const { return busy_; }
  [[nodiscard]] std::size_t spare_slots() const { return spare_slots_.size(); }

  // Serves one client whose stream arrived another way (MQTT over
  // WebSocket, behind an HTTP server's upgrade hook) in the caller's task,
  // until its connection ends; that task holds its frames all along. It
  // counts towards max_connections (a full broker closes the stream at
  // once). stop() does not reach this task: the caller ends it (stops its
  // server) before the broker is destroyed.
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
  static constexpr bool kIdleWithoutFrames = io::ReadinessStream<Stream>;

  // What a busy connection holds: task storage, the buffer its writer
  // fills, the signals its tasks wait on.
  struct Slot {
    async::TaskStorage<kConnectionFrames> storage;
    std::vector<std::byte> out;
    ConnectionSignals signals;
    async::Event nudge;  // for the reader: data to read, or the writer is idle
  };

  // One connection from the listener. Idle (slot empty) it is this object
  // alone: registered for the stream's readability and as the connection's
  // observer, its read deadline checked by housekeeping.
  struct Client final : io::ReadinessListener, ConnectionObserver {
    Client(Broker& owner, Stream s)
        : connection(owner.core(), owner.config_.limits, owner.access_),
          stream(std::move(s)),
          broker(owner) {}
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client() { connection.attach(nullptr); }

    void on_readable() override { broker.readable(*this); }
    void on_output() override { broker.output(*this); }

    Connection connection;
    Stream stream;
    internal::ReadBuffer buffer;
    Broker& broker;
    std::unique_ptr<Slot> slot;  // while busy
    async::Instant deadline;     // for the next bytes (kNever: none)
    typename std::list<Client>::iterator self;
    bool ended = false;  // the stream is closed; reap() frees it
  };

  // What one busy stretch of a connection's reader and writer share.
  struct Stretch {
    bool writer_idle = false;  // waiting for output, with none
    bool reader_done = false;
    bool closed = false;  // the writer closed the stream
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

  // The read deadline from now (kNever when the connection has none).
  async::Instant read_deadline(const Connection& connection) const {
    const async::Duration timeout = connection.read_timeout();
    return timeout > async::Duration::zero() ? executor_->now() + timeout : async::kNever;
  }

  // --- busy and idle -----------------------------------------------------

  void readable(Client& client) {
    if (client.ended || stopping_) return;
    if (client.slot) {
      client.slot->nudge.set();  // the reader waits for it
      return;
    }
    make_busy(client);
  }

  void output(Client& client) {
    // A busy connection's writer waits on output_ready() itself.
    if (!client.ended && !stopping_ && !client.slot) make_busy(client);
  }

  // Starts a task for `client` in pooled storage.
  void make_busy(Client& client) {
    if constexpr (kIdleWithoutFrames) client.stream.stop_notify();
    if (spare_slots_.empty()) {
      client.slot = std::make_unique<Slot>();
    } else {
      client.slot = std::move(spare_slots_.back());
      spare_slots_.pop_back();
    }
    ++busy_;
    client.connection.attach(&client.slot->signals);
    const Status spawned =
        executor_->spawn(client.slot->storage, run_client, std::ref(*this), std::ref(client));
    if (!spawned.ok()) {
      MOTE_LOG_ERROR("broker: cannot serve '%s': %s", client.connection.client_id().c_str(),
                     spawned.str());
      release_slot(client);
      end(client);
    }
  }

  // Called by the client's own task as its last act (its frames go when
  // it returns, and nothing runs in between), or when it never started.
  void release_slot(Client& client) {
    --busy_;
    client.connection.attach(nullptr);
    MOTE_LOG_DEBUG("broker: '%s' idle (%zu of %zu frame bytes used)",
                   client.connection.client_id().c_str(), client.slot->storage.high_water_mark(),
                   client.slot->storage.capacity());
    if (spare_slots_.size() < kSpareSlots) {
      client.slot->out.clear();
      spare_slots_.push_back(std::move(client.slot));
    } else {
      retired_.push_back(std::move(client.slot));
    }
    client.slot.reset();
  }

  void end(Client& client) {
    client.ended = true;
    if constexpr (kIdleWithoutFrames) client.stream.stop_notify();
    client.stream.close();
    ended_.push_back(client.self);
  }

  // Frees ended connections, and storage whose task has finished since.
  void reap() {
    for (auto client : ended_) clients_.erase(client);
    ended_.clear();
    retired_.clear();
  }

  // --- a connection's task -----------------------------------------------

  // Reads while there is something to read, or the writer has something
  // to write. true: the connection goes on (idle); false: reading ended.
  static async::Task<bool> read_stretch(Broker& self, Client& client, Stretch& stretch) {
    Connection& connection = client.connection;
    for (;;) {
      if (connection.congested() || connection.backlog_full()) {
        if (!co_await internal::wait_for_room(connection)) co_return false;
      }
      if (!client.stream.read_ready()) {
        if (stretch.writer_idle && !connection.has_output()) co_return true;
        // Wait for data, the writer to run out of output, or the deadline.
        async::Event& nudge = client.slot->nudge;
        nudge.reset();
        client.stream.notify_readable(client);
        Status waited = ok_status();
        if (client.deadline == async::kNever) {
          co_await nudge.wait();
        } else {
          waited = co_await async::with_deadline(client.deadline, wait_for(nudge));
        }
        client.stream.stop_notify();
        if (!waited.ok()) {
          connection.on_read_end(true);
          co_return false;
        }
        continue;
      }
      const ByteSpan space = client.buffer.space();
      Result<std::size_t> n = client.deadline == async::kNever
                                  ? co_await internal::read_some(client.stream, space)
                                  : co_await async::with_deadline(
                                        client.deadline, internal::read_some(client.stream, space));
      if (!n.ok() || *n == 0) {
        connection.on_read_end(!n.ok() && n.status().code() == StatusCode::deadline_exceeded);
        co_return false;
      }
      client.buffer.filled(*n);
      if (!client.buffer.dispatch(connection)) co_return false;
      // The deadline runs from the last bytes read; after a CONNECT, with
      // the keep-alive it set.
      client.deadline = self.read_deadline(connection);
    }
  }

  static async::Task<void> wait_for(async::Event& event) { co_await event.wait(); }

  // Writes what the connection has to send while there is any, or while
  // the reader runs; closes the stream once the connection is closing.
  static async::Task<void> write_stretch(Client& client, Stretch& stretch,
                                         std::vector<std::byte>& out) {
    Connection& connection = client.connection;
    for (;;) {
      connection.output_ready().reset();
      const std::uint64_t ticket = connection.take_output(out, std::size_t{64} * 1024);
      if (out.empty()) {
        if (connection.closing()) break;
        if (stretch.reader_done) co_return;
        stretch.writer_idle = true;
        client.slot->nudge.set();
        co_await connection.output_ready().wait();
        stretch.writer_idle = false;
        continue;
      }
      if (ticket != 0) {
        // QoS 2 packet ids must be on disk before the PUBLISH is on the wire.
        connection.request_durable(ticket);
        co_await connection.durable().wait();
      }
      const Status written = co_await client.stream.write(out);
      if (!written.ok()) break;
    }
    internal::close_stream(client.stream, connection);
    stretch.closed = true;
    client.slot->nudge.set();
  }

  static async::Task<bool> read_then_signal(Broker& self, Client& client, Stretch& stretch) {
    const bool idle = co_await read_stretch(self, client, stretch);
    stretch.reader_done = true;
    client.connection.output_ready().set();  // the writer: end once out of output
    co_return idle;
  }

  // A connection's task: busy stretches until it can wait idle (it then
  // returns its storage to the pool) or the connection ends.
  static async::Task<void> run_client(Broker& self, Client& client) {
    if constexpr (kIdleWithoutFrames) {
      for (;;) {
        Stretch stretch;
        co_await async::join(read_then_signal(self, client, stretch),
                             write_stretch(client, stretch, client.slot->out));
        if (stretch.closed) break;
        Connection& connection = client.connection;
        if (connection.closing() || connection.has_output() || client.stream.read_ready()) {
          continue;
        }
        client.buffer.release_if_empty();
        connection.release_idle_buffers();
        client.stream.notify_readable(client);
        self.release_slot(client);
        co_return;
      }
    } else {
      co_await serve_connection(client.stream, client.connection, self.core());
    }
    client.connection.finish();
    self.release_slot(client);
    self.end(client);
  }

  // Idle connections whose read deadline passed: the keep-alive (1.5 times
  // the client's) or the CONNECT timeout.
  void check_deadlines() {
    const async::Instant now = executor_->now();
    for (Client& client : clients_) {
      if (client.ended || client.slot || client.deadline > now) continue;
      client.deadline = async::kNever;
      if constexpr (kIdleWithoutFrames) client.stream.stop_notify();
      client.connection.on_read_end(true);  // closing: a task writes the rest and closes
      if (!client.slot && !client.ended) make_busy(client);
    }
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
      Client& client = self.clients_.emplace_back(self, std::move(*stream));
      client.self = std::prev(self.clients_.end());
      client.connection.set_observer(&client);
      client.deadline = self.read_deadline(client.connection);
      if constexpr (kIdleWithoutFrames) {
        if (!client.stream.read_ready()) {
          client.stream.notify_readable(client);  // the CONNECT, when it comes
          continue;
        }
      }
      self.make_busy(client);
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
      if constexpr (kIdleWithoutFrames) self.check_deadlines();
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
  // Pooled storage before the clients: a client's task may hand its slot
  // back until the client goes.
  std::vector<std::unique_ptr<Slot>> spare_slots_;
  std::vector<std::unique_ptr<Slot>> retired_;  // tasks that ended; freed by reap()
  std::list<Client> clients_;
  std::vector<typename std::list<Client>::iterator> ended_;  // freed by reap()
  std::size_t busy_ = 0;
  std::size_t served_ = 0;  // connections in serve()
  bool stopping_ = false;
  async::Executor* executor_ = nullptr;
  async::TaskStorage<4096> accept_storage_;
  async::TaskStorage<1024> commit_storage_;
  async::TaskStorage<2048> housekeeping_storage_;
};

}  // namespace mote::broker
