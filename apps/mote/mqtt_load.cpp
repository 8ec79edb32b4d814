// The MQTT load generator (see mqtt_load.hpp).

#include "mqtt_load.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>

#include "mote/async/async.hpp"
#include "mote/async/event.hpp"
#include "mote/async/join.hpp"
#include "mote/async/semaphore.hpp"
#include "mote/async/sleep.hpp"
#include "mote/io/address.hpp"
#include "mote/mqtt/codec.hpp"
#include "mote/mqtt/packets.hpp"
#include "mote/mqtt/properties.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"

namespace mote::cli::mqtt_load {

const char* scenario_name(Scenario scenario) {
  switch (scenario) {
    case Scenario::fan_in: return "fan-in";
    case Scenario::fan_out: return "fan-out";
    case Scenario::pairs: return "pairs";
    case Scenario::idle: return "idle";
  }
  return "?";
}

// --- LatencyHistogram -----------------------------------------------------------

unsigned LatencyHistogram::index_of(std::uint64_t ns) {
  constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;
  if (ns < kSub) return static_cast<unsigned>(ns);
  // Values in [2^k, 2^(k+1)) for k >= kSubBits share 128 buckets of width 2^(k-kSubBits).
  const unsigned k = static_cast<unsigned>(std::bit_width(ns)) - 1;
  const unsigned shift = k - kSubBits;
  return ((shift + 1) << kSubBits) + static_cast<unsigned>((ns >> shift) - kSub);
}

std::uint64_t LatencyHistogram::upper_edge(unsigned index) {
  constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;
  if (index < kSub) return index;
  const unsigned shift = (index >> kSubBits) - 1;
  const std::uint64_t mantissa = kSub + (index & (kSub - 1));
  return ((mantissa + 1) << shift) - 1;
}

void LatencyHistogram::add(std::uint64_t ns) {
  ++buckets_[index_of(ns)];
  ++count_;
  sum_ += ns;
  max_ = std::max(max_, ns);
  min_ = std::min(min_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (unsigned i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

std::uint64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (unsigned i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(upper_edge(i), max_);
  }
  return max_;
}

std::string check_options(const LoadOptions& options) {
  if (options.clients == 0) return "--clients must be at least 1";
  if (options.payload_size < kHeaderBytes) {
    return "--size must be at least 16 (the send time, publisher and sequence number)";
  }
  if (options.scenario != Scenario::idle && options.count == 0 && options.duration.count() == 0) {
    return "the run must be bounded: give --count, --duration or both";
  }
  if (options.threads == 0) return "--threads must be at least 1";
  if (options.inflight == 0 || options.inflight > 65535) return "--inflight must be 1..65535";
  if (options.count > 0xffffffffULL) return "--count must fit in 32 bits";
  return {};
}

namespace {

using platform::KernelTcpStream;

std::uint64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000U +
         static_cast<std::uint64_t>(now.tv_nsec);
}

void store_le(std::byte* at, std::uint64_t value, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i) at[i] = static_cast<std::byte>(value >> (8 * i));
}

std::uint64_t load_le(const std::byte* at, unsigned bytes) {
  std::uint64_t value = 0;
  for (unsigned i = 0; i < bytes; ++i) value |= std::to_integer<std::uint64_t>(at[i]) << (8 * i);
  return value;
}

enum class Phase : std::uint8_t { connecting, publishing, stopping };

// Which sequence numbers of one publisher a subscriber has seen.
class SeenSet {
 public:
  // False when `sequence` was seen before.
  bool insert(std::uint32_t sequence) {
    const std::size_t word = sequence / 64;
    if (word >= bits_.size()) bits_.resize(std::max(word + 1, bits_.size() * 2));
    const std::uint64_t bit = std::uint64_t{1} << (sequence % 64);
    if ((bits_[word] & bit) != 0) return false;
    bits_[word] |= bit;
    return true;
  }

 private:
  std::vector<std::uint64_t> bits_;
};

enum class Role : std::uint8_t { publisher, subscriber, idle };

struct BenchClient {
  Role role = Role::idle;
  std::uint32_t index = 0;  // among the publishers, the subscribers or the idle connections
  std::string client_id;
  std::string topic;
  KernelTcpStream stream;
  std::vector<std::byte> rx;
  std::size_t rx_used = 0;
  std::vector<std::byte> tx;
  bool failed = false;
  bool closed = false;  // the connection ended (the publisher stops waiting)

  // Publisher.
  std::vector<std::byte> publish_template;  // one encoded PUBLISH
  std::size_t packet_id_offset = 0;
  std::size_t payload_offset = 0;
  std::uint32_t window = 0;  // min(--inflight, the broker's Receive Maximum)
  std::uint32_t inflight = 0;
  std::vector<std::uint64_t> ids_in_use = std::vector<std::uint64_t>(1024);  // 65536 bits
  std::uint16_t next_id = 1;
  std::vector<std::uint16_t> pubrels;  // PUBREC answered: PUBREL to send
  async::Event room;                   // an acknowledgement freed a slot, or PUBREL to send
  std::atomic<std::uint64_t> sent{0};
  std::uint64_t acknowledged = 0;
  std::uint64_t finished_ns = 0;  // last message written (and acknowledged)

  // Subscriber: publishers [first_publisher, first_publisher + publisher_count).
  std::uint32_t first_publisher = 0;
  std::uint32_t publisher_count = 0;
  std::vector<SeenSet> seen;
  std::unique_ptr<LatencyHistogram> latency;
  std::uint64_t received = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t foreign = 0;  // messages of a publisher it did not subscribe to
  std::uint64_t last_received_ns = 0;

  async::TaskStorage<4096> storage;
};

struct Shared {
  Shared(const LoadOptions& o, LoadProgress& p, io::Endpoint b)
      : options(o), progress(p), broker(b) {}
  const LoadOptions& options;
  LoadProgress& progress;
  io::Endpoint broker;
  std::atomic<Phase> phase{Phase::connecting};
  std::atomic<std::uint64_t> start_ns{0};
  std::uint64_t deadline_ns = 0;        // 0: none; set before phase becomes publishing
  double rate_per_publisher = 0;        // messages/s; 0: unlimited
  std::atomic<std::uint32_t> ready{0};  // connected (and subscribed), or failed
  std::atomic<std::uint32_t> publishers_done{0};
  std::atomic<std::uint64_t> acknowledged{0};
  std::mutex errors_mutex;
  std::vector<std::string> errors;
  std::uint32_t error_count = 0;

  void fail(BenchClient& client, const char* what, const Status& status) {
    if (client.failed) return;
    client.failed = true;
    std::lock_guard<std::mutex> lock(errors_mutex);
    ++error_count;
    if (errors.size() < 10) {
      char text[256];
      std::snprintf(text, sizeof text, "%s: %s (%s)", client.client_id.c_str(), what, status.str());
      errors.emplace_back(text);
    }
  }
};

// Appends the encoding of `packet` to `out`.
Status append_packet(const mqtt::Packet& packet, mqtt::ProtocolVersion version,
                     std::vector<std::byte>& out) {
  MOTE_TRY_ASSIGN(const std::size_t size, mqtt::encoded_size(packet, version));
  const std::size_t at = out.size();
  out.resize(at + size);
  MOTE_TRY_ASSIGN(const std::size_t written,
                  mqtt::encode_packet(packet, version, ByteSpan(out.data() + at, size)));
  out.resize(at + written);
  return ok_status();
}

// Appends a PUBACK/PUBREC/PUBREL/PUBCOMP: 2 bytes of fixed header and the packet id
// (success needs no reason code in MQTT 5 either, §3.4.2.1).
void append_ack(std::vector<std::byte>& out, mqtt::PacketType type, std::uint16_t id) {
  const std::uint8_t flags = type == mqtt::PacketType::pubrel ? 0x02 : 0x00;
  out.push_back(static_cast<std::byte>((static_cast<unsigned>(type) << 4) | flags));
  out.push_back(std::byte{2});
  out.push_back(static_cast<std::byte>(id >> 8));
  out.push_back(static_cast<std::byte>(id & 0xff));
}

// Reads until the receive buffer holds one whole packet; its size, 0 when the
// connection ended.
async::Task<Result<std::size_t>> read_frame(BenchClient& client) {
  for (;;) {
    const ConstByteSpan have(client.rx.data(), client.rx_used);
    const mqtt::DecodeResult<mqtt::Frame> frame = mqtt::frame_packet(have, client.rx.size());
    if (!frame.ok()) co_return Status::data_loss();
    if (frame->size != 0) co_return frame->size;
    if (client.rx_used == client.rx.size()) co_return Status::resource_exhausted();
    Result<std::size_t> n = co_await client.stream.read(
        ByteSpan(client.rx.data() + client.rx_used, client.rx.size() - client.rx_used));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return std::size_t{0};
    client.rx_used += *n;
  }
}

void drop_front(BenchClient& client, std::size_t bytes) {
  std::memmove(client.rx.data(), client.rx.data() + bytes, client.rx_used - bytes);
  client.rx_used -= bytes;
}

// Reads one packet of the handshake and decodes it into `packet` (whose views
// point into rx until drop_front).
async::Task<Result<std::size_t>> read_packet(BenchClient& client, const LoadOptions& options,
                                             mqtt::Packet& packet) {
  Result<std::size_t> size = co_await read_frame(client);
  if (!size.ok()) co_return size.status();
  if (*size == 0) co_return Status::aborted();
  mqtt::DecodeResult<mqtt::Packet> decoded =
      mqtt::decode_packet(ConstByteSpan(client.rx.data(), *size), options.version);
  if (!decoded.ok()) co_return decoded.status();
  packet = *decoded;
  co_return *size;
}

// TCP connect, CONNECT/CONNACK and, for a subscriber, SUBSCRIBE/SUBACK.
async::Task<Status> handshake(Shared& shared, BenchClient& client,
                              platform::KernelTcpConnector& connector,
                              async::Semaphore& connecting) {
  const LoadOptions& options = shared.options;
  co_await connecting.acquire();
  async::Semaphore::Guard slot(connecting);
  Result<KernelTcpStream> stream = co_await connector.connect(shared.broker);
  if (!stream.ok()) co_return stream.status();
  client.stream = std::move(*stream);
  (void)client.stream.set_no_delay(true);

  std::array<std::byte, 16> property_bytes;
  mqtt::Connect connect;
  connect.version = options.version;
  connect.clean_start = true;
  connect.keep_alive = options.keep_alive;
  connect.client_id = client.client_id;
  if (options.version == mqtt::ProtocolVersion::v5 && client.role == Role::subscriber) {
    // Let the broker keep as many QoS 1/2 messages in flight to us as it likes.
    mqtt::PropertyBuilder builder(property_bytes);
    builder.add_integer(mqtt::PropertyId::receive_maximum, 65535);
    MOTE_CO_TRY_ASSIGN(connect.properties, builder.properties());
  }
  client.tx.clear();
  MOTE_CO_TRY(append_packet(connect, options.version, client.tx));
  MOTE_CO_TRY(co_await client.stream.write(client.tx));

  mqtt::Packet packet;
  Result<std::size_t> size = co_await read_packet(client, options, packet);
  if (!size.ok()) co_return size.status();
  const auto* connack = std::get_if<mqtt::Connack>(&packet);
  if (connack == nullptr) co_return Status::data_loss();
  if (connack->reason != mqtt::ReasonCode::success) co_return Status::permission_denied();
  client.window = options.inflight;
  if (options.version == mqtt::ProtocolVersion::v5) {
    const std::optional<std::uint32_t> maximum =
        connack->properties.integer(mqtt::PropertyId::receive_maximum);
    if (maximum) client.window = std::min<std::uint32_t>(client.window, *maximum);
  }
  drop_front(client, *size);
  shared.progress.connected.fetch_add(1, std::memory_order_relaxed);

  if (client.role == Role::subscriber) {
    const std::array<mqtt::Subscription, 1> subscriptions = {
        {{client.topic, {.max_qos = options.qos}}}};
    mqtt::Subscribe subscribe{.packet_id = 1, .properties = {}, .subscriptions = subscriptions};
    client.tx.clear();
    MOTE_CO_TRY(append_packet(subscribe, options.version, client.tx));
    MOTE_CO_TRY(co_await client.stream.write(client.tx));
    size = co_await read_packet(client, options, packet);
    if (!size.ok()) co_return size.status();
    const auto* suback = std::get_if<mqtt::Suback>(&packet);
    if (suback == nullptr || suback->reasons.empty()) co_return Status::data_loss();
    if (static_cast<std::uint8_t>(suback->reasons[0]) >= 0x80) {
      co_return Status::permission_denied();
    }
    drop_front(client, *size);
  }
  co_return ok_status();
}

// The handshake, counted: the client is ready either way, and failed when
// it did not connect. True when it did.
async::Task<bool> connect_client(Shared& shared, BenchClient& client,
                                 platform::KernelTcpConnector& connector,
                                 async::Semaphore& connecting) {
  const Status connected = co_await handshake(shared, client, connector, connecting);
  if (!connected.ok()) {
    shared.fail(client, "connect", connected);
    shared.progress.failed.fetch_add(1);
  }
  shared.ready.fetch_add(1);
  co_return connected.ok();
}

async::Task<void> wait_for_publishing(Shared& shared) {
  while (shared.phase.load(std::memory_order_acquire) == Phase::connecting) {
    co_await async::sleep_for(std::chrono::milliseconds(1));
  }
}

// Builds the PUBLISH every message of this publisher is a copy of.
Status make_template(const LoadOptions& options, BenchClient& client) {
  std::vector<std::byte> payload(options.payload_size, std::byte{'x'});
  mqtt::Publish publish;
  publish.qos = options.qos;
  publish.topic = client.topic;
  publish.packet_id = options.qos == mqtt::QoS::at_most_once ? 0 : 1;
  publish.payload = ConstByteSpan(payload);
  client.publish_template.clear();
  MOTE_TRY(append_packet(publish, options.version, client.publish_template));
  client.payload_offset = client.publish_template.size() - payload.size();
  // The packet id sits right before the properties (v5) or the payload (3.1.1).
  const std::size_t property_bytes = options.version == mqtt::ProtocolVersion::v5 ? 1 : 0;
  client.packet_id_offset = client.payload_offset - property_bytes - 2;
  return ok_status();
}

std::uint16_t take_packet_id(BenchClient& client) {
  for (;;) {
    const std::uint16_t id = client.next_id;
    client.next_id = client.next_id == 65535 ? 1 : client.next_id + 1;
    std::uint64_t& word = client.ids_in_use[id / 64];
    const std::uint64_t bit = std::uint64_t{1} << (id % 64);
    if ((word & bit) == 0) {
      word |= bit;
      return id;
    }
  }
}

// True when `id` was in flight (and now is not).
bool release_packet_id(BenchClient& client, std::uint16_t id) {
  std::uint64_t& word = client.ids_in_use[id / 64];
  const std::uint64_t bit = std::uint64_t{1} << (id % 64);
  if ((word & bit) == 0) return false;
  word &= ~bit;
  return true;
}

// Moves the PUBRELs owed (for PUBRECs received) to tx.
void append_pubrels(BenchClient& client) {
  for (const std::uint16_t id : client.pubrels) {
    append_ack(client.tx, mqtt::PacketType::pubrel, id);
  }
  client.pubrels.clear();
}

// Writes PUBLISHes, batch after batch, within the window, the rate and the bounds.
async::Task<void> publish_loop(Shared& shared, BenchClient& client) {
  const LoadOptions& options = shared.options;
  const bool qos0 = options.qos == mqtt::QoS::at_most_once;
  const std::size_t packet_size = client.publish_template.size();
  // QoS 0 has no window: write about 64 KiB at a time.
  const std::uint64_t qos0_batch = std::max<std::size_t>(1, (std::size_t{64} * 1024) / packet_size);
  const std::uint64_t start = shared.start_ns.load(std::memory_order_acquire);
  std::uint64_t sent = 0;
  for (;;) {
    if (shared.phase.load(std::memory_order_relaxed) == Phase::stopping || client.closed) break;
    const std::uint64_t now = monotonic_ns();
    if (shared.deadline_ns != 0 && now >= shared.deadline_ns) break;
    if (options.count != 0 && sent >= options.count) break;
    std::uint64_t budget = qos0 ? qos0_batch : client.window - client.inflight;
    if (options.count != 0) budget = std::min(budget, options.count - sent);
    if (shared.rate_per_publisher > 0) {
      const double due = static_cast<double>(now - start) * 1e-9 * shared.rate_per_publisher;
      const auto allowed = static_cast<std::uint64_t>(due) + 1;
      if (allowed <= sent) {
        const double next_s = static_cast<double>(sent) / shared.rate_per_publisher;
        const auto wait_ns =
            static_cast<std::int64_t>(next_s * 1e9) - static_cast<std::int64_t>(now - start);
        co_await async::sleep_for(
            std::chrono::microseconds(std::max<std::int64_t>(wait_ns / 1000, 1)));
        continue;
      }
      budget = std::min(budget, allowed - sent);
    }
    client.tx.clear();
    append_pubrels(client);
    if (budget == 0 && client.tx.empty()) {
      client.room.reset();
      co_await client.room.wait();
      continue;
    }
    const std::size_t at = client.tx.size();
    client.tx.resize(at + budget * packet_size);
    std::byte* out = client.tx.data() + at;
    const std::uint64_t stamp = monotonic_ns();
    for (std::uint64_t i = 0; i < budget; ++i, out += packet_size) {
      std::memcpy(out, client.publish_template.data(), packet_size);
      if (!qos0) {
        const std::uint16_t id = take_packet_id(client);
        out[client.packet_id_offset] = static_cast<std::byte>(id >> 8);
        out[client.packet_id_offset + 1] = static_cast<std::byte>(id & 0xff);
      }
      std::byte* payload = out + client.payload_offset;
      store_le(payload, stamp, 8);
      store_le(payload + 8, client.index, 4);
      store_le(payload + 12, sent + i, 4);
    }
    if (!qos0) client.inflight += static_cast<std::uint32_t>(budget);
    const Status written = co_await client.stream.write(client.tx);
    if (!written.ok()) {
      if (shared.phase.load() != Phase::stopping) shared.fail(client, "write", written);
      break;
    }
    sent += budget;
    client.sent.store(sent, std::memory_order_relaxed);
    shared.progress.sent.fetch_add(budget, std::memory_order_relaxed);
    // Without a wait in the loop (QoS 0 into a socket with room) let the
    // other clients of this thread run.
    co_await async::yield_now();
  }
  // The stragglers: PUBRELs still to send, acknowledgements still to come.
  while (!client.failed && !client.closed && (client.inflight > 0 || !client.pubrels.empty())) {
    if (!client.pubrels.empty()) {
      client.tx.clear();
      append_pubrels(client);
      if (!(co_await client.stream.write(client.tx)).ok()) break;
      continue;
    }
    client.room.reset();
    co_await client.room.wait();
  }
  client.finished_ns = monotonic_ns();
  shared.publishers_done.fetch_add(1, std::memory_order_acq_rel);
}

// Decodes the whole packets in rx, hands each to `handle`, keeps the rest.
template <typename Handle>
void take_packets(Shared& shared, BenchClient& client, Handle&& handle) {
  std::size_t consumed = 0;
  for (;;) {
    const ConstByteSpan unread(client.rx.data() + consumed, client.rx_used - consumed);
    const mqtt::DecodeResult<mqtt::Frame> frame = mqtt::frame_packet(unread, client.rx.size());
    if (!frame.ok()) {
      shared.fail(client, "bad packet from the broker", frame.status());
      break;
    }
    if (frame->size == 0) break;
    const mqtt::DecodeResult<mqtt::Packet> packet =
        mqtt::decode_packet(unread.first(frame->size), shared.options.version);
    consumed += frame->size;
    if (!packet.ok()) {
      shared.fail(client, "bad packet from the broker", packet.status());
      break;
    }
    if (std::holds_alternative<mqtt::Disconnect>(*packet)) {
      shared.fail(client, "DISCONNECT from the broker", Status::aborted());
      break;
    }
    handle(*packet);
  }
  if (consumed != 0) drop_front(client, consumed);
}

// Reads what the broker sends a publisher: PUBACK, PUBREC, PUBCOMP.
async::Task<void> acknowledgement_loop(Shared& shared, BenchClient& client) {
  for (;;) {
    Result<std::size_t> n = co_await client.stream.read(
        ByteSpan(client.rx.data() + client.rx_used, client.rx.size() - client.rx_used));
    if (!n.ok() || *n == 0) {
      if (shared.phase.load() != Phase::stopping && client.finished_ns == 0) {
        shared.fail(client, "the broker closed the connection",
                    n.ok() ? Status::aborted() : n.status());
      }
      break;
    }
    client.rx_used += *n;
    std::uint64_t acknowledged = 0;
    take_packets(shared, client, [&](const mqtt::Packet& packet) {
      if (const auto* puback = std::get_if<mqtt::Puback>(&packet)) {
        if (release_packet_id(client, puback->packet_id)) {
          --client.inflight;
          ++acknowledged;
        }
      } else if (const auto* pubrec = std::get_if<mqtt::Pubrec>(&packet)) {
        if (static_cast<std::uint8_t>(pubrec->reason) >= 0x80) {
          // Refused: the flow ends here (§4.3.3).
          if (release_packet_id(client, pubrec->packet_id)) --client.inflight;
        } else {
          client.pubrels.push_back(pubrec->packet_id);
        }
      } else if (const auto* pubcomp = std::get_if<mqtt::Pubcomp>(&packet)) {
        if (release_packet_id(client, pubcomp->packet_id)) {
          --client.inflight;
          ++acknowledged;
        }
      }
    });
    client.acknowledged += acknowledged;
    shared.acknowledged.fetch_add(acknowledged, std::memory_order_relaxed);
    client.room.set();
    if (client.failed) break;
  }
  client.closed = true;
  client.room.set();
}

async::Task<void> run_publisher(Shared& shared, BenchClient& client,
                                platform::KernelTcpConnector& connector,
                                async::Semaphore& connecting) {
  const bool connected = co_await connect_client(shared, client, connector, connecting);
  if (!connected) co_return;  // not awaited in the condition: docs/async.md#pitfalls
  co_await wait_for_publishing(shared);
  co_await async::join(publish_loop(shared, client), acknowledgement_loop(shared, client));
}

// Handles the PUBLISHes in rx; appends the acknowledgements to tx.
void take_messages(Shared& shared, BenchClient& client, std::uint64_t now) {
  std::uint64_t fresh = 0;
  take_packets(shared, client, [&](const mqtt::Packet& packet) {
    if (const auto* publish = std::get_if<mqtt::Publish>(&packet)) {
      if (publish->qos == mqtt::QoS::at_least_once) {
        append_ack(client.tx, mqtt::PacketType::puback, publish->packet_id);
      } else if (publish->qos == mqtt::QoS::exactly_once) {
        append_ack(client.tx, mqtt::PacketType::pubrec, publish->packet_id);
      }
      const std::byte* header = publish->payload.data();
      const auto publisher = publish->payload.size() < kHeaderBytes
                                 ? ~std::uint32_t{0}
                                 : static_cast<std::uint32_t>(load_le(header + 8, 4));
      if (publisher < client.first_publisher ||
          publisher - client.first_publisher >= client.publisher_count) {
        ++client.foreign;
        return;
      }
      const std::uint64_t sent_ns = load_le(header, 8);
      const auto sequence = static_cast<std::uint32_t>(load_le(header + 12, 4));
      if (client.seen[publisher - client.first_publisher].insert(sequence)) {
        ++client.received;
        ++fresh;
        client.latency->add(now > sent_ns ? now - sent_ns : 0);
      } else {
        ++client.duplicates;
      }
    } else if (const auto* pubrel = std::get_if<mqtt::Pubrel>(&packet)) {
      append_ack(client.tx, mqtt::PacketType::pubcomp, pubrel->packet_id);
    }
  });
  if (fresh != 0) {
    client.last_received_ns = now;
    shared.progress.received.fetch_add(fresh, std::memory_order_relaxed);
  }
}

async::Task<void> run_subscriber(Shared& shared, BenchClient& client,
                                 platform::KernelTcpConnector& connector,
                                 async::Semaphore& connecting) {
  const bool connected = co_await connect_client(shared, client, connector, connecting);
  if (!connected) co_return;  // not awaited in the condition: docs/async.md#pitfalls
  for (;;) {
    if (client.rx_used == client.rx.size()) client.rx.resize(client.rx.size() * 2);
    Result<std::size_t> n = co_await client.stream.read(
        ByteSpan(client.rx.data() + client.rx_used, client.rx.size() - client.rx_used));
    if (!n.ok() || *n == 0) {
      if (shared.phase.load() != Phase::stopping) {
        shared.fail(client, "the broker closed the connection",
                    n.ok() ? Status::aborted() : n.status());
      }
      co_return;
    }
    client.rx_used += *n;
    client.tx.clear();
    take_messages(shared, client, monotonic_ns());
    if (client.failed) co_return;
    if (!client.tx.empty() && !(co_await client.stream.write(client.tx)).ok()) co_return;
  }
}

// Connects, then holds the connection, pinging at the keep-alive period.
async::Task<void> run_idle(Shared& shared, BenchClient& client,
                           platform::KernelTcpConnector& connector, async::Semaphore& connecting) {
  const bool connected = co_await connect_client(shared, client, connector, connecting);
  if (!connected) co_return;  // not awaited in the condition: docs/async.md#pitfalls
  client.rx.clear();
  client.rx.shrink_to_fit();
  client.tx.clear();
  client.tx.shrink_to_fit();
  if (shared.options.keep_alive == 0) co_return;  // the stream stays open in the client
  const std::array<std::byte, 2> pingreq = {std::byte{0xC0}, std::byte{0}};
  for (;;) {
    co_await async::sleep_for(std::chrono::seconds(shared.options.keep_alive));
    // PINGRESPs are left unread: a few bytes in the kernel's buffer.
    if (!(co_await client.stream.write(pingreq)).ok()) co_return;
  }
}

void run_thread(Shared& shared, const std::vector<BenchClient*>& clients,
                std::uint32_t max_connecting) {
  platform::EpollDriver driver;
  if (!driver.status().ok()) {
    for (BenchClient* client : clients) {
      shared.fail(*client, "epoll", driver.status());
      shared.progress.failed.fetch_add(1);
      shared.ready.fetch_add(1);
    }
    return;
  }
  async::Executor executor(driver);
  platform::KernelTcpConnector connector(driver);
  async::Semaphore connecting(max_connecting);
  for (BenchClient* client : clients) {
    Status spawned;
    switch (client->role) {
      case Role::publisher:
        spawned = executor.spawn(client->storage, run_publisher, std::ref(shared),
                                 std::ref(*client), std::ref(connector), std::ref(connecting));
        break;
      case Role::subscriber:
        spawned = executor.spawn(client->storage, run_subscriber, std::ref(shared),
                                 std::ref(*client), std::ref(connector), std::ref(connecting));
        break;
      case Role::idle:
        spawned = executor.spawn(client->storage, run_idle, std::ref(shared), std::ref(*client),
                                 std::ref(connector), std::ref(connecting));
        break;
    }
    if (!spawned.ok()) {
      shared.fail(*client, "spawn", spawned);
      shared.progress.failed.fetch_add(1);
      shared.ready.fetch_add(1);
    }
  }
  while (shared.phase.load(std::memory_order_acquire) != Phase::stopping) {
    const Status ran = executor.run_for(std::chrono::milliseconds(20));
    if (ran.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // all ended
  }
  for (BenchClient* client : clients) {
    if (client->storage.state() == async::TaskState::finished &&
        client->storage.exit_status().code() == StatusCode::resource_exhausted) {
      shared.fail(*client, "task frames", client->storage.exit_status());
    }
    client->storage.cancel();
  }
  executor.run_until_stalled();
  for (BenchClient* client : clients) client->stream.close();
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

Result<io::Endpoint> resolve(const LoadOptions& options) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(options.host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return Status::not_found();
  }
  char text[64] = {};
  const int failed =
      getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
  freeaddrinfo(found);
  if (failed != 0) return Status::not_found();
  MOTE_TRY_ASSIGN(const io::IpAddress address, io::IpAddress::parse(text));
  return io::Endpoint{address, options.port};
}

}  // namespace

LoadReport run_load(const LoadOptions& options, LoadProgress& progress,
                    const std::atomic<bool>& stop, const std::function<void()>& on_tick) {
  LoadReport report;
  report.options = options;
  const Result<io::Endpoint> broker = resolve(options);
  if (!broker.ok()) {
    report.errors.push_back("cannot resolve '" + options.host + "'");
    return report;
  }
  Shared shared(options, progress, *broker);

  // The clients and their topics.
  const std::uint32_t n = options.clients;
  std::uint32_t publishers = 0;
  std::uint32_t subscribers = 0;
  switch (options.scenario) {
    case Scenario::fan_in: publishers = n, subscribers = 1; break;
    case Scenario::fan_out: publishers = 1, subscribers = n; break;
    case Scenario::pairs: publishers = n, subscribers = n; break;
    case Scenario::idle: break;
  }
  report.publishers = publishers;
  report.subscribers = subscribers;
  char run_id[48];
  std::snprintf(run_id, sizeof run_id, "%d-%llx", static_cast<int>(getpid()),
                static_cast<unsigned long long>(monotonic_ns() & 0xffffffffffULL));
  const std::string base = options.topic_prefix + "/" + run_id + "/";
  std::vector<std::unique_ptr<BenchClient>> clients;
  const auto add = [&](Role role, std::uint32_t index, const char* tag, std::uint32_t topic) {
    auto client = std::make_unique<BenchClient>();
    client->role = role;
    client->index = index;
    client->client_id = std::string("mb-") + run_id + "-" + tag + std::to_string(index);
    client->topic = base + std::to_string(topic);
    const std::size_t packet = options.payload_size + client->topic.size() + 64;
    client->rx.resize(
        role == Role::idle ? 256 : std::max<std::size_t>(std::size_t{64} * 1024, 2 * packet));
    clients.push_back(std::move(client));
  };
  const bool one_topic = options.scenario != Scenario::pairs;
  for (std::uint32_t i = 0; i < publishers; ++i) add(Role::publisher, i, "p", one_topic ? 0 : i);
  for (std::uint32_t i = 0; i < subscribers; ++i) {
    add(Role::subscriber, i, "s", one_topic ? 0 : i);
    BenchClient& subscriber = *clients.back();
    subscriber.first_publisher = one_topic ? 0 : i;
    subscriber.publisher_count = one_topic ? publishers : 1;
    subscriber.seen.resize(subscriber.publisher_count);
    subscriber.latency = std::make_unique<LatencyHistogram>();
  }
  if (options.scenario == Scenario::idle) {
    for (std::uint32_t i = 0; i < n; ++i) add(Role::idle, i, "i", 0);
  }
  for (auto& client : clients) {
    if (client->role == Role::publisher && !make_template(options, *client).ok()) {
      report.errors.emplace_back("cannot encode a PUBLISH of that size and topic");
      return report;
    }
  }

  // The threads: clients dealt out in turn, so each thread has a share of every role.
  const std::uint32_t threads =
      std::min<std::uint32_t>(options.threads, static_cast<std::uint32_t>(clients.size()));
  std::vector<std::vector<BenchClient*>> shares(threads);
  for (std::size_t i = 0; i < clients.size(); ++i) shares[i % threads].push_back(clients[i].get());
  const std::uint32_t per_thread_connecting =
      std::max<std::uint32_t>(1, options.max_connecting / threads);
  const std::uint64_t begin = monotonic_ns();
  const double cpu_at_start = process_cpu_seconds();
  std::vector<std::thread> workers;
  for (std::uint32_t t = 0; t < threads; ++t) {
    workers.emplace_back(run_thread, std::ref(shared), std::cref(shares[t]), per_thread_connecting);
  }
  const auto tick = [&]() {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (on_tick) on_tick();
  };
  const auto total = static_cast<std::uint32_t>(clients.size());
  const auto connect_limit = static_cast<std::uint64_t>(options.connect_timeout.count()) * 1000000;

  // 1. Every connection up (and subscribed).
  bool go = true;
  for (;;) {
    if (shared.ready.load() >= total) break;
    if (stop.load() || monotonic_ns() - begin > connect_limit) {
      go = false;
      if (!stop.load()) report.errors.emplace_back("connections not up within the connect timeout");
      break;
    }
    tick();
  }
  report.connect_seconds = static_cast<double>(monotonic_ns() - begin) * 1e-9;
  if (progress.failed.load() != 0 && options.scenario != Scenario::idle) go = false;

  std::uint64_t start = 0;
  if (go && options.scenario == Scenario::idle) {
    progress.holding = true;
    const auto hold = options.duration.count() > 0 ? options.duration : std::chrono::seconds(10);
    const std::uint64_t until = monotonic_ns() + static_cast<std::uint64_t>(hold.count()) * 1000000;
    while (!stop.load() && monotonic_ns() < until) tick();
  } else if (go) {
    // 2. Publishing, until every publisher is done or makes no progress for `drain`.
    if (options.rate > 0) shared.rate_per_publisher = options.rate / publishers;
    start = monotonic_ns();
    if (options.duration.count() > 0) {
      shared.deadline_ns = start + static_cast<std::uint64_t>(options.duration.count()) * 1000000;
    }
    shared.start_ns.store(start, std::memory_order_release);
    shared.phase.store(Phase::publishing, std::memory_order_release);
    progress.publishing = true;
    const auto drain_ns = static_cast<std::uint64_t>(options.drain.count()) * 1000000;
    std::uint64_t last_change = monotonic_ns();
    std::uint64_t last_seen = 0;
    while (!stop.load() && shared.publishers_done.load() < publishers) {
      tick();
      const std::uint64_t seen = progress.sent.load() + shared.acknowledged.load();
      const std::uint64_t now = monotonic_ns();
      if (seen != last_seen) {
        last_seen = seen;
        last_change = now;
      } else if (now - last_change > drain_ns) {
        report.errors.emplace_back("publishers made no progress for the drain time");
        break;
      }
    }
    // 3. Draining: subscribers receive the rest.
    std::uint64_t expected = 0;
    for (const auto& client : clients) {
      if (client->role == Role::publisher) {
        expected += client->sent.load() * (one_topic ? subscribers : 1);
      }
    }
    const std::uint64_t drain_until = monotonic_ns() + drain_ns;
    while (!stop.load() && progress.received.load() < expected && monotonic_ns() < drain_until) {
      tick();
    }
  }
  shared.phase.store(Phase::stopping, std::memory_order_release);
  for (std::thread& worker : workers) worker.join();
  report.cpu_seconds = process_cpu_seconds() - cpu_at_start;
  if (on_tick) on_tick();

  // The figures.
  report.connected = progress.connected.load();
  report.failed = progress.failed.load();
  std::uint64_t last_publish = start;
  std::uint64_t last_receive = start;
  for (const auto& client : clients) {
    if (client->role == Role::publisher) {
      const std::uint64_t sent = client->sent.load();
      report.sent += sent;
      report.acknowledged += client->acknowledged;
      report.expected += sent * (one_topic ? subscribers : 1);
      last_publish = std::max(last_publish, client->finished_ns);
    } else if (client->role == Role::subscriber) {
      report.received += client->received;
      report.duplicates += client->duplicates;
      if (client->foreign != 0) {
        report.errors.push_back(client->client_id + ": " + std::to_string(client->foreign) +
                                " messages not from its publishers");
      }
      last_receive = std::max(last_receive, client->last_received_ns);
      report.latency.merge(*client->latency);
    }
  }
  report.lost = report.expected > report.received ? report.expected - report.received : 0;
  if (start != 0) {
    report.publish_seconds = static_cast<double>(last_publish - start) * 1e-9;
    report.receive_seconds = static_cast<double>(last_receive - start) * 1e-9;
  }
  for (std::string& error : shared.errors) report.errors.push_back(std::move(error));
  if (shared.error_count > shared.errors.size()) {
    report.errors.push_back(std::to_string(shared.error_count - shared.errors.size()) +
                            " more client errors");
  }
  return report;
}

}  // namespace mote::cli::mqtt_load
