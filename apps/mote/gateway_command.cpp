// `mote gateway`: the system's main program (docs/gateway.md). On one
// EpollDriver executor:
//
//   MQTT broker ──observer <prefix>/+/+──┐
//   CoAP POST/PUT /<prefix>/<d>/<m> ─────┼─> ingest ─> DeviceTracker (online, alerts)
//                                        │          ─> pending batch ─> TelemetryStore
//                                        │          ─> live feed (WebSocket /api/live)
//                                        └────────> CoAP resources (latest reading, Observe)
//   HTTP: /api/... (store + tracker), /metrics, the dashboard's files, /api/live
//
// Tasks besides the servers: the batch flusher (every 100 ms, or at once at
// 500 samples: one transaction each), the tracker's tick at next_deadline(),
// retention at start and every hour, and the supervisor that waits for
// SIGINT/SIGTERM and stops everything cleanly (the last batch flushed, the
// broker's store committed).
#define MOTE_LOG_MODULE "gateway"

#include "gateway_command.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

#include "mote/async/async.hpp"
#include "mote/base/log.hpp"
#include "mote/broker/broker.hpp"
#include "mote/broker/config.hpp"
#include "mote/broker/websocket.hpp"
#include "mote/coap/server.hpp"
#include "mote/gateway/api_json.hpp"
#include "mote/gateway/config.hpp"
#include "mote/gateway/device_tracker.hpp"
#include "mote/gateway/ingest.hpp"
#include "mote/gateway/prometheus.hpp"
#include "mote/http/router.hpp"
#include "mote/http/server.hpp"
#include "mote/http/static_files.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "mote/telemetry/store.hpp"
#include "mote/websocket/connection.hpp"
#include "mote_version.hpp"
#include "stop_signals.hpp"

namespace mote::cli {
namespace {

using namespace std::chrono_literals;
using async::Task;
using platform::KernelTcpListener;
using platform::KernelTcpStream;
using platform::KernelUdpSocket;
using BrokerOnKernel = broker::Broker<KernelTcpListener>;
using HttpServer = http::Server<KernelTcpListener>;
using CoapServer = coap::Server<KernelUdpSocket, 4096, 64>;

constexpr std::size_t kFlushAtSamples = 500;
constexpr auto kFlushInterval = 100ms;
constexpr auto kRetentionInterval = 1h;
// A live client further behind than this many messages is closed (1008).
constexpr std::size_t kLiveQueueLimit = 2048;
constexpr auto kLiveSendTimeout = 10s;
// Bad messages logged per minute; the rest are counted.
constexpr unsigned kBadInputLogsPerMinute = 10;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string endpoint_text(const io::Endpoint& endpoint) {
  char text[io::Endpoint::kMaxTextLen + 1] = {};
  const Result<std::size_t> n = endpoint.format(std::span<char>(text, sizeof text - 1));
  return n.ok() ? std::string(text, *n) : std::string("?");
}

// --- bad input, logged without flooding the log ---------------------------

class BadInputLog {
 public:
  void report(const char* via, std::string_view where, const char* why) {
    ++total_;
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= 1min) {
      if (suppressed_ > 0) {
        MOTE_LOG_WARN("%u more bad messages dropped in the last minute", suppressed_);
      }
      window_start_ = now;
      logged_ = 0;
      suppressed_ = 0;
    }
    if (logged_ < kBadInputLogsPerMinute) {
      ++logged_;
      MOTE_LOG_WARN("dropped a message (%s %.*s): %s", via, static_cast<int>(where.size()),
                    where.data(), why);
    } else {
      ++suppressed_;
    }
  }
  [[nodiscard]] std::uint64_t total() const { return total_; }

 private:
  std::chrono::steady_clock::time_point window_start_{};
  unsigned logged_ = 0;
  unsigned suppressed_ = 0;
  std::uint64_t total_ = 0;
};

// --- the live feed --------------------------------------------------------

// One WebSocket client's queue. The gateway only ever appends; the client's
// own task sends, so a slow client never holds anything else up.
struct LiveClient {
  std::deque<std::string> queue;
  async::Event ready;
  bool overflowed = false;  // fell kLiveQueueLimit behind: to be closed with 1008
  bool done = false;        // the client closed or the connection failed
  bool going_away = false;  // the gateway stops: close with 1001
};

class LiveHub {
 public:
  void broadcast(const std::string& message) {
    for (LiveClient* client : clients_) {
      if (client->overflowed) continue;
      if (client->queue.size() >= kLiveQueueLimit) {
        client->overflowed = true;
        client->queue.clear();
      } else {
        client->queue.push_back(message);
      }
      client->ready.set();
    }
  }
  [[nodiscard]] std::size_t size() const { return clients_.size(); }
  // The gateway is stopping: every client is closed with 1001 (going away).
  void close_all() {
    for (LiveClient* client : clients_) {
      client->going_away = true;
      client->ready.set();
    }
  }

  // Registers a client for as long as it lives (also when its task is
  // cancelled: the frame's destructors run).
  class Membership {
   public:
    Membership(LiveHub& hub, LiveClient& client) : hub_(hub), client_(client) {
      hub_.clients_.push_back(&client_);
    }
    Membership(const Membership&) = delete;
    Membership& operator=(const Membership&) = delete;
    ~Membership() { std::erase(hub_.clients_, &client_); }

