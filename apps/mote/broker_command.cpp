// `mote broker [-p PORT] [-c CONFIG] [-d DIR] [-v]`: runs the MQTT broker
// until SIGINT or SIGTERM. The config file takes mosquitto's common lines
// (see broker/include/mote/broker/config.hpp and docs/broker.md); -p and -d
// override what it says.

#include "broker_command.hpp"

#include <cstdio>
#include <limits>
#include <list>
#include <string>

#include "mote/async/async.hpp"
#include "mote/base/log.hpp"
#include "mote/broker/broker.hpp"
#include "mote/broker/config.hpp"
#include "mote/broker/websocket.hpp"
#include "mote/http/router.hpp"
#include "mote/http/server.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "stop_signals.hpp"

namespace mote::cli {
namespace {

using BrokerOnKernel = broker::Broker<platform::KernelTcpListener>;
using HttpServer = http::Server<platform::KernelTcpListener>;

// A `protocol websockets` listener: an HTTP server that upgrades every
// path to MQTT over WebSocket (as mosquitto does) and answers 404 otherwise.
struct WebSocketListener {
  platform::KernelTcpListener listener;
  http::Router router;
  std::unique_ptr<HttpServer> server;
};

async::Task<void> wait_for_stop(platform::FdWatch& signals, BrokerOnKernel& running,
                                std::list<WebSocketListener>& websockets) {
  const int signal = co_await next_signal(signals);
  MOTE_LOG_INFO("broker: stopping (%s)", signal_name(signal));
  // The WebSocket clients' tasks belong to the HTTP servers: end them first.
  for (WebSocketListener& websocket : websockets) websocket.server->stop();
  running.stop();
}

std::string endpoint_text(const Result<io::Endpoint>& endpoint) {
  char text[io::Endpoint::kMaxTextLen + 1] = {};
  if (endpoint.ok()) {
    const Result<std::size_t> n = endpoint->format(std::span<char>(text, sizeof text - 1));
    if (!n.ok()) text[0] = '\0';
  }
  return text;
}

Status open_websocket_listeners(platform::EpollDriver& driver, const broker::BrokerConfig& config,
                                BrokerOnKernel& running, std::list<WebSocketListener>& out) {
  http::ServerOptions options;
  options.max_connections = config.limits.max_connections != 0
                                ? config.limits.max_connections
                                : std::numeric_limits<std::size_t>::max();
  for (const io::Endpoint& endpoint : config.websocket_listeners) {
    Result<platform::KernelTcpListener> listener =
        platform::KernelTcpListener::listen(driver, endpoint);
    if (!listener.ok()) {
      MOTE_LOG_ERROR("broker: cannot listen on port %u (websockets): %s",
                     static_cast<unsigned>(endpoint.port), listener.status().str());
      return listener.status();
    }
    WebSocketListener& added = out.emplace_back();
    added.listener = std::move(*listener);
    added.server = std::make_unique<HttpServer>(added.listener, added.router, options);
    MOTE_TRY(added.server->on_upgrade(
        "/{path...}", [&running](http::Request& request, platform::KernelTcpStream& stream,
                                 ConstByteSpan received) {
          return broker::serve_mqtt_websocket(running, request, stream, received);
        }));
  }
  return ok_status();
}

class BrokerCommand final : public Command {
 public:
  [[nodiscard]] const char* name() const override { return "broker"; }
  [[nodiscard]] const char* summary() const override { return "Run the MQTT 3.1.1 / 5.0 broker"; }
  [[nodiscard]] const char* description() const override {
    return "Runs the MQTT broker until Ctrl-C. The config file takes mosquitto's common lines\n"
           "(listener, protocol websockets, allow_anonymous, password_file, acl_file,\n"
           "persistence_location, max_connections, message_size_limit, ...). With a data\n"
           "directory, retained messages and persistent sessions survive restarts and\n"
           "kill -9; QoS 1/2 messages are acknowledged only once stored.";
  }
  void declare(Options& options) override {
    options.integer("-p,--port", port_, "TCP port (default: the config's listener, else 1883)", 0,
                    65535);
    options.text("-c,--config", config_path_, "A mosquitto-style config file");
    options.text("-d,--data-dir", data_dir_,
                 "Directory for the broker's database (overrides persistence_location)");
    options.text("-b,--bind", bind_, "Address to listen on (overrides the config)");
    options.flag("-v,--verbose", verbose_, "Log every connection (debug level)");
  }
  int run(const GlobalOptions&) override {
    if (verbose_) log::set_runtime_level(log::Level::debug);
    broker::BrokerConfig config;
    if (!config_path_.empty() && !broker::load_config(config_path_, config).ok()) {
      std::fprintf(stderr, "mote broker: cannot use %s\n", config_path_.c_str());
      return kExitUsage;
    }
    if (port_ >= 0) {
      config.listen.port = static_cast<std::uint16_t>(port_);
      config.listen_mqtt = true;
    }
    if (!data_dir_.empty()) config.data_directory = data_dir_;
    if (!bind_.empty()) {
      const Result<io::IpAddress> address = io::IpAddress::parse(bind_);
      if (!address.ok()) {
        std::fprintf(stderr, "mote broker: --bind wants an IP address, not '%s'\n", bind_.c_str());
        return kExitUsage;
      }
      config.listen.address = *address;
    }
    return serve(config);
  }

