// `mote demo`: the whole system on one machine.
//
//   mote demo ──spawns──> mote gateway      MQTT :1883, CoAP :5683/udp, HTTP :8080
//             ├─spawns──> mote sensor kitchen  ─MQTT─┐
//             ├─spawns──> mote sensor garage   ─MQTT─┼─> gateway
//             ├─spawns──> mote sensor attic    ─CoAP─┘
//             └─spawns──> qemu-system-arm (firmware node, mps2-an385) ─CoAP via slirp─> gateway
//
// Every part is a child process running the real program a user would run
// by hand (`ps` shows each command line), not a copy of it inside the demo:
// what the demo shows is what the user deploys, a node can be killed on its
// own (and is then shown offline), and a crash in one part is one part's
// crash. The demo itself is a small supervisor on one executor: it relays
// each child's output with a label, watches each child's exit through a
// pidfd, and turns Ctrl-C or SIGTERM into an ordered stop: the nodes first
// (each says "offline" and sends what it buffered), then the gateway (its
// last batch stored, the broker's store committed).
#define MOTE_LOG_MODULE "demo"

#include "demo_system.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>
#include <vector>

#include "command.hpp"
#include "duration.hpp"
#include "mote/async/async.hpp"
#include "mote/gateway/firmware_node.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/w1_thermometer.hpp"
#include "spawned_process.hpp"
#include "stop_signals.hpp"

namespace mote::cli {
namespace {

using namespace std::chrono_literals;
using async::Duration;
using async::Task;

// How long a node may take to stop after SIGTERM (it says "offline" and
// disconnects), and the gateway (it stores its last batch).
constexpr Duration kNodeGrace = 5s;
constexpr Duration kGatewayGrace = 15s;
// How long the gateway may take to start listening.
constexpr Duration kGatewayStartLimit = 30s;

enum class Transport { mqtt, coap };

struct NodeSpec {
  const char* name;
  Transport transport;
};
// The firmware node's device name (and label).
constexpr const char* kFirmwareNode = "firmware";
constexpr NodeSpec kNodes[] = {
    {"kitchen", Transport::mqtt},
    {"garage", Transport::mqtt},
    {"attic", Transport::coap},
};

// --- where things are -------------------------------------------------------

std::filesystem::path own_executable() {
  std::error_code error;
  std::filesystem::path path = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::filesystem::path("mote") : path;
}

// $XDG_STATE_HOME/mote/demo, else ~/.local/state/mote/demo (the XDG base
// directory default), else ./mote-demo-data.
std::string default_data_dir() {
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && state[0] == '/') {
    return std::string(state) + "/mote/demo";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    return std::string(home) + "/.local/state/mote/demo";
  }
  return "mote-demo-data";
}

std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return {};
  std::string_view rest(path);
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = std::string(dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// The firmware node's image (docs/cli.md#the-firmware-node): --firmware,
// else the installed one beside this program, else the source tree's
// cortex-m3 build. Empty, with `why`, when there is none.
std::string find_firmware_image(const SystemDemoConfig& config, std::string& why) {
  std::error_code error;
  if (!config.firmware.empty()) {
    if (std::filesystem::is_regular_file(config.firmware, error)) return config.firmware;
    why = "no image at " + config.firmware;
    return {};
  }
  std::vector<std::filesystem::path> candidates{
      own_executable().parent_path().parent_path() /
      "share/mote/firmware/mps2_an385/sensor_node_net.elf"};
#ifdef MOTE_SOURCE_DIR
  candidates.emplace_back(std::filesystem::path(MOTE_SOURCE_DIR) /
                          "build/cortex-m3/firmware/sensor_node_net/sensor_node_net.elf");
#endif
  for (const std::filesystem::path& candidate : candidates) {
    if (std::filesystem::is_regular_file(candidate, error)) return candidate.string();
  }
  why =
      "no sensor_node_net image: `cmake --preset cortex-m3 && cmake --build --preset "
      "cortex-m3 --target sensor_node_net` builds it, or give --firmware";
  return {};
}

// --- ports ------------------------------------------------------------------

// Binds (and closes) the listener the gateway will need: "" when it is
// free, else what is wrong.
std::string check_port(const std::string& bind, std::int64_t port, int type) {
  sockaddr_storage address{};
  socklen_t size = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, bind.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    size = sizeof *v4;
  } else if (::inet_pton(AF_INET6, bind.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    size = sizeof *v6;
  } else {
    return "'" + bind + "' is not an IP address";
  }
  const int fd = ::socket(address.ss_family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::strerror(errno);
  const int one = 1;
  // As the gateway's listeners do: a port in TIME_WAIT is not "in use".
  if (type == SOCK_STREAM) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const int bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), size);
  const int bind_errno = errno;
  ::close(fd);
  if (bound == 0) return {};
  if (bind_errno == EADDRINUSE) return "in use by another program";
  if (bind_errno == EACCES) return "not allowed (ports below 1024 need privileges)";
  return std::strerror(bind_errno);
}

// The address nodes connect to: the bind address, or loopback when the
// gateway listens on every interface.
std::string connect_host(const std::string& bind) {
  if (bind == "0.0.0.0") return "127.0.0.1";
  if (bind == "::") return "[::1]";
  if (bind.find(':') != std::string::npos) return "[" + bind + "]";
  return bind;
}

const char* level_name(log::Level level) {
  switch (level) {
    case log::Level::debug: return "debug";
    case log::Level::info: return "info";
    case log::Level::warn: return "warn";
    case log::Level::error: return "error";
    case log::Level::off: return "off";
  }
  return "info";
}

// --- the demo -----------------------------------------------------------------

struct Demo {
  Demo(const SystemDemoConfig& c, platform::EpollDriver& d, async::Executor& e,
       platform::FdWatch& s)
      : config(c), driver(d), executor(e), signals(s) {}