   private:
    LiveHub& hub_;
    LiveClient& client_;
  };

 private:
  std::vector<LiveClient*> clients_;
};

// --- the gateway ----------------------------------------------------------

class Gateway;

// CoAP: GET (observable) /<prefix>/<device>/<metric> gives the latest
// reading; POST/PUT there ingests one. The path string lives in a base
// constructed before coap::Resource, which keeps a view of it.
struct ResourcePath {
  std::string text;
};

class ReadingResource final : private ResourcePath, public coap::Resource {
 public:
  ReadingResource(Gateway& gateway, std::string path)
      : ResourcePath{std::move(path)},
        coap::Resource(ResourcePath::text, {.resource_type = "mote.reading",
                                            .interface = {},
                                            .content_format = 50,  // application/json
                                            .observable = true,
                                            .title = {}}),
        gateway_(gateway) {}
  void handle(const coap::ServerRequest& request, coap::ResponseBuilder& response) override;
  std::string latest;  // reading_json(): {"value": ..., "unit": ..., "time_ms": ...}

 private:
  Gateway& gateway_;
};

// Paths without a resource yet: the first reading of a metric creates its
// ReadingResource.
class IngestResource final : public coap::Resource {
 public:
  explicit IngestResource(Gateway& gateway) : coap::Resource(""), gateway_(gateway) {}
  void handle(const coap::ServerRequest& request, coap::ResponseBuilder& response) override;

 private:
  Gateway& gateway_;
};

class Gateway {
 public:
  Gateway(gateway::GatewayConfig config, telemetry::TelemetryStore store)
      : config_(std::move(config)),
        store_(std::move(store)),
        tracker_(config_.devices),
        ingest_resource_(*this) {}

  const gateway::GatewayConfig& config() const { return config_; }
  telemetry::TelemetryStore& store() { return store_; }
  gateway::DeviceTracker& tracker() { return tracker_; }
  LiveHub& hub() { return hub_; }
  BadInputLog& bad_input() { return bad_input_; }
  async::Event& flush_wanted() { return flush_wanted_; }
  std::uint64_t samples_received() const { return samples_received_; }
  std::uint64_t samples_stored() const { return samples_stored_; }
  IngestResource& ingest_resource() { return ingest_resource_; }
  void set_coap(CoapServer* server) { coap_ = server; }

  // Devices known from the store start offline; their metrics get their
  // CoAP resources with the last stored reading.
  void load_known_devices() {
    Result<std::vector<telemetry::DeviceSummary>> devices = store_.devices();
    if (!devices.ok()) {
      MOTE_LOG_ERROR("cannot read the devices from the store: %s", devices.status().str());
      return;
    }
    for (const telemetry::DeviceSummary& device : *devices) {
      tracker_.add_known(device.name);
      for (const telemetry::MetricSummary& metric : device.metrics) {
        telemetry::Sample last{device.name, metric.name, metric.last_time_ms, metric.last_value,
                               metric.unit};
        update_resource(last);
      }
    }
  }

  // One message from MQTT (topic) or CoAP (path without the leading '/').
  // On bad input, `why` says what is wrong (for a CoAP 4.00's payload).
  Status ingest(const char* via, std::string_view topic, std::string_view payload,
                const char*& why) {
    Result<gateway::Route> route = gateway::route_topic(config_.topic_prefix, topic);
    if (!route.ok()) {
      why = "not <prefix>/<device>/<metric> (names: 1-64 of A-Z a-z 0-9 _ . -)";
      bad_input_.report(via, topic, why);
      return Status::invalid_argument();
    }
    const std::int64_t now = wall_ms();
    if (route->kind == gateway::Route::Kind::status) {
      Result<bool> online = gateway::parse_status(payload);
      if (!online.ok()) {
        why = "a status is online or offline";
        bad_input_.report(via, topic, why);
        return Status::invalid_argument();
      }
      heard_.insert(route->device);
      handle(tracker_.on_status(route->device, *online, now));
      return ok_status();
    }
    Result<gateway::ReadingPayload> reading = gateway::parse_reading(payload);
    if (!reading.ok()) {
      why =
          "a reading is a number or {\"value\": number, \"unit\": string (<= 16 bytes), "
          "\"time_ms\": integer}, finite, at most 1 KiB";
      bad_input_.report(via, topic, why);
      return Status::invalid_argument();
    }
    ++samples_received_;
    heard_.insert(route->device);
    telemetry::Sample sample{route->device, route->metric, reading->time_ms.value_or(now),
                             reading->value, reading->unit};
    hub_.broadcast(gateway::live_sample_json(sample));
    update_resource(sample);
    pending_.push_back(std::move(sample));
    handle(tracker_.on_reading(route->device, route->metric, reading->value, now));
    if (pending_.size() >= kFlushAtSamples) {
      flush().ignore_error();  // logged by flush
    } else {
      flush_wanted_.set();
    }
    return ok_status();
  }