 private:
  static int serve(const broker::BrokerConfig& config) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    platform::EpollDriver driver;
    if (!driver.status().ok()) return kExitFailure;
    async::Executor executor(driver);
    Result<platform::KernelTcpListener> listener =
        config.listen_mqtt ? platform::KernelTcpListener::listen(driver, config.listen)
                           : Result<platform::KernelTcpListener>(platform::KernelTcpListener());
    if (!listener.ok()) {
      MOTE_LOG_ERROR("broker: cannot listen on port %u: %s",
                     static_cast<unsigned>(config.listen.port), listener.status().str());
      return kExitFailure;
    }
    Result<std::unique_ptr<BrokerOnKernel>> running =
        BrokerOnKernel::open(config, std::move(*listener));
    if (!running.ok()) {
      MOTE_LOG_ERROR("broker: cannot start: %s", running.status().str());
      return kExitFailure;
    }
    std::list<WebSocketListener> websockets;
    if (!open_websocket_listeners(driver, config, **running, websockets).ok()) return kExitFailure;
    StopSignals signals;
    async::TaskStorage<1024> stop_storage;
    Status started = signals.open(driver);
    if (started.ok()) started = (*running)->start(executor);
    for (WebSocketListener& websocket : websockets) {
      if (started.ok()) started = websocket.server->start(executor);
    }
    if (started.ok()) {
      started = executor.spawn(stop_storage, wait_for_stop, std::ref(signals.watch()),
                               std::ref(**running), std::ref(websockets));
    }
    if (!started.ok()) {
      MOTE_LOG_ERROR("broker: cannot start: %s", started.str());
      for (WebSocketListener& websocket : websockets) websocket.server->stop();
      (*running)->stop();
      return kExitFailure;
    }
    for (const WebSocketListener& websocket : websockets) {
      std::printf("mote broker listening on %s (MQTT over WebSocket)\n",
                  endpoint_text(websocket.listener.local_endpoint()).c_str());
    }
    if (config.listen_mqtt) {
      std::printf("mote broker listening on %s\n",
                  endpoint_text((*running)->listener().local_endpoint()).c_str());
    }
    const Status ran = executor.run();
    for (WebSocketListener& websocket : websockets) websocket.server->stop();
    (*running)->stop();
    stop_storage.cancel();
    return ran.ok() ? kExitOk : kExitFailure;
  }

  std::int64_t port_ = -1;
  std::string config_path_;
  std::string data_dir_;
  std::string bind_;
  bool verbose_ = false;
};

}  // namespace

std::unique_ptr<Command> make_broker_command() { return std::make_unique<BrokerCommand>(); }

}  // namespace mote::cli