  const SystemDemoConfig& config;
  platform::EpollDriver& driver;
  async::Executor& executor;
  platform::FdWatch& signals;
  std::string mote;      // this program
  std::string data_dir;  // absolute
  std::vector<std::string> w1_devices;

  SpawnedProcess gateway{"gateway"};
  async::Event gateway_ready;
  std::vector<std::unique_ptr<SpawnedProcess>> nodes;  // the firmware node last
  bool failed = false;
  async::Event stopping;  // the supervisor is stopping everything
  async::TaskStorage<std::size_t{16} * 1024> supervisor;
};

std::vector<std::string> mote_command(const Demo& demo, std::vector<std::string> args) {
  std::vector<std::string> argv{demo.mote};
  if (demo.config.log_level != log::Level::info) {
    argv.emplace_back("--log-level");
    argv.emplace_back(level_name(demo.config.log_level));
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string join(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& arg : argv) {
    if (!text.empty()) text += ' ';
    text += arg;
  }
  return text;
}

Task<int> on_signal(platform::FdWatch& signals) { co_return co_await next_signal(signals); }
Task<int> when_exited(SpawnedProcess& process) {
  co_await process.wait_for_exit();
  co_return 0;
}
Task<int> on_event(async::Event& event) {
  co_await event.wait();
  co_return 0;
}
// `duration`, or forever (until cancelled) when it is zero.
Task<int> run_time(Duration duration, async::Event& never) {
  if (duration == Duration::zero()) co_await never.wait();
  co_await async::sleep_for(duration);
  co_return 0;
}

// 0: the gateway listens; 1: it exited; 2: a signal came (in `signal`).
Task<int> gateway_started(Demo& demo, int& signal) {
  auto first = co_await async::select(on_event(demo.gateway_ready), when_exited(demo.gateway),
                                      on_signal(demo.signals));
  if (first.index() == 2) signal = std::get<2>(first);
  co_return static_cast<int>(first.index());
}

// Starts the gateway and waits until it listens. False when it failed or a
// signal came first (then `signal` is set).
Task<bool> start_gateway(Demo& demo, int& signal) {
  const SystemDemoConfig& config = demo.config;
  const std::vector<std::string> argv = mote_command(
      demo,
      {"gateway", "--data-dir", demo.data_dir, "--bind", config.bind, "--mqtt-port",
       std::to_string(config.mqtt_port), "--http-port", std::to_string(config.http_port),
       "--coap-port", std::to_string(config.coap_port), "--silent-after",
       std::to_string(std::max<std::int64_t>(
           10, std::chrono::duration_cast<std::chrono::seconds>(config.interval * 5).count()))});
  // Its banner, which starts with the dashboard's URL, comes once every
  // listener is bound.
  demo.gateway.on_stdout_line([&demo](std::string_view line) {
    if (line.starts_with("  dashboard  ")) demo.gateway_ready.set();
  });
  Status started = demo.gateway.spawn(demo.driver, argv, /*keep_stop_signals_blocked=*/true);
  if (started.ok()) started = demo.gateway.start_tasks(demo.executor);
  if (!started.ok()) {
    MOTE_LOG_ERROR("cannot start %s: %s", demo.mote.c_str(), started.str());
    co_return false;
  }
  std::printf("mote demo: gateway (pid %d): %s\n", static_cast<int>(demo.gateway.pid()),
              join(argv).c_str());
  const Result<int> first =
      co_await async::with_timeout(kGatewayStartLimit, gateway_started(demo, signal));
  if (!first.ok()) {
    MOTE_LOG_ERROR("the gateway did not start listening within %s",
                   format_duration(kGatewayStartLimit).c_str());
    co_return false;
  }
  if (*first == 1) {
    MOTE_LOG_ERROR("the gateway stopped (%s) before it listened; its lines above say why",
                   demo.gateway.describe_exit().c_str());
  }
  // The rest of its banner comes out before the nodes' first lines.
  if (*first == 0) co_await async::sleep_for(200ms);
  co_return *first == 0;
}

// `is_mote`: a `mote` command, which takes SIGINT/SIGTERM from a signalfd.
void start_node(Demo& demo, const std::string& label, const std::vector<std::string>& argv,
                const std::string& what, bool is_mote) {
  auto node = std::make_unique<SpawnedProcess>(label);
  // A node that ends while the system runs (killed, crashed): the rest go
  // on, and the gateway shows it offline.
  node->on_exited([&demo](const SpawnedProcess& process) {
    if (demo.stopping.is_set()) return;
    std::printf("mote demo: node %s ended (%s); the others go on\n", process.label().c_str(),
                process.describe_exit().c_str());
  });
  Status started = node->spawn(demo.driver, argv, is_mote);
  if (started.ok()) started = node->start_tasks(demo.executor);
  if (!started.ok()) {
    MOTE_LOG_ERROR("cannot start %s: %s", label.c_str(), started.str());
    return;
  }
  std::printf("  node %-9s pid %-7d %s\n", label.c_str(), static_cast<int>(node->pid()),
              what.c_str());
  demo.nodes.push_back(std::move(node));
}

void start_sensor_nodes(Demo& demo) {
  const SystemDemoConfig& config = demo.config;
  const std::string host = connect_host(config.bind);
  if (demo.w1_devices.empty()) {
    std::printf("mote demo: sensors: simulated DS18B20s (no 1-Wire thermometer under %s)\n",
                config.w1_dir.c_str());
  } else {
    std::printf(
        "mote demo: sensors: %s reads %zu DS18B20 through the kernel's w1 driver (%s); "
        "the others are simulated\n",
        kNodes[0].name, demo.w1_devices.size(), config.w1_dir.c_str());
  }
  bool first = true;
  for (const NodeSpec& spec : kNodes) {
    const bool real = first && !demo.w1_devices.empty();
    first = false;
    std::vector<std::string> args{"sensor", "--name", spec.name, "--interval",
                                  format_duration(config.interval)};
    if (spec.transport == Transport::mqtt) {
      args.insert(args.end(), {"--mqtt", host + ":" + std::to_string(config.mqtt_port)});
    } else {
      args.insert(args.end(), {"--coap", host + ":" + std::to_string(config.coap_port)});
    }
    if (real) {
      args.insert(args.end(), {"--w1-dir", config.w1_dir});
    } else {
      args.emplace_back("--simulate");
    }
    const std::vector<std::string> argv = mote_command(demo, args);
    start_node(demo, spec.name, argv,
               std::string(spec.transport == Transport::mqtt ? "MQTT" : "CoAP") + ", " +
                   (real ? "real DS18B20" : "simulated DS18B20") + ": " + join(argv),
               true);
  }
}

// QEMU's user-mode network (slirp) gives the guest 10.0.2.15 by DHCP and
// maps 10.0.2.2 to the host's loopback, where the gateway listens.
void start_firmware_node(Demo& demo) {
  const SystemDemoConfig& config = demo.config;
  if (config.no_firmware) {
    std::printf("  firmware node: skipped (--no-firmware)\n");
    return;
  }
  const std::string qemu = find_on_path("qemu-system-arm");
  if (qemu.empty()) {
    std::printf(
        "  firmware node: skipped (qemu-system-arm is not installed; scripts/setup "
        "installs it)\n");
    return;
  }
  std::string why;
  const std::string image = find_firmware_image(config, why);
  if (image.empty()) {
    std::printf("  firmware node: skipped (%s)\n", why.c_str());
    return;
  }
  if (config.bind != "127.0.0.1" && config.bind != "0.0.0.0") {
    std::printf(
        "  firmware node: skipped (it reaches the gateway through the host's 127.0.0.1; "
        "--bind is %s)\n",
        config.bind.c_str());
    return;
  }
  // The image's command line: the gateway's MQTT endpoint as the guest
  // sees it, its name, its pace.
  const std::vector<std::string> argv = gateway::firmware_node_qemu_argv(
      qemu, image,
      gateway::firmware_node_command_line(
          {.transport = gateway::FirmwareNodeOptions::Transport::mqtt,
           .port = static_cast<std::uint16_t>(config.mqtt_port),
           .device = kFirmwareNode,
           .interval = std::chrono::duration_cast<std::chrono::milliseconds>(config.interval),
           .count = std::nullopt}));
  start_node(demo, "firmware", argv, "MQTT over mote's TCP/IP stack in QEMU: " + join(argv), false);
}

// SIGTERM to every node at once, then each is waited for (SIGKILL after
// kNodeGrace); then the gateway.
Task<void> stop_everything(Demo& demo) {
  std::vector<bool> running;
  for (auto& node : demo.nodes) {
    running.push_back(!node->exited());
    node->send_signal(SIGTERM);
  }
  for (std::size_t i = 0; i < demo.nodes.size(); ++i) {
    SpawnedProcess& node = *demo.nodes[i];
    co_await node.stop(kNodeGrace);
    if (running[i]) {
      std::printf("mote demo: node %s stopped (%s)\n", node.label().c_str(),
                  node.describe_exit().c_str());
    }
  }
  if (!demo.gateway.exited()) {
    co_await demo.gateway.stop(kGatewayGrace);
    std::printf("mote demo: gateway stopped (%s)\n", demo.gateway.describe_exit().c_str());
    if (!demo.gateway.succeeded()) demo.failed = true;
  }
}

Task<void> supervise(Demo& demo) {
  int signal = 0;
  if (!co_await start_gateway(demo, signal)) {
    if (signal != 0) MOTE_LOG_INFO("%s received: stopping", signal_name(signal));
    co_await demo.gateway.stop(kGatewayGrace);
    demo.failed = signal == 0;
    co_return;
  }
  const SystemDemoConfig& config = demo.config;
  const std::string dashboard =
      config.bind == "127.0.0.1" || config.bind == "0.0.0.0" || config.bind == "::"
          ? "http://localhost:" + std::to_string(config.http_port) + "/"
          : "http://" + connect_host(config.bind) + ":" + std::to_string(config.http_port) + "/";
  start_sensor_nodes(demo);
  start_firmware_node(demo);
  std::printf(
      "\nmote demo: the system is up\n"
      "  dashboard  %s\n"
      "  MQTT       %s:%lld    CoAP %s:%lld (udp)\n"
      "  data       %s\n"
      "  Ctrl-C stops the nodes, then the gateway%s\n\n",
      dashboard.c_str(), connect_host(config.bind).c_str(),
      static_cast<long long>(config.mqtt_port), connect_host(config.bind).c_str(),
      static_cast<long long>(config.coap_port), demo.data_dir.c_str(),
      config.duration == Duration::zero()
          ? ""
          : ("; it stops by itself after " + format_duration(config.duration)).c_str());
  std::fflush(stdout);

  async::Event never;
  auto why = co_await async::select(on_signal(demo.signals), run_time(config.duration, never),
                                    when_exited(demo.gateway));
  switch (why.index()) {
    case 0:
      MOTE_LOG_INFO("%s received: stopping the nodes, then the gateway",
                    signal_name(std::get<0>(why)));
      break;
    case 1:
      MOTE_LOG_INFO("%s passed: stopping the nodes, then the gateway",
                    format_duration(config.duration).c_str());
      break;
    default:
      MOTE_LOG_ERROR("the gateway stopped (%s): stopping the nodes",
                     demo.gateway.describe_exit().c_str());
      demo.failed = true;
      break;
  }
  demo.stopping.set();
  co_await stop_everything(demo);
}

}  // namespace

int run_system_demo(const SystemDemoConfig& config) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // Every listener the gateway needs, checked before anything starts.
  struct Listener {
    const char* what;
    std::int64_t port;
    int type;
    const char* flag;
  };
  bool ports_free = true;
  for (const Listener& listener :
       {Listener{"MQTT", config.mqtt_port, SOCK_STREAM, "--mqtt-port"},
        Listener{"HTTP (dashboard)", config.http_port, SOCK_STREAM, "--http-port"},
        Listener{"CoAP", config.coap_port, SOCK_DGRAM, "--coap-port"}}) {
    const std::string problem = check_port(config.bind, listener.port, listener.type);
    if (!problem.empty()) {
      std::fprintf(stderr, "mote demo: %s port %lld/%s on %s: %s; choose another with %s\n",
                   listener.what, static_cast<long long>(listener.port),
                   listener.type == SOCK_STREAM ? "tcp" : "udp", config.bind.c_str(),
                   problem.c_str(), listener.flag);
      ports_free = false;
    }
  }
  if (!ports_free) return kExitFailure;