  // Tracker events: alerts go out at once; device changes after the next
  // flush, so the device object sent includes the readings that caused them.
  void handle(const std::vector<gateway::TrackerEvent>& events) {
    for (const gateway::TrackerEvent& event : events) {
      switch (event.kind) {
        case gateway::TrackerEvent::Kind::device_changed: {
          const gateway::DeviceState* state = tracker_.device(event.device);
          MOTE_LOG_INFO("%s is %s", event.device.c_str(),
                        state != nullptr && state->online ? "online" : "offline");
          if (std::find(changed_devices_.begin(), changed_devices_.end(), event.device) ==
              changed_devices_.end()) {
            changed_devices_.push_back(event.device);
          }
          flush_wanted_.set();
          break;
        }
        case gateway::TrackerEvent::Kind::alert_raised:
          MOTE_LOG_WARN("alert: %s", event.alert.message.c_str());
          hub_.broadcast(gateway::live_alert_json(event.alert, true));
          break;
        case gateway::TrackerEvent::Kind::alert_cleared:
          MOTE_LOG_INFO("alert cleared: %s", event.alert.id.c_str());
          hub_.broadcast(gateway::live_alert_json(event.alert, false));
          break;
      }
    }
  }

  // Appends the pending samples in one transaction, then sends the device
  // changes that waited for them. Not ok: the samples could not be stored
  // (and are dropped: their senders get no acknowledgement, so they send
  // them again).
  Status flush() {
    Status status;
    if (!pending_.empty()) {
      Result<std::size_t> stored = store_.append(pending_);
      if (stored.ok()) {
        samples_stored_ += *stored;
      } else {
        MOTE_LOG_ERROR("storing %zu samples failed: %s", pending_.size(), stored.status().str());
        status = stored.status();
        unacknowledged_failure_ = status;
      }
      pending_.clear();
    }
    for (const std::string& name : changed_devices_) {
      hub_.broadcast(gateway::live_device_json(summary_of(name), tracker_));
    }
    changed_devices_.clear();
    return status;
  }

  // The telemetry store as one of the broker's durable stores: writes are
  // pending while samples wait or a failed flush was not yet reported, and
  // a commit stores the batch and reports any failure since the last one,
  // so the broker withholds the acknowledgements of what was lost.
  broker::Core::DurableStore durable_store() {
    return {[this] { return pending_.size() + (unacknowledged_failure_.ok() ? 0 : 1); },
            [this] {
              Status status = flush();
              if (status.ok()) status = unacknowledged_failure_;
              unacknowledged_failure_ = ok_status();
              return status;
            }};
  }

  // The store's devices, and those heard from that have no reading stored
  // yet (only a status so far), which the tracker shows online.
  Result<std::vector<telemetry::DeviceSummary>> devices() {
    MOTE_TRY_ASSIGN(std::vector<telemetry::DeviceSummary> devices, store_.devices());
    for (const std::string& name : heard_) {
      const auto at = std::lower_bound(devices.begin(), devices.end(), name,
                                       [](const telemetry::DeviceSummary& device,
                                          const std::string& key) { return device.name < key; });
      if (at != devices.end() && at->name == name) continue;
      telemetry::DeviceSummary summary;
      summary.name = name;
      devices.insert(at, std::move(summary));
    }
    return devices;
  }
  // nullopt: neither stored nor heard from.
  Result<std::optional<telemetry::DeviceSummary>> device(const std::string& name) {
    MOTE_TRY_ASSIGN(std::optional<telemetry::DeviceSummary> stored, store_.device(name));
    if (!stored && heard_.contains(name)) {
      stored.emplace();
      stored->name = name;
    }
    return stored;
  }

  telemetry::DeviceSummary summary_of(const std::string& name) {
    Result<std::optional<telemetry::DeviceSummary>> stored = store_.device(name);
    if (stored.ok() && stored->has_value()) return std::move(**stored);
    telemetry::DeviceSummary summary;
    summary.name = name;
    return summary;
  }

 private:
  void update_resource(const telemetry::Sample& sample) {
    const std::string path = config_.topic_prefix + "/" + sample.device + "/" + sample.metric;
    auto found = resources_.find(path);
    if (found == resources_.end()) {
      found = resources_.emplace(path, std::make_unique<ReadingResource>(*this, path)).first;
      if (coap_ != nullptr) coap_->add(*found->second);
    }
    found->second->latest = gateway::reading_json(sample);
    if (coap_ != nullptr) coap_->notify(*found->second);
  }

 public:
  // Adds every resource made before the CoAP server existed.
  void add_resources_to(CoapServer& server) {
    coap_ = &server;
    for (auto& [path, resource] : resources_) server.add(*resource);
    server.set_fallback(ingest_resource_);
  }
  void remove_resources() {
    if (coap_ == nullptr) return;
    for (auto& [path, resource] : resources_) coap_->remove(*resource);
    coap_ = nullptr;
  }

