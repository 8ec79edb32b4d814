// `mote broker [-p PORT] [-c CONFIG] [-d DIR] [-v]`: runs the MQTT broker
// until SIGINT or SIGTERM. The config file takes mosquitto's common lines
// (see broker/include/mote/broker/config.hpp and docs/broker.md); -p and -d
// override what it says.

#include "broker_command.hpp"

#include <cstdio>
#include <string>

#include "mote/async/async.hpp"
#include "mote/base/log.hpp"
#include "mote/broker/broker.hpp"
#include "mote/broker/config.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "stop_signals.hpp"

namespace mote::cli {
namespace {

using BrokerOnKernel = broker::Broker<platform::KernelTcpListener>;

async::Task<void> wait_for_stop(platform::FdWatch& signals, BrokerOnKernel& running) {
  const int signal = co_await next_signal(signals);
  MOTE_LOG_INFO("broker: stopping (%s)", signal_name(signal));
  running.stop();
}

class BrokerCommand final : public Command {
 public:
  [[nodiscard]] const char* name() const override { return "broker"; }
  [[nodiscard]] const char* summary() const override { return "Run the MQTT 3.1.1 / 5.0 broker"; }
  [[nodiscard]] const char* description() const override {
    return "Runs the MQTT broker until Ctrl-C. The config file takes mosquitto's common lines\n"
           "(listener, allow_anonymous, password_file, acl_file, persistence_location,\n"
           "max_connections, message_size_limit, max_queued_messages, ...). With a data\n"
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
    if (port_ >= 0) config.listen.port = static_cast<std::uint16_t>(port_);
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
        platform::KernelTcpListener::listen(driver, config.listen);
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
    StopSignals signals;
    async::TaskStorage<1024> stop_storage;
    Status started = signals.open(driver);
    if (started.ok()) started = (*running)->start(executor);
    if (started.ok()) {
      started = executor.spawn(stop_storage, wait_for_stop, std::ref(signals.watch()),
                               std::ref(**running));
    }
    if (!started.ok()) {
      MOTE_LOG_ERROR("broker: cannot start: %s", started.str());
      (*running)->stop();
      return kExitFailure;
    }
    const Result<io::Endpoint> local = (*running)->listener().local_endpoint();
    char text[io::Endpoint::kMaxTextLen + 1] = {};
    if (local.ok()) {
      const Result<std::size_t> n = local->format(std::span<char>(text, sizeof text - 1));
      if (!n.ok()) text[0] = '\0';
    }
    std::printf("mote broker listening on %s\n", text);
    const Status ran = executor.run();
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