  std::error_code error;
  const std::string data_dir = config.data_dir.empty() ? default_data_dir() : config.data_dir;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    std::fprintf(stderr, "mote demo: cannot create the data directory %s: %s\n", data_dir.c_str(),
                 error.message().c_str());
    return kExitFailure;
  }

  platform::EpollDriver driver;
  StopSignals signals;
  if (!prepare_to_run(driver, signals)) return kExitFailure;
  async::Executor executor(driver);
  Demo demo(config, driver, executor, signals.watch());
  demo.mote = own_executable().string();
  demo.data_dir = std::filesystem::absolute(data_dir, error).string();
  demo.w1_devices = platform::W1Thermometer::discover(config.w1_dir);
  std::printf("mote demo: data in %s\n", demo.data_dir.c_str());

  if (const Status spawned = executor.spawn(demo.supervisor, supervise, std::ref(demo));
      !spawned.ok()) {
    MOTE_LOG_ERROR("cannot start: %s", spawned.str());
    return kExitFailure;
  }
  const Status ran = executor.run();
  if (!ran.ok()) {
    MOTE_LOG_ERROR("stopped early: %s", ran.str());
    return kExitFailure;
  }
  std::printf("mote demo: stopped%s\n", demo.failed ? " (with errors, see above)" : "");
  return demo.failed ? kExitFailure : kExitOk;
}

}  // namespace mote::cli