 private:
  gateway::GatewayConfig config_;
  telemetry::TelemetryStore store_;
  gateway::DeviceTracker tracker_;
  LiveHub hub_;
  BadInputLog bad_input_;
  std::vector<telemetry::Sample> pending_;
  Status unacknowledged_failure_;  // a flush failed since the broker's last commit
  std::vector<std::string> changed_devices_;
  std::set<std::string> heard_;  // devices heard from since the start
  async::Event flush_wanted_;
  std::uint64_t samples_received_ = 0;
  std::uint64_t samples_stored_ = 0;
  CoapServer* coap_ = nullptr;
  IngestResource ingest_resource_;
  std::map<std::string, std::unique_ptr<ReadingResource>> resources_;
};

void ingest_over_coap(Gateway& gateway, const coap::ServerRequest& request,
                      coap::ResponseBuilder& response) {
  char path[256];
  const Result<std::size_t> size = request.message.uri_path(path);
  if (!size.ok()) {
    response.set_code(coap::codes::kNotFound);
    return;
  }
  const char* why = "";
  const std::string_view payload(reinterpret_cast<const char*>(request.payload.data()),
                                 request.payload.size());
  if (gateway.ingest("coap", std::string_view(path, *size), payload, why).ok()) {
    // 2.04 says the reading is stored: the handler may not wait for the
    // next batch, so the batch is stored now (a separate response per
    // reading would cost the node an extra exchange).
    response.set_code(gateway.flush().ok() ? coap::codes::kChanged
                                           : coap::codes::kInternalServerError);
    return;
  }
  response.set_code(coap::codes::kBadRequest);
  response.set_content_format(coap::ContentFormat::text_plain);
  response.write(std::string_view(why));
}

bool is_update(const coap::Message& message) {
  return message.code() == coap::codes::kPost || message.code() == coap::codes::kPut;
}

void ReadingResource::handle(const coap::ServerRequest& request, coap::ResponseBuilder& response) {
  if (!request.notification && is_update(request.message)) {
    ingest_over_coap(gateway_, request, response);
    return;
  }
  if (!request.notification && request.message.code() != coap::codes::kGet) {
    response.set_code(coap::codes::kMethodNotAllowed);
    return;
  }
  response.set_content_format(coap::ContentFormat::json);
  response.write(std::string_view(latest));
}

void IngestResource::handle(const coap::ServerRequest& request, coap::ResponseBuilder& response) {
  if (is_update(request.message)) {
    ingest_over_coap(gateway_, request, response);
    return;
  }
  response.set_code(coap::codes::kNotFound);
}

// --- HTTP -----------------------------------------------------------------

constexpr std::string_view kJson = "application/json";

void keep_first_error(Status& first, Status next) {
  if (first.ok()) first = next;
}

Task<Status> get_devices(Gateway& gateway, http::ResponseWriter& response) {
  Result<std::vector<telemetry::DeviceSummary>> devices = gateway.devices();
  if (!devices.ok()) {
    co_return co_await response.send(500, gateway::error_json(devices.status().str()), kJson);
  }
  const std::string body = gateway::devices_json(*devices, gateway.tracker());
  co_return co_await response.send(200, body, kJson);
}

Task<Status> get_device(Gateway& gateway, http::Request& request, http::ResponseWriter& response) {
  const std::string name(request.param("name"));
  Result<std::optional<telemetry::DeviceSummary>> device = gateway.device(name);
  if (!device.ok()) {
    co_return co_await response.send(500, gateway::error_json(device.status().str()), kJson);
  }
  if (!device->has_value()) {
    co_return co_await response.send(404, gateway::error_json("no device '" + name + "'"), kJson);
  }
  const std::string body = gateway::device_json(**device, gateway.tracker());
  co_return co_await response.send(200, body, kJson);
}

Task<Status> get_history(Gateway& gateway, http::Request& request, http::ResponseWriter& response) {
  telemetry::HistoryQuery query;
  query.device = std::string(request.param("name"));
  query.metric = std::string(request.param("metric"));
  const Result<gateway::HistoryRange> range =
      gateway::parse_history_query(request.query, wall_ms());
  if (!range.ok()) {
    co_return co_await response.send(
        400,
        gateway::error_json("from and to are integers (ms since the epoch, from < to), "
                            "points 1..100000"),
        kJson);
  }
  query.from_ms = range->from_ms;
  query.to_ms = range->to_ms;
  query.max_points = range->points;
  Result<telemetry::History> history = gateway.store().history(query);
  if (history.status() == Status::not_found()) {
    co_return co_await response.send(
        404, gateway::error_json("no metric '" + query.metric + "' of '" + query.device + "'"),
        kJson);
  }
  if (!history.ok()) {
    co_return co_await response.send(500, gateway::error_json(history.status().str()), kJson);
  }
  const std::string body = gateway::history_json(query.device, query.metric, *history);
  co_return co_await response.send(200, body, kJson);
}

Task<Status> get_alerts(Gateway& gateway, http::ResponseWriter& response) {
  const std::string body = gateway::alerts_json(gateway.tracker().alerts());
  co_return co_await response.send(200, body, kJson);
}

Task<Status> get_metrics(Gateway& gateway, std::size_t mqtt_clients,
                         http::ResponseWriter& response) {
  Result<std::vector<telemetry::DeviceSummary>> devices = gateway.devices();
  if (!devices.ok()) {
    co_return co_await response.send(500, gateway::error_json(devices.status().str()), kJson);
  }
  gateway::GatewayCounters counters;
  counters.samples_received = gateway.samples_received();
  counters.samples_stored = gateway.samples_stored();
  counters.bad_messages = gateway.bad_input().total();
  counters.mqtt_clients = mqtt_clients;
  counters.live_clients = gateway.hub().size();
  const std::string body = gateway::prometheus_text(*devices, gateway.tracker(), counters);
  co_return co_await response.send(200, body, gateway::kPrometheusContentType);
}

// --- /api/live ------------------------------------------------------------

struct LiveBuffers {
  std::array<std::byte, 4096> read{};
  std::array<std::byte, 16384> write{};
  std::array<std::byte, 1024> message{};
};
using LiveSocket = websocket::Connection<websocket::BorrowedStream<KernelTcpStream>>;

// Reads what the client sends (nothing is expected; pings are answered on
// the way) until it closes.
Task<void> live_receive(LiveSocket& socket, LiveClient& client, LiveBuffers& buffers) {
  for (;;) {
    Result<websocket::Message> message = co_await socket.receive(buffers.message);
    if (!message.ok() || message->type == websocket::MessageType::close) break;
  }
  client.done = true;
  client.ready.set();
}

Task<void> live_send(LiveSocket& socket, LiveClient& client, KernelTcpStream& stream) {
  for (;;) {
    if (client.done) break;
    if (client.overflowed || client.going_away) {
      if (client.overflowed) {
        MOTE_LOG_WARN("a live client fell %zu messages behind: closing it (1008)", kLiveQueueLimit);
      }
      // (Code and reason are chosen first: gcc 12 destroys a Task made in a
      // conditional expression inside co_await twice.)
      const std::uint16_t code =
          client.overflowed ? websocket::kClosePolicyViolation : websocket::kCloseGoingAway;
      const std::string_view reason =
          client.overflowed ? "too slow for the live feed" : "the gateway is stopping";
      const Status closing = co_await async::with_timeout(1s, socket.close(code, reason));
      // The client's answering close ends live_receive (done): up to a second.
      for (int waits = 0; closing.ok() && !client.done && waits < 50; ++waits) {
        co_await async::sleep_for(20ms);
      }
      break;
    }
    if (client.queue.empty()) {
      client.ready.reset();
      co_await client.ready.wait();
      continue;
    }
    const std::string message = std::move(client.queue.front());
    client.queue.pop_front();
    if (!(co_await async::with_timeout(kLiveSendTimeout, socket.send_text(message))).ok()) break;
  }
  stream.close();  // ends a receive still waiting
}

Task<void> serve_live(Gateway& gateway, http::Request& request, KernelTcpStream& stream,
                      ConstByteSpan received) {
  auto buffers = std::make_unique<LiveBuffers>();
  LiveSocket socket(websocket::BorrowedStream<KernelTcpStream>(stream), websocket::Role::server,
                    {buffers->read, buffers->write});
  if (!(co_await socket.accept(*request.head, {}, received)).ok()) co_return;
  LiveClient client;
  const LiveHub::Membership membership(gateway.hub(), client);
  MOTE_LOG_DEBUG("live client connected (%zu)", gateway.hub().size());
  co_await async::join(live_receive(socket, client, *buffers), live_send(socket, client, stream));
  MOTE_LOG_DEBUG("live client gone");
}

// --- tasks ----------------------------------------------------------------

Task<void> flush_loop(Gateway& gateway) {
  for (;;) {
    co_await gateway.flush_wanted().wait();
    co_await async::sleep_for(kFlushInterval);
    gateway.flush_wanted().reset();
    gateway.flush().ignore_error();  // logged by flush
  }
}

Task<void> tick_loop(Gateway& gateway) {
  for (;;) {
    // New readings only move deadlines later, and a device heard for the
    // first time gets one silent_after away: waking at least every second
    // is soon enough for both.
    async::Duration wait = 1s;
    if (const std::optional<std::int64_t> next = gateway.tracker().next_deadline()) {
      const std::int64_t until = std::max<std::int64_t>(*next - wall_ms(), 1);
      wait = std::min<async::Duration>(wait, std::chrono::milliseconds(until));
    }
    co_await async::sleep_for(wait);
    gateway.handle(gateway.tracker().tick(wall_ms()));
  }
}

Task<void> retention_loop(Gateway& gateway) {
  for (;;) {
    Result<telemetry::RetentionResult> removed = gateway.store().enforce_retention(wall_ms());
    if (!removed.ok()) {
      MOTE_LOG_ERROR("retention failed: %s", removed.status().str());
    } else if (removed->raw_deleted + removed->minute_deleted + removed->hour_deleted > 0) {
      MOTE_LOG_INFO("retention: removed %llu raw samples, %llu minute and %llu hour rollups",
                    static_cast<unsigned long long>(removed->raw_deleted),
                    static_cast<unsigned long long>(removed->minute_deleted),
                    static_cast<unsigned long long>(removed->hour_deleted));
    }
    co_await async::sleep_for(kRetentionInterval);
  }
}

Task<Status> run_coap(CoapServer& server) { co_return co_await server.run(); }

struct Running {
  Gateway& gateway;
  BrokerOnKernel& broker;
  HttpServer& http;
  async::TaskStorage<2048> flusher;
  async::TaskStorage<2048> ticker;
  async::TaskStorage<2048> retention;
  async::TaskStorage<8192> coap;
  async::TaskStorage<2048> supervisor;
};

Task<void> supervise(Running& running, platform::FdWatch& signals) {
  const int signal = co_await next_signal(signals);
  MOTE_LOG_INFO("%s received: stopping", signal_name(signal));
  // Live clients get a close frame (1001) before their connections go.
  running.gateway.hub().close_all();
  for (int waits = 0; waits < 100 && running.gateway.hub().size() > 0; ++waits) {
    co_await async::sleep_for(20ms);
  }
  running.http.stop();
  running.coap.cancel();
  running.flusher.cancel();
  running.ticker.cancel();
  running.retention.cancel();
  running.broker.stop();
  running.gateway.flush().ignore_error();  // logged by flush
}

// --- configuration --------------------------------------------------------

// The environment's MOTE_DASHBOARD_DIR (an override, for dashboard work);
// else the installed files beside this program (<prefix>/bin/mote and
// <prefix>/share/mote/dashboard), found without any configuration; else the
// build tree's, for a `mote` run from the build directory.
std::string default_dashboard_dir() {
  if (const char* override_dir = std::getenv("MOTE_DASHBOARD_DIR");
      override_dir != nullptr && override_dir[0] != '\0') {
    return override_dir;
  }
  std::error_code error;
  const std::filesystem::path program = std::filesystem::read_symlink("/proc/self/exe", error);
  const std::filesystem::path installed =
      error ? std::filesystem::path("share/mote/dashboard")
            : program.parent_path().parent_path() / "share" / "mote" / "dashboard";
  if (std::filesystem::exists(installed / "index.html", error)) return installed.string();
#ifdef MOTE_DASHBOARD_DIR
  if (std::filesystem::exists(std::filesystem::path(MOTE_DASHBOARD_DIR) / "index.html", error)) {
    return MOTE_DASHBOARD_DIR;
  }
#endif
  return installed.string();
}

class GatewayCommand final : public Command {
 public:
  [[nodiscard]] const char* name() const override { return "gateway"; }
  [[nodiscard]] const char* summary() const override {
    return "Run the gateway: MQTT broker, CoAP, telemetry store, dashboard";
  }
  [[nodiscard]] const char* description() const override {
    return "Runs the gateway until Ctrl-C: the MQTT broker, a CoAP endpoint, the telemetry\n"
           "store (SQLite), the HTTP API with Prometheus /metrics, and the live dashboard.\n"
           "Nodes publish <prefix>/<device>/<metric> (docs/gateway.md). Settings come from\n"
           "the TOML file given with -c (gateway/mote-gateway.toml lists every key); the\n"
           "flags below override it.";
  }
  void declare(Options& options) override {
    options.text("-c,--config", config_path_, "The TOML configuration file");
    options.text("--data-dir", data_dir_, "Where the gateway keeps its state (default mote-data)");
    options.text("--bind", bind_, "Address every listener binds (default 127.0.0.1)");
    options.integer("--mqtt-port", mqtt_port_, "MQTT port (default: the config file's, else 1883)",
                    0, 65535);
    options.integer("--http-port", http_port_,
                    "HTTP port: dashboard, API (default: the config file's, else 8080)", 0, 65535);
    options.integer("--coap-port", coap_port_,
                    "CoAP port, UDP (default: the config file's, else 5683)", 0, 65535);
    options.integer("--silent-after", silent_after_,
                    "Seconds without a message before a device is offline (default 60)", 1,
                    std::int64_t{86400} * 365);
    options.flag("--mqtt-websocket", mqtt_websocket_,
                 "Serve MQTT over WebSocket at /mqtt on the HTTP port (the default)");
    options.flag("--no-mqtt-websocket", no_mqtt_websocket_,
                 "Do not serve MQTT over WebSocket (config: mqtt.websocket = false)");
    options.flag("-v,--verbose", verbose_, "Log at debug level");
  }
  int run(const GlobalOptions& global) override {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    gateway::GatewayConfig config;
    if (!config_path_.empty()) {
      std::string error;
      Result<gateway::GatewayConfig> loaded = gateway::load_gateway_config(config_path_, error);
      if (!loaded.ok()) {
        std::fprintf(stderr, "mote gateway: %s\n",
                     error.empty() ? ("cannot read " + config_path_).c_str() : error.c_str());
        return kExitUsage;
      }
      config = std::move(*loaded);
    }
    if (!data_dir_.empty()) config.data_dir = data_dir_;
    if (!bind_.empty()) {
      if (!io::IpAddress::parse(bind_).ok()) {
        std::fprintf(stderr, "mote gateway: --bind wants an IP address, not '%s'\n", bind_.c_str());
        return kExitUsage;
      }
      config.mqtt.bind = config.http.bind = config.coap.bind = bind_;
    }
    if (mqtt_port_ >= 0) config.mqtt.port = static_cast<std::uint16_t>(mqtt_port_);
    if (http_port_ >= 0) config.http.port = static_cast<std::uint16_t>(http_port_);
    if (coap_port_ >= 0) config.coap.port = static_cast<std::uint16_t>(coap_port_);
    if (mqtt_websocket_ && no_mqtt_websocket_) {
      std::fprintf(stderr, "mote gateway: --mqtt-websocket and --no-mqtt-websocket together\n");
      return kExitUsage;
    }
    if (mqtt_websocket_) config.mqtt_websocket = true;
    if (no_mqtt_websocket_) config.mqtt_websocket = false;
    if (silent_after_ > 0) config.devices.silent_after = std::chrono::seconds(silent_after_);
    // -v, else --log-level when it was given (not the default), else the file's.
    if (verbose_) {
      log::set_runtime_level(log::Level::debug);
    } else if (global.log_level == log::Level::info) {
      log::set_runtime_level(config.log_level == "debug"   ? log::Level::debug
                             : config.log_level == "warn"  ? log::Level::warn
                             : config.log_level == "error" ? log::Level::error
                                                           : log::Level::info);
    }
    if (config.dashboard_dir.empty()) config.dashboard_dir = default_dashboard_dir();
    return serve(config);
  }

 private:
  static Result<io::Endpoint> endpoint_of(const gateway::ListenConfig& listen) {
    MOTE_TRY_ASSIGN(io::IpAddress address, io::IpAddress::parse(listen.bind));
    return io::Endpoint{address, listen.port};
  }

  static int serve(const gateway::GatewayConfig& config) {
    std::error_code error;
    std::filesystem::create_directories(config.data_dir, error);
    if (error) {
      MOTE_LOG_ERROR("cannot create the data directory %s: %s", config.data_dir.c_str(),
                     error.message().c_str());
      return kExitFailure;
    }
    const std::filesystem::path data_dir = std::filesystem::absolute(config.data_dir, error);
    const std::filesystem::path store_path = data_dir / config.store_path;

    const Result<io::Endpoint> mqtt_at = endpoint_of(config.mqtt);
    const Result<io::Endpoint> http_at = endpoint_of(config.http);
    const Result<io::Endpoint> coap_at = endpoint_of(config.coap);
    if (!mqtt_at.ok() || !http_at.ok() || !coap_at.ok()) {
      MOTE_LOG_ERROR("a bind address is not an IP address (%s, %s, %s)", config.mqtt.bind.c_str(),
                     config.http.bind.c_str(), config.coap.bind.c_str());
      return kExitUsage;
    }

    telemetry::StoreOptions store_options;
    store_options.path = store_path.string();
    store_options.raw_retention = config.raw_retention;
    store_options.minute_retention = config.minute_retention;
    store_options.hour_retention = config.hour_retention;
    Result<telemetry::TelemetryStore> store = telemetry::TelemetryStore::open(store_options);
    if (!store.ok()) {
      MOTE_LOG_ERROR("cannot open the telemetry store %s: %s", store_options.path.c_str(),
                     store.status().str());
      return kExitFailure;
    }

    platform::EpollDriver driver;
    StopSignals signals;
    if (!prepare_to_run(driver, signals)) return kExitFailure;
    async::Executor executor(driver);

    Gateway gateway(config, std::move(*store));
    gateway.load_known_devices();

    // MQTT.
    broker::BrokerConfig broker_config;
    broker_config.listen = *mqtt_at;
    broker_config.data_directory = (data_dir / "broker").string();
    Result<KernelTcpListener> mqtt_listener = KernelTcpListener::listen(driver, *mqtt_at);
    if (!mqtt_listener.ok()) {
      MOTE_LOG_ERROR("MQTT: cannot listen on %s: %s", endpoint_text(*mqtt_at).c_str(),
                     mqtt_listener.status().str());
      return kExitFailure;
    }
    Result<std::unique_ptr<BrokerOnKernel>> broker =
        BrokerOnKernel::open(broker_config, std::move(*mqtt_listener));
    if (!broker.ok()) {
      MOTE_LOG_ERROR("MQTT: cannot start the broker: %s", broker.status().str());
      return kExitFailure;
    }
    (*broker)->core().observe(
        config.topic_prefix + "/+/+", [&gateway](const broker::Message& message) {
          const char* why = "";
          const std::string_view payload(reinterpret_cast<const char*>(message.payload.data()),
                                         message.payload.size());
          gateway.ingest("mqtt", message.topic, payload, why).ignore_error();  // reported by ingest
        });
    // A QoS 1/2 reading is acknowledged once it is in the telemetry store
    // too: the broker's group commit stores the pending batch first.
    (*broker)->core().add_durable_store(gateway.durable_store());

    // CoAP.
    Result<KernelUdpSocket> coap_socket = KernelUdpSocket::bind(driver, *coap_at);
    if (!coap_socket.ok()) {
      MOTE_LOG_ERROR("CoAP: cannot bind %s: %s", endpoint_text(*coap_at).c_str(),
                     coap_socket.status().str());
      return kExitFailure;
    }
    auto coap = std::make_unique<CoapServer>(*coap_socket, static_cast<std::uint32_t>(wall_ms()));
    gateway.add_resources_to(*coap);

    // HTTP.
    Result<KernelTcpListener> http_listener = KernelTcpListener::listen(driver, *http_at);
    if (!http_listener.ok()) {
      MOTE_LOG_ERROR("HTTP: cannot listen on %s: %s", endpoint_text(*http_at).c_str(),
                     http_listener.status().str());
      return kExitFailure;
    }
    http::StaticFiles files(config.dashboard_dir);
    if (!files.status().ok()) {
      MOTE_LOG_WARN("no dashboard at %s (%s): the API works, / answers 404",
                    config.dashboard_dir.c_str(), files.status().str());
    }
    BrokerOnKernel& mqtt = **broker;
    http::Router router;
    Status routes = router.add("GET", "/api/devices",
                               [&gateway](http::Request&, http::ResponseWriter& response) {
                                 return get_devices(gateway, response);
                               });
    keep_first_error(routes,
                     router.add("GET", "/api/devices/{name}",
                                [&gateway](http::Request& request, http::ResponseWriter& response) {
                                  return get_device(gateway, request, response);
                                }));
    keep_first_error(routes,
                     router.add("GET", "/api/devices/{name}/metrics/{metric}/history",
                                [&gateway](http::Request& request, http::ResponseWriter& response) {
                                  return get_history(gateway, request, response);
                                }));
    keep_first_error(routes, router.add("GET", "/api/alerts",
                                        [&gateway](http::Request&, http::ResponseWriter& response) {
                                          return get_alerts(gateway, response);
                                        }));
    keep_first_error(routes,
                     router.add("GET", "/metrics",
                                [&gateway, &mqtt](http::Request&, http::ResponseWriter& response) {
                                  return get_metrics(gateway, mqtt.core().stats().clients_connected,
                                                     response);
                                }));
    keep_first_error(routes,
                     router.add("GET", "/{path...}",
                                [&files](http::Request& request, http::ResponseWriter& response) {
                                  return files.serve(request, response, request.param("path"));
                                }));
    HttpServer http(*http_listener, router);
    keep_first_error(routes, http.on_upgrade("/api/live", [&gateway](http::Request& request,
                                                                     KernelTcpStream& stream,
                                                                     ConstByteSpan received) {
      return serve_live(gateway, request, stream, received);
    }));
    if (config.mqtt_websocket) {
      keep_first_error(
          routes, http.on_upgrade("/mqtt", [&mqtt](http::Request& request, KernelTcpStream& stream,
                                                   ConstByteSpan received) {
            return broker::serve_mqtt_websocket(mqtt, request, stream, received);
          }));
    }
    if (!routes.ok()) {
      MOTE_LOG_ERROR("cannot set up the HTTP routes: %s", routes.str());
      return kExitFailure;
    }

    Running running{gateway, mqtt, http, {}, {}, {}, {}, {}};
    for (const Status started :
         {mqtt.start(executor), http.start(executor),
          executor.spawn(running.coap, run_coap, std::ref(*coap)),
          executor.spawn(running.flusher, flush_loop, std::ref(gateway)),
          executor.spawn(running.ticker, tick_loop, std::ref(gateway)),
          executor.spawn(running.retention, retention_loop, std::ref(gateway)),
          executor.spawn(running.supervisor, supervise, std::ref(running),
                         std::ref(signals.watch()))}) {
      if (!started.ok()) {
        MOTE_LOG_ERROR("cannot start a task: %s", started.str());
        return kExitFailure;
      }
    }

    const std::string http_text = endpoint_text(*http_listener->local_endpoint());
    const io::Endpoint http_local = *http_listener->local_endpoint();
    const std::string dashboard_host =
        http_local.address.is_unspecified() ? "localhost" : endpoint_text(http_local);
    const std::string dashboard_url =
        http_local.address.is_unspecified()
            ? "http://localhost:" + std::to_string(http_local.port) + "/"
            : "http://" + dashboard_host + "/";
    const std::string mqtt_websocket_line =
        config.mqtt_websocket ? "  MQTT/WS    ws://" +
                                    (http_local.address.is_unspecified()
                                         ? "localhost:" + std::to_string(http_local.port)
                                         : dashboard_host) +
                                    "/mqtt   (MQTT over WebSocket, subprotocol mqtt)\n"
                              : "";
    std::printf(
        "mote gateway %s\n"
        "  dashboard  %s\n"
        "  MQTT       %s   readings: %s/<device>/<metric>, status: %s/<device>/status\n"
        "%s"
        "  CoAP       %s (udp)   POST/PUT/GET /%s/<device>/<metric>\n"
        "  HTTP       %s   /api/devices, /api/alerts, /api/live (WebSocket), /metrics\n"
        "  data       %s   (telemetry: %s, broker: broker/)\n"
        "  dashboard files: %s\n"
        "  devices are offline after %llds of silence; Ctrl-C stops\n",
        kVersion, dashboard_url.c_str(), endpoint_text(*mqtt.listener().local_endpoint()).c_str(),
        config.topic_prefix.c_str(), config.topic_prefix.c_str(), mqtt_websocket_line.c_str(),
        endpoint_text(*coap_socket->local_endpoint()).c_str(), config.topic_prefix.c_str(),
        http_text.c_str(), data_dir.c_str(), config.store_path.c_str(),
        config.dashboard_dir.c_str(),
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::seconds>(config.devices.silent_after).count()));

    const Status ran = executor.run();
    gateway.remove_resources();
    mqtt.stop();
    gateway.flush().ignore_error();  // logged by flush
    std::printf("mote gateway: stopped (%llu readings received, %llu stored)\n",
                static_cast<unsigned long long>(gateway.samples_received()),
                static_cast<unsigned long long>(gateway.samples_stored()));
    if (!ran.ok()) {
      MOTE_LOG_ERROR("stopped early: %s", ran.str());
      return kExitFailure;
    }
    return kExitOk;
  }

  std::string config_path_;
  std::string data_dir_;
  std::string bind_;
  std::int64_t mqtt_port_ = -1;
  std::int64_t http_port_ = -1;
  std::int64_t coap_port_ = -1;
  std::int64_t silent_after_ = -1;
  bool mqtt_websocket_ = false;
  bool no_mqtt_websocket_ = false;
  bool verbose_ = false;
};

}  // namespace

std::unique_ptr<Command> make_gateway_command() { return std::make_unique<GatewayCommand>(); }

}  // namespace mote::cli
